using System.Buffers.Binary;
using Basalt.Protocol;

namespace Basalt.Server.Persistence.Rdb.Encodings;

/// <summary>One listpack element: an integer, or a string when <see cref="Str"/> is set.</summary>
public readonly struct ListpackEntry
{
    public readonly byte[]? Str;
    public readonly long Int;

    public ListpackEntry(byte[] s) { Str = s; Int = 0; }
    public ListpackEntry(long v) { Str = null; Int = v; }

    public bool IsInt => Str is null;

    /// <summary>The element as Redis would reply it: integers as decimal text.</summary>
    public byte[] ToBytes() => Str ?? System.Text.Encoding.ASCII.GetBytes(Int.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The element as an integer (strings must be canonical integers); false otherwise.</summary>
    public bool TryGetInt(out long v)
    {
        if (Str is null) { v = Int; return true; }
        return RespNumbers.TryParseInt64(Str, out v);
    }
}

/// <summary>Redis's listpack blob: total bytes, count, entries with back-lengths, 0xFF end.</summary>
public static class Listpack
{
    public const int HeaderSize = 6;
    public const int UnknownCount = 65535;

    /// <summary>All entries in order; integer entries come back as their decimal text.</summary>
    public static List<byte[]> Decode(ReadOnlySpan<byte> blob)
    {
        var entries = Read(blob);
        var list = new List<byte[]>(entries.Count);
        foreach (var e in entries) list.Add(e.ToBytes());
        return list;
    }

    /// <summary>All entries in order, integers kept as integers. Validates the whole blob like Redis's deep integrity check.</summary>
    public static List<ListpackEntry> Read(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < HeaderSize + 1) throw Bad("listpack shorter than its header");
        uint total = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (total != (uint)blob.Length) throw Bad("listpack total bytes mismatch");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(blob[4..]);
        if (blob[^1] != 0xFF) throw Bad("listpack without end marker");
        // Each entry takes at least 2 bytes, which bounds the list capacity by the input size.
        var list = new List<ListpackEntry>(Math.Min(count == UnknownCount ? 16 : count, (blob.Length - 7) / 2 + 1));
        int p = HeaderSize;
        int end = blob.Length - 1;
        while (p < end)
        {
            int start = p;
            byte b = blob[p];
            ListpackEntry e;
            int dataLen;
            if (b < 0x80) { e = new ListpackEntry(b); dataLen = 1; }
            else if ((b & 0xC0) == 0x80)
            {
                int len = b & 0x3F;
                e = new ListpackEntry(Take(blob, p + 1, len, end).ToArray());
                dataLen = 1 + len;
            }
            else if ((b & 0xE0) == 0xC0)
            {
                Need(p, 2, end);
                int v = ((b & 0x1F) << 8) | blob[p + 1];
                if (v >= 1 << 12) v -= 1 << 13;
                e = new ListpackEntry(v);
                dataLen = 2;
            }
            else if ((b & 0xF0) == 0xE0)
            {
                Need(p, 2, end);
                int len = ((b & 0x0F) << 8) | blob[p + 1];
                e = new ListpackEntry(Take(blob, p + 2, len, end).ToArray());
                dataLen = 2 + len;
            }
            else
            {
                switch (b)
                {
                    case 0xF0:
                    {
                        Need(p, 5, end);
                        uint len = BinaryPrimitives.ReadUInt32LittleEndian(blob[(p + 1)..]);
                        if (len > (uint)(end - p - 5)) throw Bad("listpack string runs past the end");
                        e = new ListpackEntry(blob.Slice(p + 5, (int)len).ToArray());
                        dataLen = 5 + (int)len;
                        break;
                    }
                    case 0xF1:
                        Need(p, 3, end);
                        e = new ListpackEntry(BinaryPrimitives.ReadInt16LittleEndian(blob[(p + 1)..]));
                        dataLen = 3;
                        break;
                    case 0xF2:
                    {
                        Need(p, 4, end);
                        int v = blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16);
                        if (v >= 1 << 23) v -= 1 << 24;
                        e = new ListpackEntry(v);
                        dataLen = 4;
                        break;
                    }
                    case 0xF3:
                        Need(p, 5, end);
                        e = new ListpackEntry(BinaryPrimitives.ReadInt32LittleEndian(blob[(p + 1)..]));
                        dataLen = 5;
                        break;
                    case 0xF4:
                        Need(p, 9, end);
                        e = new ListpackEntry(BinaryPrimitives.ReadInt64LittleEndian(blob[(p + 1)..]));
                        dataLen = 9;
                        break;
                    case 0xFF:
                        throw Bad("listpack end marker before the end");
                    default:
                        throw Bad("listpack entry with an unknown encoding");
                }
            }
            p = start + dataLen;
            int backSize = BacklenSize((ulong)dataLen);
            Need(p, backSize, end);
            if (DecodeBacklen(blob, p + backSize - 1, p) != (ulong)dataLen) throw Bad("listpack back-length mismatch");
            p += backSize;
            list.Add(e);
        }
        if (p != end) throw Bad("listpack entries overrun the end");
        if (count != UnknownCount && count != list.Count) throw Bad("listpack count mismatch");
        return list;
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> blob, int at, int len, int end)
    {
        if (at > end || len > end - at) throw Bad("listpack string runs past the end");
        return blob.Slice(at, len);
    }

    private static void Need(int p, int n, int end)
    {
        if (n > end - p) throw Bad("listpack entry runs past the end");
    }

    /// <summary>Reads a back-length whose last byte is at <paramref name="last"/>, going left, never below <paramref name="floor"/>.</summary>
    private static ulong DecodeBacklen(ReadOnlySpan<byte> blob, int last, int floor)
    {
        ulong v = 0;
        int shift = 0;
        for (int q = last; q >= floor; q--)
        {
            v |= (ulong)(blob[q] & 0x7F) << shift;
            if ((blob[q] & 0x80) == 0) return q == floor ? v : ulong.MaxValue;
            shift += 7;
        }
        return ulong.MaxValue;
    }

    internal static int BacklenSize(ulong l) =>
        l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;

    /// <summary>Writes the back-length of an entry of <paramref name="l"/> bytes: most significant group first, all but the first byte flagged.</summary>
    internal static int WriteBacklen(Span<byte> dest, ulong l)
    {
        int n = BacklenSize(l);
        for (int i = n - 1; i >= 0; i--)
        {
            dest[i] = (byte)((l & 0x7F) | (i == 0 ? 0u : 0x80u));
            l >>= 7;
        }
        return n;
    }

    private static RdbFormatException Bad(string what) => new(what);
}

/// <summary>Builds a listpack; strings that are canonical integers are stored with the integer encodings, as Redis does.</summary>
public sealed class ListpackBuilder
{
    private byte[] _buf;
    private int _len = Listpack.HeaderSize;
    private int _count;

    public ListpackBuilder(int capacity = 64) => _buf = new byte[Math.Max(capacity, 16)];

    public int Count => _count;

    /// <summary>Bytes the finished listpack will take.</summary>
    public int ByteSize => _len + 1;

    public void Append(ReadOnlySpan<byte> element)
    {
        if (element.Length <= 20 && RespNumbers.TryParseInt64(element, out long v))
        {
            Append(v);
            return;
        }
        int len = element.Length;
        int head = len < 64 ? 1 : len < 4096 ? 2 : 5;
        int dataLen = head + len;
        Ensure(dataLen + 5);
        var d = _buf.AsSpan(_len);
        if (head == 1) d[0] = (byte)(0x80 | len);
        else if (head == 2) { d[0] = (byte)(0xE0 | (len >> 8)); d[1] = (byte)len; }
        else { d[0] = 0xF0; BinaryPrimitives.WriteUInt32LittleEndian(d[1..], (uint)len); }
        element.CopyTo(d[head..]);
        Finish(dataLen);
    }

    public void Append(long value)
    {
        Ensure(16);
        var d = _buf.AsSpan(_len);
        int dataLen;
        if (value is >= 0 and <= 127) { d[0] = (byte)value; dataLen = 1; }
        else if (value is >= -4096 and <= 4095)
        {
            int u = (int)value & 0x1FFF;
            d[0] = (byte)(0xC0 | (u >> 8));
            d[1] = (byte)u;
            dataLen = 2;
        }
        else if (value is >= short.MinValue and <= short.MaxValue)
        {
            d[0] = 0xF1;
            BinaryPrimitives.WriteInt16LittleEndian(d[1..], (short)value);
            dataLen = 3;
        }
        else if (value is >= -8388608 and <= 8388607)
        {
            int u = (int)value & 0xFFFFFF;
            d[0] = 0xF2;
            d[1] = (byte)u;
            d[2] = (byte)(u >> 8);
            d[3] = (byte)(u >> 16);
            dataLen = 4;
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            d[0] = 0xF3;
            BinaryPrimitives.WriteInt32LittleEndian(d[1..], (int)value);
            dataLen = 5;
        }
        else
        {
            d[0] = 0xF4;
            BinaryPrimitives.WriteInt64LittleEndian(d[1..], value);
            dataLen = 9;
        }
        Finish(dataLen);
    }

    private void Finish(int dataLen)
    {
        _len += dataLen;
        _len += Listpack.WriteBacklen(_buf.AsSpan(_len), (ulong)dataLen);
        _count++;
    }

    private void Ensure(int extra)
    {
        if (_len + extra + 1 > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + extra + 1));
    }

    public byte[] ToArray()
    {
        var r = new byte[_len + 1];
        _buf.AsSpan(0, _len).CopyTo(r);
        r[_len] = 0xFF;
        BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)r.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(4), (ushort)Math.Min(_count, Listpack.UnknownCount));
        return r;
    }
}
