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
    public bool EnableDebugCommand => Get("enable-debug-command") is "yes" or "local";

    public IEnumerable<KeyValuePair<string, string>> Values => _values;

    public string Get(string name) => _values.TryGetValue(ConfigDirectives.Canonical(name), out var v) ? v : "";

    public bool Contains(string name) => _values.ContainsKey(ConfigDirectives.Canonical(name));

    /// <summary>Sets a directive after validation; returns Redis's error text, or null on success.</summary>
    public string? Set(string name, string value, bool startup)
    {
        var d = ConfigDirectives.Find(name);
        if (d is null) return $"Unknown option or number of arguments for CONFIG SET - '{name}'";
        if (!startup && d.Immutable) return $"can't set immutable config";
        string? error = d.Normalize(value, out string normalized);
        if (error is not null) return error;
        _values[d.Name] = normalized;
        Refresh();
        return null;
    }

    /// <summary>Sets a value without validation (internal updates such as dir after a chdir).</summary>
    public void SetRaw(string name, string value)
    {
        _values[ConfigDirectives.Canonical(name)] = value;
        Refresh();
    }

    private void Refresh()
    {
        Port = (int)Num("port");
        var bind = Get("bind");
        BindAddresses = bind.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        BindIsDefault = bind == ConfigDirectives.Find("bind")!.Default;
        TcpBacklog = (int)Num("tcp-backlog");
        UnixSocket = Get("unixsocket");
        UnixSocketPerm = Get("unixsocketperm");
        TcpKeepAlive = (int)Num("tcp-keepalive");
        MaxClients = (int)Num("maxclients");
        ProtectedMode = Get("protected-mode") == "yes";
        RequirePass = Get("requirepass");
        Databases = (int)Num("databases");
        ClientQueryBufferLimit = Num("client-query-buffer-limit");
        ProtoMaxBulkLen = Num("proto-max-bulk-len");
        Hz = Math.Clamp((int)Num("hz"), 1, 500);
        Timeout = (int)Num("timeout");
        LogLevel = Get("loglevel");
        LogFile = Get("logfile");
        PidFile = Get("pidfile");
        Dir = Get("dir");
        Daemonize = Get("daemonize") == "yes";
        ActiveExpireEffort = (int)Num("active-expire-effort");
        SlowlogLogSlowerThan = Num("slowlog-log-slower-than");
        SlowlogMaxLen = (int)Num("slowlog-max-len");
        LatencyMonitorThreshold = Num("latency-monitor-threshold");
    }

    private long Num(string name)
    {
        var v = Get(name);
        return ConfigDirectives.TryParseMemory(v, out long n) ? n : long.Parse(v, CultureInfo.InvariantCulture);
    }
}
