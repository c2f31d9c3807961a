namespace Basalt.Server.Persistence.Rdb;

// CONTRACT STUB (owner: h-rdb). Signatures agreed between the RDB helpers; bodies are filled in on h-rdb.
/// <summary>
/// Buffered RDB writer over a stream: RDB length/string encodings (integer encoding, LZF when enabled),
/// little-endian numbers, and a running CRC64 of every byte written (the file and DUMP checksums).
/// </summary>
public sealed class RdbOutput
{
    public RdbOutput(Stream sink, bool compress) => throw new NotImplementedException();
    public long BytesWritten => throw new NotImplementedException();
    public ulong Crc => throw new NotImplementedException();
    public void WriteByte(byte b) => throw new NotImplementedException();
    public void WriteRaw(ReadOnlySpan<byte> bytes) => throw new NotImplementedException();
    public void WriteLength(ulong length) => throw new NotImplementedException();
    /// <summary>A string: as an integer encoding when it is one, LZF-compressed when that pays, else raw.</summary>
    public void WriteString(ReadOnlySpan<byte> s) => throw new NotImplementedException();
    public void WriteStringNumber(long value) => throw new NotImplementedException();
    public void WriteUInt32LE(uint v) => throw new NotImplementedException();
    public void WriteUInt64LE(ulong v) => throw new NotImplementedException();
    public void WriteBinaryDouble(double v) => throw new NotImplementedException();
    public void Flush() => throw new NotImplementedException();
}
