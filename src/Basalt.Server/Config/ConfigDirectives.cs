using System.Globalization;

namespace Basalt.Server.Config;

public enum ConfigKind { Bool, Int, Memory, Enum, String, Special }

/// <summary>One redis.conf directive: name, default, how values are checked and shown.</summary>
public sealed class ConfigDirective
{
    public required string Name { get; init; }
    public required ConfigKind Kind { get; init; }
    public required string Default { get; init; }
    public string[] Aliases { get; init; } = [];
    public bool Immutable { get; init; }
    public long Min { get; init; } = long.MinValue;
    public long Max { get; init; } = long.MaxValue;
    public string[] EnumValues { get; init; } = [];
    /// <summary>Accepted for compatibility but has no effect in Basalt (documented in docs/CONFIG.md).</summary>
    public bool NoEffect { get; init; }

    /// <summary>Checks and normalizes a value; returns an error message or null.</summary>
    public string? Normalize(string value, out string normalized)
    {
        normalized = value;
        switch (Kind)
        {
            case ConfigKind.Bool:
                var lower = value.ToLowerInvariant();
                if (lower is "yes" or "no") { normalized = lower; return null; }
                return "argument must be 'yes' or 'no'";
            case ConfigKind.Int:
            case ConfigKind.Memory:
                long n;
                if (Kind == ConfigKind.Memory ? !ConfigDirectives.TryParseMemory(value, out n) : !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n))
                    return "argument couldn't be parsed into an integer";
                if (n < Min || n > Max) return $"argument must be between {Min} and {Max} inclusive";
                normalized = n.ToString(CultureInfo.InvariantCulture);
                return null;
            case ConfigKind.Enum:
                var e = value.ToLowerInvariant();
                if (Array.IndexOf(EnumValues, e) < 0) return "argument(s) must be one of the following: " + string.Join(", ", EnumValues);
                normalized = e;
                return null;
            default:
                return null;
        }
    }
}

/// <summary>The table of directives Basalt knows (every redis.conf directive of Redis 7.0).</summary>
public static partial class ConfigDirectives
{
    private static readonly Dictionary<string, ConfigDirective> ByName = Build();

    public static IEnumerable<ConfigDirective> All => ByName.Values.Distinct();

    public static ConfigDirective? Find(string name) => ByName.GetValueOrDefault(name);

    public static string Canonical(string name) => Find(name)?.Name ?? name.ToLowerInvariant();

    private static Dictionary<string, ConfigDirective> Build()
    {
        var d = new Dictionary<string, ConfigDirective>(StringComparer.OrdinalIgnoreCase);
        foreach (var def in Definitions())
        {
            d[def.Name] = def;
            foreach (var a in def.Aliases) d[a] = def;
        }
        return d;
    }

    /// <summary>Parses 1gb / 100mb / 4k style sizes (k = 1000, kb = 1024, as in redis.conf).</summary>
    public static bool TryParseMemory(string s, out long value)
    {
        value = 0;
        if (string.IsNullOrEmpty(s)) return false;
        var lower = s.ToLowerInvariant();
        long mul = 1;
        string num = lower;
        (string suffix, long m)[] units = [("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024L * 1024 * 1024), ("k", 1000), ("m", 1000_000), ("g", 1000_000_000), ("b", 1)];
        foreach (var (suffix, m) in units)
        {
            if (lower.EndsWith(suffix) && lower.Length > suffix.Length && char.IsDigit(lower[^(suffix.Length + 1)]))
            {
                mul = m;
                num = lower[..^suffix.Length];
                break;
            }
        }
        if (!long.TryParse(num, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)) return false;
        value = checked(n * mul);
        return true;
    }

    private static ConfigDirective B(string name, bool def, bool immutable = false) => new() { Name = name, Kind = ConfigKind.Bool, Default = def ? "yes" : "no", Immutable = immutable };
    private static ConfigDirective I(string name, long def, long min = long.MinValue, long max = long.MaxValue, bool immutable = false) => new() { Name = name, Kind = ConfigKind.Int, Default = def.ToString(CultureInfo.InvariantCulture), Min = min, Max = max, Immutable = immutable };
    private static ConfigDirective M(string name, long def, long min = 0, long max = long.MaxValue, bool immutable = false) => new() { Name = name, Kind = ConfigKind.Memory, Default = def.ToString(CultureInfo.InvariantCulture), Min = min, Max = max, Immutable = immutable };
    private static ConfigDirective S(string name, string def, bool immutable = false) => new() { Name = name, Kind = ConfigKind.String, Default = def, Immutable = immutable };
    private static ConfigDirective E(string name, string def, params string[] values) => new() { Name = name, Kind = ConfigKind.Enum, Default = def, EnumValues = values };

    private static IEnumerable<ConfigDirective> Definitions()
    {
        yield return I("port", 6379, 0, 65535);
        yield return S("bind", "* -::*");
        yield return I("tcp-backlog", 511, 0, int.MaxValue, immutable: true);
        yield return S("unixsocket", "", immutable: true);
        yield return S("unixsocketperm", "0", immutable: true);
        yield return I("tcp-keepalive", 300, 0, int.MaxValue);
        yield return I("maxclients", 10000, 1, int.MaxValue);
        yield return B("protected-mode", true);
        yield return S("requirepass", "");
        yield return I("databases", 16, 1, int.MaxValue, immutable: true);
        yield return M("client-query-buffer-limit", 1024L * 1024 * 1024, 1024 * 1024, long.MaxValue);
        yield return M("proto-max-bulk-len", 512L * 1024 * 1024, 1024 * 1024, long.MaxValue);
        yield return I("hz", 10, 0, int.MaxValue);
        yield return I("timeout", 0, 0, int.MaxValue);
        yield return E("loglevel", "notice", "debug", "verbose", "notice", "warning", "nothing");
        yield return S("logfile", "", immutable: true);
        yield return S("pidfile", "");
        yield return S("dir", "");
        yield return B("daemonize", false, immutable: true);
        yield return I("active-expire-effort", 1, 1, 10);
        yield return I("slowlog-log-slower-than", 10000, -1, long.MaxValue);
        yield return I("slowlog-max-len", 128, 0, int.MaxValue);
        yield return I("latency-monitor-threshold", 0, 0, long.MaxValue);
        yield return E("enable-debug-command", "no", "yes", "no", "local");
        yield return S("save", "3600 1 300 100 60 10000");
        yield return S("dbfilename", "dump.rdb");
        yield return S("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    }
}
