using System.Buffers.Binary;
using System.Buffers.Text;

namespace Basalt.Server.Types;

/// <summary>A stream entry ID: unsigned milliseconds and sequence, ordered as a pair.</summary>
public readonly record struct StreamId(ulong Ms, ulong Seq) : IComparable<StreamId>
{
    public static readonly StreamId Zero = new(0, 0);
    public static readonly StreamId Max = new(ulong.MaxValue, ulong.MaxValue);

    public int CompareTo(StreamId other)
    {
        int c = Ms.CompareTo(other.Ms);
        return c != 0 ? c : Seq.CompareTo(other.Seq);
    }

    public static bool operator <(StreamId a, StreamId b) => a.CompareTo(b) < 0;
    public static bool operator >(StreamId a, StreamId b) => a.CompareTo(b) > 0;
    public static bool operator <=(StreamId a, StreamId b) => a.CompareTo(b) <= 0;
    public static bool operator >=(StreamId a, StreamId b) => a.CompareTo(b) >= 0;

    public bool IsZero => Ms == 0 && Seq == 0;

    /// <summary>The next ID, or false at the very last one.</summary>
    public bool TryIncrement(out StreamId next)
    {
        if (Seq != ulong.MaxValue) { next = new(Ms, Seq + 1); return true; }
        if (Ms != ulong.MaxValue) { next = new(Ms + 1, 0); return true; }
        next = this;
        return false;
    }

    public bool TryDecrement(out StreamId prev)
    {
        if (Seq != 0) { prev = new(Ms, Seq - 1); return true; }
        if (Ms != 0) { prev = new(Ms - 1, ulong.MaxValue); return true; }
        prev = this;
        return false;
    }

    /// <summary>"ms-seq" into <paramref name="dest"/> (at least 41 bytes); returns the length.</summary>
    public int Format(Span<byte> dest)
    {
        Utf8Formatter.TryFormat(Ms, dest, out int n);
        dest[n++] = (byte)'-';
        Utf8Formatter.TryFormat(Seq, dest[n..], out int m);
        return n + m;
    }

    public override string ToString() => $"{Ms}-{Seq}";

    /// <summary>Big-endian 16 bytes: the radix tree key Redis uses, whose byte order is the ID order.</summary>
    public void WriteKey(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt64BigEndian(dest, Ms);
        BinaryPrimitives.WriteUInt64BigEndian(dest[8..], Seq);
    }

    /// <summary>
    /// Parses an ID as stream commands do: "ms-seq", or "ms" alone (seq = <paramref name="missingSeq"/>).
    /// Unless <paramref name="strict"/>, "-" and "+" are the smallest and largest IDs. When
    /// <paramref name="allowSeqStar"/>, "ms-*" parses with <paramref name="seqGiven"/> false.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> s, ulong missingSeq, bool strict, bool allowSeqStar, out StreamId id, out bool seqGiven)
    {
        id = Zero;
        seqGiven = true;
        if (s.Length > 127) return false;
        if (s.Length == 1 && !strict)
        {
            if (s[0] == '-') { id = Zero; return true; }
            if (s[0] == '+') { id = Max; return true; }
        }
        int dash = s.IndexOf((byte)'-');
        var msPart = dash < 0 ? s : s[..dash];
        if (!TryParseUnsigned(msPart, out ulong ms)) return false;
        ulong seq;
        if (dash < 0) seq = missingSeq;
        else
        {
            var seqPart = s[(dash + 1)..];
            if (allowSeqStar && seqPart.Length == 1 && seqPart[0] == '*') { seq = 0; seqGiven = false; }
            else if (!TryParseUnsigned(seqPart, out seq)) return false;
        }
        id = new StreamId(ms, seq);
        return true;
    }

    /// <summary>
    /// Redis's string2ull: a strict signed 64-bit integer that is not negative, else what C's strtoull
    /// accepts over the whole string (leading spaces, a sign, no overflow).
    /// </summary>
    public static bool TryParseUnsigned(ReadOnlySpan<byte> s, out ulong value)
    {
        if (Basalt.Protocol.RespNumbers.TryParseInt64(s, out long l))
        {
            value = (ulong)l;
            return l >= 0;
        }
        value = 0;
        int i = 0;
        while (i < s.Length && s[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') i++;
        bool neg = false;
        if (i < s.Length && s[i] is (byte)'+' or (byte)'-') { neg = s[i] == '-'; i++; }
        int start = i;
        ulong v = 0;
        for (; i < s.Length; i++)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9) return false;
            if (v > (ulong.MaxValue - d) / 10) return false;
            v = v * 10 + d;
        }
        if (i == start || s.Length == 0) return false;
        value = neg ? unchecked(0 - v) : v;
        return true;
    }
}
