using System.Globalization;

namespace Basalt.Server.Config;

/// <summary>
/// The live configuration: every directive's current value as text (what CONFIG GET shows),
/// plus typed fields for the ones the server reads on hot paths. Directive definitions
/// (defaults, validation, mutability) live in <see cref="ConfigDirectives"/>.
/// </summary>
public sealed class ServerConfig
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    public ServerConfig()
    {
        foreach (var d in ConfigDirectives.All) _values[d.Name] = d.Default;
        Refresh();
    }

    /// <summary>Path of the config file the server was started with (CONFIG REWRITE target), or null.</summary>
    public string? ConfigFile { get; set; }

    /// <summary>rename-command lines of the file (old name, new name; "" disables). Applied by the command table owner.</summary>
    public List<(string From, string To)> RenamedCommands { get; } = new();

    /// <summary>user lines of the file (ACL rules as written), for the ACL subsystem.</summary>
    public List<string[]> UserDirectives { get; } = new();

    /// <summary>Sentinel mode (--sentinel): "sentinel ..." lines are queued here (line number, text, arguments).</summary>
    public bool SentinelMode { get; set; }
    public List<(int Line, string Text, string[] Args)> SentinelDirectives { get; } = new();

    // Typed views, refreshed whenever a value changes.
    public int Port { get; private set; }
    public string[] BindAddresses { get; private set; } = [];
    public bool BindIsDefault { get; private set; }
    public int TcpBacklog { get; private set; }
    public string UnixSocket { get; private set; } = "";
    public string UnixSocketPerm { get; private set; } = "0";
    public int TcpKeepAlive { get; private set; }
    public int MaxClients { get; private set; }
    public bool ProtectedMode { get; private set; }
    public string RequirePass { get; private set; } = "";
    public bool RequiresAuth => RequirePass.Length > 0;
    public int Databases { get; private set; }
    public long ClientQueryBufferLimit { get; private set; }
    public long ProtoMaxBulkLen { get; private set; }
    public int Hz { get; private set; }
    public int Timeout { get; private set; }
    public string LogLevel { get; private set; } = "notice";
    public string LogFile { get; private set; } = "";
    public string PidFile { get; private set; } = "";
    public string Dir { get; private set; } = "";
    public bool Daemonize { get; private set; }
    public bool ActiveExpireEnabled { get; set; } = true;
    public int ActiveExpireEffort { get; private set; }
    public long SlowlogLogSlowerThan { get; private set; }
    public int SlowlogMaxLen { get; private set; }
    public long LatencyMonitorThreshold { get; private set; }
    /// <summary>key-load-delay: microseconds to pause per key loaded (a testing aid, as in Redis).</summary>
    public int KeyLoadDelay { get; private set; }
    public bool EnableDebugCommand => Get("enable-debug-command") is "yes" or "local";

    // Persistence.
    public IReadOnlyList<SavePoint> SavePoints { get; private set; } = [];
    public string DbFilename { get; private set; } = "dump.rdb";
    public bool RdbCompression { get; private set; }
    public bool RdbChecksum { get; private set; }
    public bool StopWritesOnBgsaveError { get; private set; }
    public bool AppendOnly { get; private set; }
    public string AppendFilename { get; private set; } = "";
    public string AppendDirname { get; private set; } = "";
    public string AppendFsync { get; private set; } = "everysec";

    // Memory and clients.
    /// <summary>maxmemory in bytes (saturated to long.MaxValue); 0 = no limit.</summary>
    public long MaxMemory { get; private set; }
    public string MaxMemoryPolicy { get; private set; } = "noeviction";
    public int MaxMemorySamples { get; private set; }
    public ClientOutputBufferLimits OutputBufferLimits { get; private set; } = ClientOutputBufferLimits.Parse(ClientOutputBufferLimits.DefaultText);

    // Events, scripting, replication.
    /// <summary>Normalized notify-keyspace-events ("" = off; "A" covers g$lshzxetd; K, E, m and n as given).</summary>
    public string NotifyKeyspaceEvents { get; private set; } = "";
    public long BusyReplyThresholdMs { get; private set; }
    /// <summary>"host port" or "" when not a replica.</summary>
    public string ReplicaOf { get; private set; } = "";
    public string MasterAuth { get; private set; } = "";
    public bool ReplicaReadOnly { get; private set; }
    public long ReplBacklogSize { get; private set; }

    // Encodings.
    public long HashMaxListpackEntries { get; private set; }
    public long HashMaxListpackValue { get; private set; }
    public int ListMaxListpackSize { get; private set; }
    public int ListCompressDepth { get; private set; }
    public long SetMaxIntsetEntries { get; private set; }
    public long ZsetMaxListpackEntries { get; private set; }
    public long ZsetMaxListpackValue { get; private set; }
    public long StreamNodeMaxBytes { get; private set; }
    public long StreamNodeMaxEntries { get; private set; }
    public long HllSparseMaxBytes { get; private set; }

    /// <summary>Every directive (primary names) with its current value.</summary>
    public IEnumerable<KeyValuePair<string, string>> Values => _values;

    /// <summary>A value as CONFIG GET / CONFIG REWRITE show it (differs from <see cref="Get"/> only where Redis hides part of it).</summary>
    public string Display(string name)
    {
        string canonical = ConfigDirectives.Canonical(name);
        string value = Get(canonical);
        return canonical == "notify-keyspace-events" ? SpecialDirectives.DisplayNotifyKeyspaceEvents(value) : value;
    }

    public string Get(string name) => _values.TryGetValue(ConfigDirectives.Canonical(name), out var v) ? v : "";

    public bool Contains(string name) => _values.ContainsKey(ConfigDirectives.Canonical(name));

    /// <summary>Integer view of a numeric directive (bool: yes = 1).</summary>
    public long GetInt64(string name)
    {
        var v = Get(name);
        if (v is "yes") return 1;
        if (v is "no" or "") return 0;
        return ConfigDirectives.TryParseMemory(v, out long n) ? n : long.Parse(v, CultureInfo.InvariantCulture);
    }

    public bool GetBool(string name) => Get(name) == "yes";

    /// <summary>Sets a directive from one string (CONFIG SET form); returns Redis's error text, or null on success.</summary>
    public string? Set(string name, string value, bool startup)
    {
        var d = ConfigDirectives.Find(name);
        if (d is null) return $"Unknown option or number of arguments for CONFIG SET - '{name}'";
        return SetArgs(d, d.SplitValue(value), startup);
    }

    /// <summary>Sets a directive from its argument list (config file form).</summary>
    public string? SetArgs(ConfigDirective d, string[] args, bool startup)
    {
        if (!startup && d.Immutable) return "can't set immutable config";
        string? error = Validate(d, args, out string normalized);
        if (error is not null) return error;
        Store(d, normalized);
        return null;
    }

    /// <summary>Checks arguments against the current value without changing anything.</summary>
    public string? Validate(ConfigDirective d, string[] args, out string normalized) => d.Parse(args, _values[d.Name], out normalized);

    /// <summary>Stores an already normalized value.</summary>
    public void Store(ConfigDirective d, string normalized)
    {
        _values[d.Name] = normalized;
        Refresh();
    }

    /// <summary>Sets a value without validation (internal updates such as dir after a chdir).</summary>
    public void SetRaw(string name, string value)
    {
        _values[ConfigDirectives.Canonical(name)] = value;
        Refresh();
    }

    /// <summary>Bumped on every change, so hot paths can cache values they read with <see cref="Get"/>.</summary>
    public int Version { get; private set; }

    private void Refresh()
    {
        Version++;
        Port = (int)Num("port");
        var bind = Get("bind");
        BindAddresses = bind.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        BindIsDefault = bind == ConfigDirectives.Find("bind")!.Default;
        TcpBacklog = (int)Num("tcp-backlog");
        UnixSocket = Get("unixsocket");
        UnixSocketPerm = Get("unixsocketperm");
        TcpKeepAlive = (int)Num("tcp-keepalive");
        MaxClients = (int)Math.Min(Num("maxclients"), int.MaxValue);
        ProtectedMode = GetBool("protected-mode");
        RequirePass = Get("requirepass");
        Databases = (int)Num("databases");
        ClientQueryBufferLimit = Num("client-query-buffer-limit");
        ProtoMaxBulkLen = Num("proto-max-bulk-len");
        Hz = Math.Clamp((int)Math.Min(Num("hz"), 500), 1, 500);
        Timeout = (int)Num("timeout");
        LogLevel = Get("loglevel");
        LogFile = Get("logfile");
        PidFile = Get("pidfile");
        Dir = Get("dir");
        Daemonize = GetBool("daemonize");
        ActiveExpireEffort = (int)Num("active-expire-effort");
        SlowlogLogSlowerThan = Num("slowlog-log-slower-than");
        SlowlogMaxLen = (int)Math.Min(Num("slowlog-max-len"), int.MaxValue);
        LatencyMonitorThreshold = Num("latency-monitor-threshold");
        KeyLoadDelay = (int)Num("key-load-delay");

        SavePoints = SpecialDirectives.ParseSavePoints(Get("save"));
        DbFilename = Get("dbfilename");
        RdbCompression = GetBool("rdbcompression");
        RdbChecksum = GetBool("rdbchecksum");
        StopWritesOnBgsaveError = GetBool("stop-writes-on-bgsave-error");
        AppendOnly = GetBool("appendonly");
        AppendFilename = Get("appendfilename");
        AppendDirname = Get("appenddirname");
        AppendFsync = Get("appendfsync");

        MaxMemory = Num("maxmemory");
        MaxMemoryPolicy = Get("maxmemory-policy");
        MaxMemorySamples = (int)Num("maxmemory-samples");
        OutputBufferLimits = ClientOutputBufferLimits.Parse(Get("client-output-buffer-limit"));

        NotifyKeyspaceEvents = Get("notify-keyspace-events");
        BusyReplyThresholdMs = Num("busy-reply-threshold");
        ReplicaOf = Get("replicaof");
        MasterAuth = Get("masterauth");
        ReplicaReadOnly = GetBool("replica-read-only");
        ReplBacklogSize = Num("repl-backlog-size");

        HashMaxListpackEntries = Num("hash-max-listpack-entries");
        HashMaxListpackValue = Num("hash-max-listpack-value");
        ListMaxListpackSize = (int)Num("list-max-listpack-size");
        ListCompressDepth = (int)Num("list-compress-depth");
        SetMaxIntsetEntries = Num("set-max-intset-entries");
        ZsetMaxListpackEntries = Num("zset-max-listpack-entries");
        ZsetMaxListpackValue = Num("zset-max-listpack-value");
        StreamNodeMaxBytes = Num("stream-node-max-bytes");
        StreamNodeMaxEntries = Num("stream-node-max-entries");
        HllSparseMaxBytes = Num("hll-sparse-max-bytes");
    }

    private long Num(string name)
    {
        var v = Get(name);
        if (v.Length > 0 && v[0] == '-') return long.Parse(v, CultureInfo.InvariantCulture);
        return ConfigDirectives.TryParseMemory(v, out long n) ? n : 0;
    }
}
