using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Basalt.Server.Persistence.Rdb;

/// <summary>
/// RDB reader over a stream or a byte array: length and string encodings (integer, LZF), numbers, with
/// bounds checks everywhere; malformed input throws <see cref="RdbFormatException"/> (never an index or OOM crash).
/// </summary>
public sealed class RdbInput
{
    // Largest single allocation we make without seeing the bytes first (streams of unknown length read in chunks).
    private const int ChunkLimit = 1 << 20;
    // Not proto-max-bulk-len: SETBIT/BITFIELD/SETRANGE may end a string a few bytes past 512 MB, and Redis saves and
    // loads such values; only what an array can hold is refused.
    private const long MaxStringLength = 0x7FFFFFC7; // Array.MaxLength

    private readonly Stream? _src;
    private byte[] _buf;
    private int _pos, _end;
    private long _base;            // absolute position of _buf[0]
    private ulong _crc;            // CRC64 of bytes consumed before _crcFrom
    private int _crcFrom;
    private bool _srcDone;
    private readonly long _srcEnd = -1;   // length of a seekable source minus where we started, else -1

    public RdbInput(Stream source)
    {
        _src = source;
        _buf = new byte[64 * 1024];
        if (source.CanSeek)
        {
            try { _srcEnd = source.Length - source.Position; }
            catch (NotSupportedException) { _srcEnd = -1; }
        }
    }

    public RdbInput(byte[] data, int offset, int count)
    {
        if ((uint)offset > (uint)data.Length || (uint)count > (uint)(data.Length - offset))
            throw new ArgumentOutOfRangeException(nameof(count));
        _buf = data;
        _pos = offset;
        _crcFrom = offset;
        _end = offset + count;
        _base = -offset;
        _srcDone = true;
    }

    /// <summary>Bytes consumed so far (for error messages that point at the offset).</summary>
    public long Position => _base + _pos;

    /// <summary>CRC64 of every byte consumed so far.</summary>
    public ulong Crc
    {
        get
        {
            _crc = Crc64.Update(_crc, _buf.AsSpan(_crcFrom, _pos - _crcFrom));
            _crcFrom = _pos;
            return _crc;
        }
    }

    /// <summary>An upper bound of the bytes left (exact for arrays and seekable streams; long.MaxValue if unknown).</summary>
    public long Remaining
    {
        get
        {
            if (_src == null || _srcDone) return _end - _pos;
            // Known length: everything not consumed yet (bytes read from the source are _base + _end).
            return _srcEnd >= 0 ? Math.Max(_end - _pos, _srcEnd - Position) : long.MaxValue;
        }
    }

    public RdbFormatException Error(string what) => new($"{what} at offset {Position}");

    public byte ReadByte()
    {
        if (_pos == _end && !Fill()) throw Error("Unexpected end of data");
        return _buf[_pos++];
    }

    public void ReadExactly(Span<byte> into)
    {
        while (into.Length > 0)
        {
            if (_pos == _end && !Fill()) throw Error("Unexpected end of data");
            int n = Math.Min(into.Length, _end - _pos);
            _buf.AsSpan(_pos, n).CopyTo(into);
            _pos += n;
            into = into[n..];
        }
    }

    /// <summary>Reads <paramref name="count"/> bytes into a new array, never allocating far beyond what the input holds.</summary>
    public byte[] ReadBytes(long count)
    {
        if (count < 0 || count > MaxStringLength || count > Remaining) throw Error($"Length {count} exceeds the data");
        int n = (int)count;
        if (n <= ChunkLimit || Remaining != long.MaxValue)
        {
            var a = new byte[n];
            ReadExactly(a);
            return a;
        }
        // Unknown remaining length: grow as the bytes really arrive, so a corrupt length cannot force a huge allocation.
        var ms = new MemoryStream();
        var chunk = new byte[ChunkLimit];
        long left = n;
        while (left > 0)
        {
            int k = (int)Math.Min(left, chunk.Length);
            ReadExactly(chunk.AsSpan(0, k));
            ms.Write(chunk, 0, k);
            left -= k;
        }
        return ms.ToArray();
    }

    public void Skip(long count)
    {
        if (count < 0 || count > Remaining) throw Error($"Length {count} exceeds the data");
        while (count > 0)
        {
            if (_pos == _end && !Fill()) throw Error("Unexpected end of data");
            int n = (int)Math.Min(count, _end - _pos);
            _pos += n;
            count -= n;
        }
    }

    private bool Fill()
    {
        if (_src == null || _srcDone) return false;
        _crc = Crc64.Update(_crc, _buf.AsSpan(_crcFrom, _pos - _crcFrom));
        _base += _pos;
        int keep = _end - _pos;
        if (keep > 0) Buffer.BlockCopy(_buf, _pos, _buf, 0, keep);
        _pos = 0; _end = keep; _crcFrom = 0;
        int r = _src.Read(_buf, _end, _buf.Length - _end);
        if (r <= 0) { _srcDone = true; return _end > 0; }
        _end += r;
        return true;
    }

    /// <summary>A length; <paramref name="encoded"/> is true for the special (integer/LZF) string encodings.</summary>
    public ulong ReadLength(out bool encoded)
    {
        encoded = false;
        byte b = ReadByte();
        switch (b >> 6)
        {
            case 0: return (ulong)(b & 0x3f);
            case 1: return (ulong)(((b & 0x3f) << 8) | ReadByte());
            case 3: encoded = true; return (ulong)(b & 0x3f);
        }
        Span<byte> x = stackalloc byte[8];
        if (b == RdbConstants.Len32) { ReadExactly(x[..4]); return BinaryPrimitives.ReadUInt32BigEndian(x); }
        if (b == RdbConstants.Len64) { ReadExactly(x); return BinaryPrimitives.ReadUInt64BigEndian(x); }
        throw Error($"Unknown length encoding {b}");
    }

    /// <summary>A plain length (no special encoding).</summary>
    public ulong ReadLength()
    {
        ulong len = ReadLength(out bool enc);
        if (enc) throw Error("Unexpected encoded length");
        return len;
    }

    /// <summary>A length that must fit in an int and is plausible for the remaining input.</summary>
    public int ReadCount()
    {
        ulong len = ReadLength();
        // Every counted item takes at least one byte, so more items than bytes left is corrupt.
        if (len > int.MaxValue || len > (ulong)Remaining) throw Error($"Implausible count {len}");
        return (int)len;
    }

    public byte[] ReadString()
    {
        ulong len = ReadLength(out bool enc);
        if (!enc) return ReadBytes(len > long.MaxValue ? -1 : (long)len);
        switch (len)
        {
            case 0: return Ascii((sbyte)ReadByte());
            case 1: { Span<byte> x = stackalloc byte[2]; ReadExactly(x); return Ascii(BinaryPrimitives.ReadInt16LittleEndian(x)); }
            case 2: { Span<byte> x = stackalloc byte[4]; ReadExactly(x); return Ascii(BinaryPrimitives.ReadInt32LittleEndian(x)); }
            case 3: return ReadLzf();
            default: throw Error($"Unknown string encoding {len}");
        }
    }

    /// <summary>A string object holding an integer (aux fields, etc.): integer encodings or decimal text.</summary>
    public bool TryReadStringAsInt64(out long value, out byte[] raw)
    {
        raw = ReadString();
        return Basalt.Protocol.RespNumbers.TryParseInt64(raw, out value);
    }

    private static byte[] Ascii(long v) => Encoding.ASCII.GetBytes(v.ToString(CultureInfo.InvariantCulture));

    private byte[] ReadLzf()
    {
        ulong clen = ReadLength(), len = ReadLength();
        // A 3-byte back reference expands to at most 264 bytes; anything claiming more is corrupt.
        if (clen == 0 || clen > (ulong)Remaining || len > (ulong)MaxStringLength || len > clen * 90 + 64)
            throw Error("Bad LZF lengths");
        var packed = ReadBytes((long)clen);
        var outp = new byte[len];
        int got = Lzf.Decompress(packed, outp);
        if (got != (int)len) throw Error("Bad LZF data");
        return outp;
    }

    public uint ReadUInt32LE()
    {
        Span<byte> x = stackalloc byte[4];
        ReadExactly(x);
        return BinaryPrimitives.ReadUInt32LittleEndian(x);
    }

    public ulong ReadUInt64LE()
    {
        Span<byte> x = stackalloc byte[8];
        ReadExactly(x);
        return BinaryPrimitives.ReadUInt64LittleEndian(x);
    }

    public double ReadBinaryDouble() => BitConverter.Int64BitsToDouble((long)ReadUInt64LE());

    /// <summary>The old text double (length byte, 253 nan, 254 +inf, 255 -inf), used by RDB_TYPE_ZSET.</summary>
    public double ReadTextDouble()
    {
        byte len = ReadByte();
        switch (len)
        {
            case 253: return double.NaN;
            case 254: return double.PositiveInfinity;
            case 255: return double.NegativeInfinity;
        }
        Span<byte> text = stackalloc byte[255];
        ReadExactly(text[..len]);
        if (!Types.ZNumbers.TryStrtod(text[..len], allowLeadingSpace: true, strict: false, out double d))
            throw Error("Bad text double");
        return d;
    }
}
