namespace Basalt.Server.Persistence.Rdb;

// CONTRACT STUB (owner: h-rdb). Signatures agreed between the RDB helpers; bodies are filled in on h-rdb.
/// <summary>
/// RDB reader over a stream or a byte array: length and string encodings (integer, LZF), numbers, with
/// bounds checks everywhere; malformed input throws <see cref="RdbFormatException"/> (never an index or OOM crash).
/// </summary>
public sealed class RdbInput
{
    public RdbInput(Stream source) => throw new NotImplementedException();
    public RdbInput(byte[] data, int offset, int count) => throw new NotImplementedException();
    /// <summary>Bytes consumed so far (for error messages that point at the offset).</summary>
    public long Position => throw new NotImplementedException();
    public byte ReadByte() => throw new NotImplementedException();
    public void ReadExactly(Span<byte> into) => throw new NotImplementedException();
    /// <summary>A length; <paramref name="encoded"/> is true for the special (integer/LZF) string encodings.</summary>
    public ulong ReadLength(out bool encoded) => throw new NotImplementedException();
    /// <summary>A length that must fit in an int and is plausible for the remaining input.</summary>
    public int ReadCount() => throw new NotImplementedException();
    public byte[] ReadString() => throw new NotImplementedException();
    public uint ReadUInt32LE() => throw new NotImplementedException();
    public ulong ReadUInt64LE() => throw new NotImplementedException();
    public double ReadBinaryDouble() => throw new NotImplementedException();
    /// <summary>The old text double (length byte, 253 nan, 254 +inf, 255 -inf), used by RDB_TYPE_ZSET.</summary>
    public double ReadTextDouble() => throw new NotImplementedException();
}
