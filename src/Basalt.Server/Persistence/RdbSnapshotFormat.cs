using Basalt.Server.Persistence.Rdb;

namespace Basalt.Server.Persistence;

/// <summary>
/// A snapshot as an RDB version 10 file: header and aux fields, function libraries, then per database SELECTDB,
/// RESIZEDB and the entries, then EOF and the CRC64. Used by SAVE/BGSAVE, full resync and the AOF base.
/// </summary>
public sealed class RdbSnapshotFormat : ISnapshotFormat
{
    private readonly RdbOutput _out;
    private readonly RedisServer _server;
    private readonly IEnumerable<KeyValuePair<string, string>> _extraAux;

    /// <summary>Function library sources to embed (FUNCTION2 records); set by the scripting engine.</summary>
    public static Func<RedisServer, IEnumerable<byte[]>>? FunctionLibraries;

    public const byte OpcodeFunction2 = 245;

    public RdbSnapshotFormat(Stream stream, RedisServer server, IEnumerable<KeyValuePair<string, string>>? extraAux = null)
    {
        _server = server;
        _out = new RdbOutput(stream, server.Config.RdbCompression);
        _extraAux = extraAux ?? [];
        string policy = server.Config.MaxMemoryPolicy;
        _writeIdle = policy.EndsWith("-lru", StringComparison.Ordinal);
        _writeFreq = policy.EndsWith("-lfu", StringComparison.Ordinal);
    }

    // Decided once per snapshot, as Redis decides per save.
    private readonly bool _writeIdle, _writeFreq;

    public long BytesWritten => _out.BytesWritten;

    public void Begin()
    {
        var aux = new List<KeyValuePair<string, string>>
        {
            new("redis-ver", ServerMain.RedisVersion),
            new("redis-bits", "64"),
            new("ctime", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("used-mem", GC.GetTotalMemory(false).ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        aux.AddRange(_extraAux);
        if (!aux.Exists(a => a.Key == "aof-base")) aux.Add(new("aof-base", "0"));
        RdbFile.WriteHeader(_out, aux);
        if (FunctionLibraries is { } libs)
        {
            foreach (var code in libs(_server))
            {
                _out.WriteByte(OpcodeFunction2);
                _out.WriteString(code);
            }
        }
    }

    public void SelectDb(int db, long keys, long expires)
    {
        RdbFile.WriteSelectDb(_out, db);
        RdbFile.WriteResizeDb(_out, (ulong)keys, (ulong)expires);
    }

    /// <summary>As Redis: IDLE under an LRU maxmemory-policy, FREQ under an LFU one, nothing otherwise.</summary>
    public void Entry(ReadOnlySpan<byte> key, object value, long expireAtMs, uint accessStamp)
    {
        int idle = -1, freq = -1;
        if (_writeIdle) idle = (int)Math.Min(Keyspace.LruClock.IdleSeconds(accessStamp), int.MaxValue);
        else if (_writeFreq) freq = Eviction.LfuCounter.Decayed(accessStamp);
        RdbFile.WriteEntry(_out, key, value, expireAtMs, idle, freq);
    }

    public void End() => RdbFile.WriteFooter(_out, _server.Config.RdbChecksum);

    public void Flush() => _out.Flush();
}
