namespace Basalt.Server.Persistence.Rdb.Encodings;

// CONTRACT STUB (owner: h-rdbenc). Decoders for blobs older Redis versions wrote; bodies are filled in on h-rdbenc.
public static class Ziplist
{
    /// <summary>All entries in order; integer entries come back as their decimal text.</summary>
    public static List<byte[]> Decode(ReadOnlySpan<byte> blob) => throw new NotImplementedException();
}

public static class Zipmap
{
    /// <summary>Field, value, field, value...</summary>
    public static List<byte[]> Decode(ReadOnlySpan<byte> blob) => throw new NotImplementedException();
}

public static class Intset
{
    public static long[] Decode(ReadOnlySpan<byte> blob) => throw new NotImplementedException();
    /// <summary>An intset blob of sorted distinct values, in the narrowest encoding that fits them all.</summary>
    public static byte[] Encode(ReadOnlySpan<long> sortedValues) => throw new NotImplementedException();
}
