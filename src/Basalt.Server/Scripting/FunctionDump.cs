using System.Buffers.Binary;
using System.Text;

namespace Basalt.Server.Scripting;

/// <summary>
/// FUNCTION DUMP / RESTORE payloads: for each library the RDB FUNCTION2 opcode (245) and the code as an RDB
/// string, then the RDB version (2 bytes LE) and a CRC64 (Jones, reflected; 8 bytes LE) of all that precedes it.
/// </summary>
public static class FunctionDump
{
    private const byte OpcodeFunction2 = 245;
    private const byte OpcodeFunction = 246; // 7.0 RC format, refused like Redis does
    private const ushort RdbVersion = 10;

    public static byte[] Serialize(IEnumerable<string> codes)
    {
        var ms = new MemoryStream();
        foreach (var code in codes)
        {
            ms.WriteByte(OpcodeFunction2);
            var bytes = Encoding.UTF8.GetBytes(code);
            WriteLength(ms, bytes.Length);
            ms.Write(bytes);
        }
        Span<byte> tail = stackalloc byte[10];
        BinaryPrimitives.WriteUInt16LittleEndian(tail, RdbVersion);
        ms.Write(tail[..2]);
        ulong crc = Persistence.Rdb.Crc64.Compute(ms.GetBuffer().AsSpan(0, (int)ms.Length));
        BinaryPrimitives.WriteUInt64LittleEndian(tail, crc);
        ms.Write(tail[..8]);
        return ms.ToArray();
    }

    private static void WriteLength(Stream s, long len)
    {
        if (len < 1 << 6) s.WriteByte((byte)len);
        else if (len < 1 << 14) { s.WriteByte((byte)(0x40 | (len >> 8))); s.WriteByte((byte)len); }
        else if (len <= uint.MaxValue)
        {
            s.WriteByte(0x80);
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(b, (uint)len);
            s.Write(b);
        }
        else
        {
            s.WriteByte(0x81);
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(b, (ulong)len);
            s.Write(b);
        }
    }

    /// <summary>The library codes of a payload, or null with Redis's error text.</summary>
    public static List<string>? Deserialize(ReadOnlySpan<byte> payload, out string? error)
    {
        error = "ERR DUMP payload version or checksum are wrong";
        if (payload.Length < 10) return null;
        var body = payload[..^10];
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(payload[^10..]);
        if (version > RdbVersion) return null;
        ulong crc = BinaryPrimitives.ReadUInt64LittleEndian(payload[^8..]);
        if (crc != 0 && crc != Persistence.Rdb.Crc64.Compute(payload[..^8])) return null;
        var codes = new List<string>();
        int pos = 0;
        while (pos < body.Length)
        {
            byte op = body[pos++];
            if (op == OpcodeFunction) { error = "ERR Pre-GA function format not supported"; return null; }
            if (op != OpcodeFunction2) { error = "ERR given type is not a function"; return null; }
            var s = ReadString(body, ref pos);
            if (s is null) { error = "ERR failed loading the library payload"; return null; }
            codes.Add(Encoding.UTF8.GetString(s));
        }
        error = null;
        return codes;
    }

    private static long ReadLength(ReadOnlySpan<byte> b, ref int pos, out bool encoded)
    {
        encoded = false;
        if (pos >= b.Length) return -1;
        byte first = b[pos++];
        switch (first >> 6)
        {
            case 0: return first & 0x3F;
            case 1:
                if (pos >= b.Length) return -1;
                return ((first & 0x3F) << 8) | b[pos++];
            case 2:
                if (first == 0x80) { if (pos + 4 > b.Length) return -1; pos += 4; return BinaryPrimitives.ReadUInt32BigEndian(b[(pos - 4)..]); }
                if (first == 0x81) { if (pos + 8 > b.Length) return -1; pos += 8; return (long)BinaryPrimitives.ReadUInt64BigEndian(b[(pos - 8)..]); }
                return -1;
            default:
                encoded = true;
                return first & 0x3F;
        }
    }

    private static byte[]? ReadString(ReadOnlySpan<byte> b, ref int pos)
    {
        long len = ReadLength(b, ref pos, out bool encoded);
        if (len < 0) return null;
        if (!encoded)
        {
            if (pos + len > b.Length) return null;
            var r = b.Slice(pos, (int)len).ToArray();
            pos += (int)len;
            return r;
        }
        switch (len)
        {
            case 0: if (pos + 1 > b.Length) return null; return Encoding.ASCII.GetBytes(((sbyte)b[pos++]).ToString());
            case 1: if (pos + 2 > b.Length) return null; pos += 2; return Encoding.ASCII.GetBytes(BinaryPrimitives.ReadInt16LittleEndian(b[(pos - 2)..]).ToString());
            case 2: if (pos + 4 > b.Length) return null; pos += 4; return Encoding.ASCII.GetBytes(BinaryPrimitives.ReadInt32LittleEndian(b[(pos - 4)..]).ToString());
            case 3:
            {
                long clen = ReadLength(b, ref pos, out _);
                long ulen = ReadLength(b, ref pos, out _);
                if (clen < 0 || ulen < 0 || pos + clen > b.Length) return null;
                var output = new byte[ulen];
                bool ok = Persistence.Rdb.Lzf.Decompress(b.Slice(pos, (int)clen), output) == output.Length;
                pos += (int)clen;
                return ok ? output : null;
            }
            default: return null;
        }
    }
}
