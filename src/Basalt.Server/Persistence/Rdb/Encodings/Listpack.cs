namespace Basalt.Server.Persistence.Rdb.Encodings;

// CONTRACT STUB (owner: h-rdbenc). Bodies are filled in on h-rdbenc.
/// <summary>Redis's listpack blob: total bytes, count, entries with back-lengths, 0xFF end.</summary>
public static class Listpack
{
    /// <summary>All entries in order; integer entries come back as their decimal text.</summary>
    public static List<byte[]> Decode(ReadOnlySpan<byte> blob) => throw new NotImplementedException();
}

/// <summary>Builds a listpack; strings that are canonical integers are stored with the integer encodings, as Redis does.</summary>
public sealed class ListpackBuilder
{
    public void Append(ReadOnlySpan<byte> element) => throw new NotImplementedException();
    public void Append(long value) => throw new NotImplementedException();
    public int Count => throw new NotImplementedException();
    public byte[] ToArray() => throw new NotImplementedException();
}
