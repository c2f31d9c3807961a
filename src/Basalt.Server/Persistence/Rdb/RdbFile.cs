using System.Text;
using Basalt.Server.Keyspace;

namespace Basalt.Server.Persistence.Rdb;

/// <summary>
/// Whole RDB files: "REDIS" + 4-digit version, AUX fields, then per database SELECTDB/RESIZEDB and the
/// key entries (optional EXPIRETIME_MS / IDLE / FREQ before each), EOF and the CRC64 of everything before it.
/// </summary>
public static class RdbFile
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>"REDIS0010" and the AUX fields (numbers in them come out integer-encoded, as Redis writes them).</summary>
    public static void WriteHeader(RdbOutput o, IEnumerable<KeyValuePair<string, string>> aux)
    {
        o.WriteRaw(Encoding.ASCII.GetBytes($"REDIS{RdbConstants.Version:D4}"));
        foreach (var kv in aux)
        {
            o.WriteByte(RdbConstants.OpAux);
            o.WriteString(Latin1.GetBytes(kv.Key));
            o.WriteString(Latin1.GetBytes(kv.Value));
        }
    }

    public static void WriteSelectDb(RdbOutput o, int db)
    {
        o.WriteByte(RdbConstants.OpSelectDb);
        o.WriteLength((ulong)db);
    }

    public static void WriteResizeDb(RdbOutput o, ulong keys, ulong expires)
    {
        o.WriteByte(RdbConstants.OpResizeDb);
        o.WriteLength(keys);
        o.WriteLength(expires);
    }

    /// <summary>
    /// One key. <paramref name="expireAtMs"/> -1 = no TTL; <paramref name="lruIdleSeconds"/> / <paramref name="lfuFreq"/>
    /// -1 = not written (Redis writes IDLE under an LRU maxmemory-policy and FREQ under an LFU one).
    /// </summary>
    public static void WriteEntry(RdbOutput o, ReadOnlySpan<byte> key, object value, long expireAtMs, int lruIdleSeconds, int lfuFreq)
    {
        if (expireAtMs != -1)
        {
            o.WriteByte(RdbConstants.OpExpireTimeMs);
            o.WriteUInt64LE((ulong)expireAtMs);
        }
        if (lruIdleSeconds >= 0)
        {
            o.WriteByte(RdbConstants.OpIdle);
            o.WriteLength((ulong)lruIdleSeconds);
        }
        if (lfuFreq >= 0)
        {
            o.WriteByte(RdbConstants.OpFreq);
            o.WriteByte((byte)lfuFreq);
        }
        o.WriteByte(RdbValueWriter.TypeOf(value));
        o.WriteString(key);
        RdbValueWriter.WriteBody(o, value);
    }

    /// <summary>EOF and the 8-byte little-endian CRC64 of the whole file before it (0 when rdbchecksum is off).</summary>
    public static void WriteFooter(RdbOutput o, bool checksum)
    {
        o.WriteByte(RdbConstants.OpEof);
        o.WriteUInt64LE(checksum ? o.Crc : 0);
        o.Flush();
    }

    /// <summary>
    /// Loads a whole file into <c>server.Databases</c> (or <see cref="RdbLoadOptions.Target"/>), adding to what is
    /// there (callers flush first). Throws <see cref="RdbFormatException"/> (with the byte offset) on any malformation,
    /// a truncated file, a checksum mismatch or a duplicated key.
    /// </summary>
    /// <summary>Loads a function library found in a file when the caller gave no callback (set by the scripting engine).</summary>
    public static Action<RedisServer, byte[]>? DefaultFunctionLoader;

    public static RdbLoadResult Load(Stream input, RedisServer server, RdbLoadOptions options)
    {
        var i = new RdbInput(input);
        var result = new RdbLoadResult();
        var dbs = options.Target ?? server.Databases;

        Span<byte> header = stackalloc byte[9];
        try { i.ReadExactly(header); }
        catch (RdbFormatException) { throw new RdbFormatException("Wrong signature trying to load DB from file (short file)"); }
        if (!header[..5].SequenceEqual("REDIS"u8)) throw new RdbFormatException("Wrong signature trying to load DB from file");
        int version = 0;
        for (int k = 5; k < 9; k++)
        {
            if (header[k] < '0' || header[k] > '9') throw new RdbFormatException("Wrong signature trying to load DB from file");
            version = version * 10 + (header[k] - '0');
        }
        if (version < 1 || version > RdbConstants.MaxReadVersion) throw new RdbFormatException($"Can't handle RDB format version {version}");
        result.Version = version;

        Database db = dbs[0];
        long expireAt = -1, idle = -1;
        int freq = -1;
        long now = Database.NowMs;
        while (true)
        {
            long at = i.Position;
            byte type = i.ReadByte();
            switch (type)
            {
                case RdbConstants.OpExpireTime:
                    expireAt = (long)(int)i.ReadUInt32LE() * 1000;
                    continue;
                case RdbConstants.OpExpireTimeMs:
                    expireAt = (long)i.ReadUInt64LE();
                    continue;
                case RdbConstants.OpFreq:
                    freq = i.ReadByte();
                    continue;
                case RdbConstants.OpIdle:
                    ulong idleLen = i.ReadLength();
                    idle = idleLen > long.MaxValue ? long.MaxValue : (long)idleLen;
                    continue;
                case RdbConstants.OpEof:
                    break;
                case RdbConstants.OpSelectDb:
                    ulong dbid = i.ReadLength();
                    if (dbid >= (ulong)dbs.Length)
                        throw new RdbFormatException($"FATAL: Data file was created with a Redis server configured to handle more than {dbs.Length} databases. Exiting (offset {at})");
                    db = dbs[(int)dbid];
                    continue;
                case RdbConstants.OpResizeDb:
                    // Sizing hints: growing once up front saves the rehashes of doubling through a big load.
                    ulong dbKeys = i.ReadLength(), dbExpires = i.ReadLength();
                    db.Keys.EnsureCapacity((int)Math.Min(dbKeys, 1UL << 26) + db.Keys.Count);
                    db.Expires.EnsureCapacity((int)Math.Min(dbExpires, 1UL << 26) + db.Expires.Count);
                    continue;
                case RdbConstants.OpAux:
                    var k = Latin1.GetString(i.ReadString());
                    var v = Latin1.GetString(i.ReadString());
                    // "lua" holds scripts of old versions: Redis 7 no longer loads them.
                    if (k != "lua") result.Aux[k] = v;
                    options.OnAux?.Invoke(k, v);
                    continue;
                case RdbConstants.OpModuleAux:
                    ulong moduleId = i.ReadLength();
                    throw new RdbFormatException($"The RDB file contains AUX module data I can't load: no matching module '{RdbValueReader.ModuleName(moduleId)}' (offset {at})");
                case RdbConstants.OpFunctionPreGa:
                    throw new RdbFormatException($"Pre-release function format not supported (offset {at})");
                case RdbConstants.OpFunction2:
                    var code = i.ReadString();
                    if (options.OnFunctionLibrary is { } onLibrary) onLibrary(code);
                    else DefaultFunctionLoader?.Invoke(server, code);
                    result.FunctionLibraries++;
                    continue;
                default:
                    if (!RdbConstants.IsKnownValueType(type)) throw new RdbFormatException($"Unknown RDB encoding type {type} at offset {at}");
                    LoadKey(i, type, server, db, options, result, expireAt, idle, freq, now);
                    options.OnKey?.Invoke();
                    expireAt = -1; idle = -1; freq = -1;
                    continue;
            }
            break;
        }

        ulong computed = i.Crc;
        if (version >= 5)
        {
            ulong stored = i.ReadUInt64LE();
            if (options.VerifyChecksum ?? server.Config.RdbChecksum)
            {
                if (stored == 0) result.ChecksumSkipped = true;
                else if (stored != computed)
                    throw new RdbFormatException($"Wrong RDB checksum expected: ({stored:x}) got: ({computed:x}). Aborting now.");
            }
        }
        result.BytesRead = i.Position;
        return result;
    }

    private static void LoadKey(RdbInput i, byte type, RedisServer server, Database db, RdbLoadOptions options,
        RdbLoadResult result, long expireAt, long idle, int freq, long now)
    {
        long at = i.Position;
        var key = i.ReadString();
        object? value;
        try { value = RdbValueReader.Read(i, type, server); }
        catch (RdbFormatException e) when (!e.Message.Contains(" key '"))
        {
            throw new RdbFormatException($"{e.Message} (key '{Latin1.GetString(key)}' at offset {at})");
        }
        if (value is null) { result.EmptyKeysSkipped++; return; }
        // A master drops keys that expired while it was down; a replica keeps them (its master will send DELs).
        if (expireAt != -1 && expireAt < now && !options.KeepExpired) { result.ExpiredSkipped++; return; }

        ref object slot = ref db.Keys.GetValueRefOrAdd(key, out bool exists, key);
        if (exists) throw new RdbFormatException($"Duplicated key '{Latin1.GetString(key)}' found in RDB file (DB {db.Index}, offset {at})");
        slot = value;
        if (expireAt != -1) db.SetExpire(key, expireAt);
        ApplyAccessInfo(db, key, idle, freq);
        result.KeysLoaded++;
    }

    /// <summary>IDLE/FREQ as Redis applies them: the frequency under an LFU policy, otherwise the idle time.</summary>
    public static void ApplyAccessInfo(Database db, ReadOnlySpan<byte> key, long idleSeconds, int freq)
    {
        if (idleSeconds < 0 && freq < 0) return;
        int idx = db.Keys.IndexOf(key);
        if (idx < 0) return;
        if (KeyAccess.Lfu)
        {
            if (freq >= 0) db.Keys.SetLru(idx, (Eviction.LfuCounter.NowMinutes << 8) | (uint)freq);
        }
        else if (idleSeconds >= 0)
        {
            uint now = LruClock.Now;
            uint idle = (uint)Math.Min(idleSeconds, KeyTable<object>.LruMask);
            db.Keys.SetLru(idx, now >= idle ? now - idle : KeyTable<object>.LruMask - (idle - now) + 1);
        }
    }
}

public sealed class RdbLoadOptions
{
    /// <summary>Keep keys whose TTL already passed (a replica loading its master's snapshot does).</summary>
    public bool KeepExpired { get; init; }
    /// <summary>Receives the code of each function library (FUNCTION2 opcode).</summary>
    public Action<byte[]>? OnFunctionLibrary { get; init; }
    /// <summary>Databases to fill instead of <c>server.Databases</c> (e.g. a replica loading aside before swapping).</summary>
    public Database[]? Target { get; init; }
    /// <summary>After each key read (startup loading: key-load-delay, progress).</summary>
    public Action? OnKey { get; init; }
    /// <summary>Each aux field as it is read.</summary>
    public Action<string, string>? OnAux { get; init; }
    /// <summary>Check the CRC64 trailer; null = the server's rdbchecksum setting.</summary>
    public bool? VerifyChecksum { get; init; }
}

public sealed class RdbLoadResult
{
    public Dictionary<string, string> Aux { get; } = new();
    public long KeysLoaded { get; set; }
    public long ExpiredSkipped { get; set; }
    public long EmptyKeysSkipped { get; set; }
    public int FunctionLibraries { get; set; }
    /// <summary>The file carried a zero checksum (written with rdbchecksum no), so nothing was verified.</summary>
    public bool ChecksumSkipped { get; set; }
    public int Version { get; set; }
    /// <summary>Bytes the RDB took in the stream (an AOF with an RDB preamble continues with commands after them).</summary>
    public long BytesRead { get; set; }
}
