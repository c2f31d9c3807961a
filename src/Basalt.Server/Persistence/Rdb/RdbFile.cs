namespace Basalt.Server.Persistence.Rdb;

// CONTRACT STUB (owner: h-rdb). Whole RDB files: the signatures the snapshot/SAVE/BGSAVE code calls.
public static class RdbFile
{
    public static void WriteHeader(RdbOutput o, IEnumerable<KeyValuePair<string, string>> aux) => throw new NotImplementedException();
    public static void WriteSelectDb(RdbOutput o, int db) => throw new NotImplementedException();
    public static void WriteResizeDb(RdbOutput o, ulong keys, ulong expires) => throw new NotImplementedException();
    public static void WriteEntry(RdbOutput o, ReadOnlySpan<byte> key, object value, long expireAtMs, int lruIdleSeconds, int lfuFreq) => throw new NotImplementedException();
    public static void WriteFooter(RdbOutput o, bool checksum) => throw new NotImplementedException();
    public static RdbLoadResult Load(Stream input, RedisServer server, RdbLoadOptions options) => throw new NotImplementedException();
}

public sealed class RdbLoadOptions
{
    /// <summary>Keep keys whose TTL already passed (a replica loading its master's snapshot does).</summary>
    public bool KeepExpired { get; init; }
    /// <summary>Receives the code of each function library (FUNCTION2 opcode).</summary>
    public Action<byte[]>? OnFunctionLibrary { get; init; }
}

public sealed class RdbLoadResult
{
    public Dictionary<string, string> Aux { get; } = new();
    public long KeysLoaded { get; set; }
    public long ExpiredSkipped { get; set; }
    public int Version { get; set; }
}
