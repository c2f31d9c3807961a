using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Basalt.Server.Persistence.Rdb.Encodings;

/// <summary>Redis's ziplist (lists, hashes and sorted sets before 7.0): header, entries with prev-lengths, 0xFF end.</summary>
public static class Ziplist
{
    private const int HeaderSize = 10;

    /// <summary>All entries in order; integer entries come back as their decimal text.</summary>
    public static List<byte[]> Decode(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < HeaderSize + 1) throw Bad("ziplist shorter than its header");
        uint total = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        uint tail = BinaryPrimitives.ReadUInt32LittleEndian(blob[4..]);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(blob[8..]);
        if (total != (uint)blob.Length) throw Bad("ziplist total bytes mismatch");
        if (blob[^1] != 0xFF) throw Bad("ziplist without end marker");
        int end = blob.Length - 1;
        var list = new List<byte[]>(Math.Min(count, end / 2));
        int p = HeaderSize, prevSize = 0, lastStart = HeaderSize;
        while (p < end)
        {
            int start = p;
            // prev-length: one byte below 254, else 254 and a 4-byte length.
            int prevLen;
            if (blob[p] < 254) { prevLen = blob[p]; p++; }
            else if (blob[p] == 254)
            {
                Need(p, 5, end);
                uint v = BinaryPrimitives.ReadUInt32LittleEndian(blob[(p + 1)..]);
                if (v > int.MaxValue) throw Bad("ziplist prev-length too big");
                prevLen = (int)v;
                p += 5;
            }
            else throw Bad("ziplist end marker before the end");
            if (prevLen != prevSize) throw Bad("ziplist prev-length mismatch");

            Need(p, 1, end);
            byte b = blob[p];
            switch (b >> 6)
            {
                case 0:
                    list.Add(Take(blob, p + 1, b & 0x3F, end));
                    p += 1 + (b & 0x3F);
                    break;
                case 1:
                {
                    Need(p, 2, end);
                    int len = ((b & 0x3F) << 8) | blob[p + 1];
                    list.Add(Take(blob, p + 2, len, end));
                    p += 2 + len;
                    break;
                }
                case 2:
                {
                    Need(p, 5, end);
                    uint len = BinaryPrimitives.ReadUInt32BigEndian(blob[(p + 1)..]);
                    if (len > (uint)(end - p - 5)) throw Bad("ziplist string runs past the end");
                    list.Add(blob.Slice(p + 5, (int)len).ToArray());
                    p += 5 + (int)len;
                    break;
                }
                default:
                {
                    long v;
                    int size;
                    switch (b)
                    {
                        case 0xC0: Need(p, 3, end); v = BinaryPrimitives.ReadInt16LittleEndian(blob[(p + 1)..]); size = 3; break;
                        case 0xD0: Need(p, 5, end); v = BinaryPrimitives.ReadInt32LittleEndian(blob[(p + 1)..]); size = 5; break;
                        case 0xE0: Need(p, 9, end); v = BinaryPrimitives.ReadInt64LittleEndian(blob[(p + 1)..]); size = 9; break;
                        case 0xF0:
                        {
                            Need(p, 4, end);
                            int x = blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16);
                            v = x >= 1 << 23 ? x - (1 << 24) : x;
                            size = 4;
                            break;
                        }
                        case 0xFE: Need(p, 2, end); v = (sbyte)blob[p + 1]; size = 2; break;
                        case >= 0xF1 and <= 0xFD: v = (b & 0x0F) - 1; size = 1; break;
                        default: throw Bad("ziplist entry with an unknown encoding");
                    }
                    list.Add(Encoding.ASCII.GetBytes(v.ToString(CultureInfo.InvariantCulture)));
                    p += size;
                    break;
                }
            }
            lastStart = start;
            prevSize = p - start;
        }
        if (p != end) throw Bad("ziplist entries overrun the end");
        if (tail != (uint)lastStart) throw Bad("ziplist tail offset mismatch");
        if (count != 65535 && count != list.Count) throw Bad("ziplist count mismatch");
        return list;
    }

    private static byte[] Take(ReadOnlySpan<byte> blob, int at, int len, int end)
    {
        if (at > end || len > end - at) throw Bad("ziplist string runs past the end");
        return blob.Slice(at, len).ToArray();
    }

    private static void Need(int p, int n, int end)
    {
        if (n > end - p) throw Bad("ziplist entry runs past the end");
    }

    private static RdbFormatException Bad(string what) => new(what);
}

/// <summary>Redis 2.x's zipmap (small hashes): count byte, then length-prefixed fields and values (with free space), 0xFF end.</summary>
public static class Zipmap
{
    /// <summary>Field, value, field, value...</summary>
    public static List<byte[]> Decode(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 2) throw Bad("zipmap too short");
        int declared = blob[0];
        int end = blob.Length;
        var list = new List<byte[]>(Math.Min(declared * 2, end));
        int p = 1;
        while (true)
        {
            if (p >= end) throw Bad("zipmap without end marker");
            if (blob[p] == 0xFF) { p++; break; }
            // field
            int flen = ReadLen(blob, ref p, end);
            list.Add(Take(blob, p, flen, end));
            p += flen;
            // value, then its unused free bytes
            if (p < end && blob[p] == 0xFF) throw Bad("zipmap field without a value");
            int vlen = ReadLen(blob, ref p, end);
            if (p >= end) throw Bad("zipmap truncated");
            int free = blob[p++];
            list.Add(Take(blob, p, vlen, end));
            p += vlen;
            if (free > end - p) throw Bad("zipmap free space runs past the end");
            p += free;
        }
        if (p != end) throw Bad("zipmap data after the end marker");
        if (declared < 254 && declared != list.Count / 2) throw Bad("zipmap count mismatch");
        return list;
    }

    private static int ReadLen(ReadOnlySpan<byte> blob, ref int p, int end)
    {
        if (p >= end) throw Bad("zipmap truncated");
        byte b = blob[p];
        if (b < 254) { p++; return b; }
        if (b == 254)
        {
            if (end - p < 5) throw Bad("zipmap truncated");
            uint v = BinaryPrimitives.ReadUInt32LittleEndian(blob[(p + 1)..]);
            p += 5;
            if (v > int.MaxValue) throw Bad("zipmap length too big");
            return (int)v;
        }
        throw Bad("zipmap end marker in place of a length");
    }

    private static byte[] Take(ReadOnlySpan<byte> blob, int at, int len, int end)
    {
        if (at > end || len > end - at) throw Bad("zipmap string runs past the end");
        return blob.Slice(at, len).ToArray();
    }

    private static RdbFormatException Bad(string what) => new(what);
}

/// <summary>Redis's intset (small integer sets): encoding (2, 4 or 8), length, sorted little-endian values.</summary>
public static class Intset
{
    /// <summary>The values; an empty intset decodes to an empty array (the loader decides what an empty key means).</summary>
    public static long[] Decode(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 8) throw Bad("intset shorter than its header");
        uint enc = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(blob[4..]);
        if (enc is not (2 or 4 or 8)) throw Bad("intset with an invalid encoding");
        if ((ulong)len * enc != (ulong)(blob.Length - 8)) throw Bad("intset length mismatch");
        var r = new long[len];
        var d = blob[8..];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = enc switch
            {
                2 => BinaryPrimitives.ReadInt16LittleEndian(d[(i * 2)..]),
                4 => BinaryPrimitives.ReadInt32LittleEndian(d[(i * 4)..]),
                _ => BinaryPrimitives.ReadInt64LittleEndian(d[(i * 8)..]),
            };
            if (i > 0 && r[i] <= r[i - 1]) throw Bad("intset values not sorted and distinct");
        }
        return r;
    }

    /// <summary>An intset blob of sorted distinct values, in the narrowest encoding that fits them all.</summary>
    public static byte[] Encode(ReadOnlySpan<long> sortedValues)
    {
        int enc = 2;
        foreach (long v in sortedValues)
        {
            if (v is < int.MinValue or > int.MaxValue) { enc = 8; break; }
            if (v is < short.MinValue or > short.MaxValue) enc = 4;
        }
        var r = new byte[8 + sortedValues.Length * enc];
        BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)enc);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), (uint)sortedValues.Length);
        var d = r.AsSpan(8);
        for (int i = 0; i < sortedValues.Length; i++)
        {
            if (enc == 2) BinaryPrimitives.WriteInt16LittleEndian(d[(i * 2)..], (short)sortedValues[i]);
            else if (enc == 4) BinaryPrimitives.WriteInt32LittleEndian(d[(i * 4)..], (int)sortedValues[i]);
            else BinaryPrimitives.WriteInt64LittleEndian(d[(i * 8)..], sortedValues[i]);
        }
        return r;
    }

    private static RdbFormatException Bad(string what) => new(what);
}
