using System.Buffers.Binary;
using Basalt.Server.Persistence.Rdb;

namespace Basalt.Tests.Persistence;

/// <summary>Helpers for the blob-encoding tests: hex, DUMP payload framing, random mutations.</summary>
internal static class EncodingTestUtil
{
    public static byte[] Hex(string s) => Convert.FromHexString(s);

    /// <summary>
    /// The blob inside a DUMP whose value is one RDB string right after the type byte (no LZF: the reference
    /// server runs with rdbcompression no). Returns the type and the blob.
    /// </summary>
    public static (byte Type, byte[] Blob) DumpBlob(byte[] dump, int skipLengths = 0)
    {
        int p = 1;
        for (int i = 0; i <= skipLengths; i++)
        {
            long len = ReadLen(dump, ref p);
            if (i == skipLengths)
                return (dump[0], dump.AsSpan(p, (int)len).ToArray());
        }
        throw new InvalidOperationException();
    }

    /// <summary>An RDB length (6, 14, 32 or 64 bit); plain lengths only.</summary>
    public static long ReadLen(byte[] d, ref int p)
    {
        byte b = d[p];
        switch (b >> 6)
        {
            case 0: p++; return b & 0x3F;
            case 1: p += 2; return ((b & 0x3F) << 8) | d[p - 1];
            case 2:
                if (b == 0x80) { p += 5; return BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(p - 4)); }
                p += 9; return (long)BinaryPrimitives.ReadUInt64BigEndian(d.AsSpan(p - 8));
            default: throw new InvalidOperationException("encoded string in a test dump: " + b);
        }
    }

    /// <summary>Runs <paramref name="decode"/> on many random mutations of <paramref name="valid"/>; only RdbFormatException may escape.</summary>
    public static (int Ok, int Rejected) Fuzz(byte[] valid, Action<byte[]> decode, int iterations, int seed)
    {
        var rnd = new Random(seed);
        int ok = 0, rejected = 0;
        for (int it = 0; it < iterations; it++)
        {
            var b = (byte[])valid.Clone();
            int kind = rnd.Next(5);
            if (kind == 0 && b.Length > 0) b[rnd.Next(b.Length)] = (byte)rnd.Next(256);
            else if (kind == 1 && b.Length > 0) b[rnd.Next(b.Length)] ^= (byte)(1 << rnd.Next(8));
            else if (kind == 2) b = b.AsSpan(0, rnd.Next(b.Length + 1)).ToArray();
            else if (kind == 3)
            {
                int n = 1 + rnd.Next(4);
                for (int k = 0; k < n && b.Length > 0; k++) b[rnd.Next(b.Length)] = (byte)rnd.Next(256);
            }
            else
            {
                // Header-aware: a plausible but wrong size field keeps the total consistent more often.
                if (b.Length >= 4 && rnd.Next(2) == 0) BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)rnd.Next(b.Length + 8));
                else if (b.Length > 0) b[rnd.Next(b.Length)] = rnd.Next(2) == 0 ? (byte)0xFF : (byte)0xF0;
            }
            try { decode(b); ok++; }
            catch (RdbFormatException) { rejected++; }
        }
        return (ok, rejected);
    }
}
