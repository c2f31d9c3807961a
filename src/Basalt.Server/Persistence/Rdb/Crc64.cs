namespace Basalt.Server.Persistence.Rdb;

/// <summary>
/// The CRC-64 Redis puts at the end of RDB files and DUMP payloads: the "Jones" polynomial
/// (0xad93d23594c935a9), reflected input/output, initial value 0, no final xor.
/// Check value: CRC of "123456789" is 0xe9c6d914c4b8d9ca.
/// </summary>
public static class Crc64
{
    // Bit-reversed form of the Jones polynomial (we process LSB first).
    private const ulong ReflectedPoly = 0x95ac9329ac4bc9b5UL;
    private static readonly ulong[][] Tables = BuildTables();

    private static ulong[][] BuildTables()
    {
        var t = new ulong[8][];
        for (int k = 0; k < 8; k++) t[k] = new ulong[256];
        for (uint n = 0; n < 256; n++)
        {
            ulong crc = n;
            for (int b = 0; b < 8; b++) crc = (crc & 1) != 0 ? (crc >> 1) ^ ReflectedPoly : crc >> 1;
            t[0][n] = crc;
        }
        // Slicing-by-8 tables: t[k][n] = CRC of byte n followed by k zero bytes.
        for (int n = 0; n < 256; n++)
            for (int k = 1; k < 8; k++)
                t[k][n] = t[0][t[k - 1][n] & 0xff] ^ (t[k - 1][n] >> 8);
        return t;
    }

    public static ulong Update(ulong crc, ReadOnlySpan<byte> data)
    {
        var t0 = Tables[0];
        int i = 0;
        if (data.Length >= 8)
        {
            var t1 = Tables[1]; var t2 = Tables[2]; var t3 = Tables[3];
            var t4 = Tables[4]; var t5 = Tables[5]; var t6 = Tables[6]; var t7 = Tables[7];
            for (; i + 8 <= data.Length; i += 8)
            {
                ulong x = crc ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i, 8));
                crc = t7[x & 0xff] ^ t6[(x >> 8) & 0xff] ^ t5[(x >> 16) & 0xff] ^ t4[(x >> 24) & 0xff]
                    ^ t3[(x >> 32) & 0xff] ^ t2[(x >> 40) & 0xff] ^ t1[(x >> 48) & 0xff] ^ t0[x >> 56];
            }
        }
        for (; i < data.Length; i++) crc = t0[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
        return crc;
    }

    public static ulong Compute(ReadOnlySpan<byte> data) => Update(0, data);
}
