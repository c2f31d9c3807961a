using System.Globalization;
using Basalt.Protocol;

namespace Basalt.Server.Config;

/// <summary>Per-class output buffer limits (client-output-buffer-limit): hard and soft bytes, soft seconds.</summary>
public readonly record struct OutputBufferLimit(long Hard, long Soft, long SoftSeconds);

/// <summary>The three classes of client-output-buffer-limit, parsed from the normalized text.</summary>
public sealed record ClientOutputBufferLimits(OutputBufferLimit Normal, OutputBufferLimit Replica, OutputBufferLimit PubSub)
{
    public const string DefaultText = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";

    /// <summary>Parses the normalized form "normal h s t slave h s t pubsub h s t".</summary>
    public static ClientOutputBufferLimits Parse(string text)
    {
        var p = text.Split(' ');
        OutputBufferLimit At(int i) => new(long.Parse(p[i + 1], CultureInfo.InvariantCulture), long.Parse(p[i + 2], CultureInfo.InvariantCulture), long.Parse(p[i + 3], CultureInfo.InvariantCulture));
        return new(At(0), At(4), At(8));
    }

    public string Format() =>
        $"normal {Normal.Hard} {Normal.Soft} {Normal.SoftSeconds} slave {Replica.Hard} {Replica.Soft} {Replica.SoftSeconds} pubsub {PubSub.Hard} {PubSub.Soft} {PubSub.SoftSeconds}";
}

/// <summary>A save point: snapshot after <c>Seconds</c> if at least <c>Changes</c> writes happened.</summary>
public readonly record struct SavePoint(long Seconds, long Changes);

/// <summary>Validators and rewrite formatters of the directives that are not plain bool/int/memory/enum/string.</summary>
public static class SpecialDirectives
{
    public static string? ParseSave(string[] args, string current, out string normalized)
    {
        normalized = current;
        if (args.Length == 0 || (args.Length == 1 && args[0].Length == 0)) { normalized = ""; return null; }
        if (args.Length % 2 != 0) return "Invalid save parameters";
        foreach (var a in args)
            if (!RespNumbers.TryParseInt64(a, out long v) || v < 0) return "Invalid save parameters";
        normalized = string.Join(' ', args);
        return null;
    }

    public static IReadOnlyList<SavePoint> ParseSavePoints(string text)
    {
        if (text.Length == 0) return [];
        var p = text.Split(' ');
        var list = new List<SavePoint>(p.Length / 2);
        for (int i = 0; i + 1 < p.Length; i += 2)
            list.Add(new SavePoint(long.Parse(p[i], CultureInfo.InvariantCulture), long.Parse(p[i + 1], CultureInfo.InvariantCulture)));
        return list;
    }

    public static IEnumerable<string> RewriteSave(ConfigDirective d, string value)
    {
        if (value.Length == 0) { yield return "save \"\""; yield break; }
        var p = value.Split(' ');
        for (int i = 0; i + 1 < p.Length; i += 2) yield return $"save {p[i]} {p[i + 1]}";
    }

    public static string? ParseBind(string[] args, string current, out string normalized)
    {
        normalized = current;
        if (args.Length > 16) return "Too many bind addresses specified.";
        normalized = string.Join(' ', args);
        return null;
    }

    public static IEnumerable<string> RewriteBind(ConfigDirective d, string value)
    {
        yield return value.Length == 0 ? "bind \"\"" : "bind " + value;
    }

    public static string? ParseClientOutputBufferLimit(string[] args, string current, out string normalized)
    {
        normalized = current;
        if (args.Length % 4 != 0) return "Wrong number of arguments in buffer limit configuration.";
        var limits = ClientOutputBufferLimits.Parse(current);
        for (int i = 0; i < args.Length; i += 4)
        {
            string cls = args[i].ToLowerInvariant();
            if (cls is not ("normal" or "replica" or "slave" or "pubsub")) return "Invalid client class specified in buffer limit configuration.";
            if (!ConfigDirectives.TryParseMemory(args[i + 1], out long hard) || !ConfigDirectives.TryParseMemory(args[i + 2], out long soft)
                || !RespNumbers.TryParseInt64(args[i + 3], out long secs) || secs < 0)
                return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            var l = new OutputBufferLimit(hard, soft, secs);
            limits = cls switch
            {
                "normal" => limits with { Normal = l },
                "pubsub" => limits with { PubSub = l },
                _ => limits with { Replica = l },
            };
        }
        normalized = limits.Format();
        return null;
    }

    /// <summary>One line per class that differs from the default, memory in units.</summary>
    public static IEnumerable<string> RewriteClientOutputBufferLimit(ConfigDirective d, string value)
    {
        var cur = ClientOutputBufferLimits.Parse(value);
        var def = ClientOutputBufferLimits.Parse(ClientOutputBufferLimits.DefaultText);
        (string, OutputBufferLimit, OutputBufferLimit)[] classes = [("normal", cur.Normal, def.Normal), ("replica", cur.Replica, def.Replica), ("pubsub", cur.PubSub, def.PubSub)];
        foreach (var (name, c, dflt) in classes)
        {
            if (c == dflt) continue;
            yield return $"client-output-buffer-limit {name} {ConfigDirectives.FormatMemory((ulong)c.Hard)} {ConfigDirectives.FormatMemory((ulong)c.Soft)} {c.SoftSeconds}";
        }
    }

    public static string? ParseMaxmemoryClients(string[] args, string current, out string normalized)
    {
        normalized = current;
        if (args.Length != 1) return "wrong number of arguments";
        string v = args[0];
        if (v.EndsWith('%'))
        {
            if (!RespNumbers.TryParseInt64(v[..^1], out long pct) || pct < 0) return "argument must be a memory or percent value";
            if (pct > 100) return "percentage argument must be less or equal to 100";
            normalized = pct.ToString(CultureInfo.InvariantCulture) + "%";
            return null;
        }
        if (!ConfigDirectives.TryParseMemory(v, out long bytes)) return "argument must be a memory or percent value";
        normalized = bytes.ToString(CultureInfo.InvariantCulture);
        return null;
    }

    public static IEnumerable<string> RewriteMaxmemoryClients(ConfigDirective d, string value)
    {
        yield return value.EndsWith('%') ? $"{d.Name} {value}" : $"{d.Name} {ConfigDirectives.FormatMemory(ulong.Parse(value, CultureInfo.InvariantCulture))}";
    }

    // Keyspace notification classes, in the order Redis renders them.
    private const string EventClasses = "g$lshzxetdn";

    /// <summary>The notify-keyspace-events value as CONFIG GET and CONFIG REWRITE show it ("AKEn" shows as "AKE").</summary>
    public static string DisplayNotifyKeyspaceEvents(string stored) =>
        stored.Length > 0 && stored[0] == 'A' && stored[^1] == 'n' ? stored[..^1] : stored;

    public static string? ParseNotifyKeyspaceEvents(string[] args, string current, out string normalized)
    {
        normalized = current;
        if (args.Length != 1) return "wrong number of arguments";
        bool all = false, k = false, e = false, m = false;
        var seen = new HashSet<char>();
        foreach (char c in args[0])
        {
            switch (c)
            {
                case 'A': all = true; break;
                case 'K': k = true; break;
                case 'E': e = true; break;
                case 'm': m = true; break;
                default:
                    if (EventClasses.IndexOf(c) < 0) return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
                    seen.Add(c);
                    break;
            }
        }
        // 'A' is every class but n (new) and m (miss); when all are present only "A" is shown.
        const string allClasses = "g$lshzxetd";
        if (!all && allClasses.All(seen.Contains)) all = true;
        var sb = new System.Text.StringBuilder();
        if (all) sb.Append('A');
        else foreach (char c in EventClasses) if (seen.Contains(c)) sb.Append(c);
        if (k) sb.Append('K');
        if (e) sb.Append('E');
        if (m) sb.Append('m');
        // Redis does not show n next to A but keeps emitting `new` events: stored last, hidden by DisplayNotifyKeyspaceEvents.
        if (all && seen.Contains('n')) sb.Append('n');
        normalized = sb.ToString();
        return null;
    }

    public static string? ParseOomScoreAdjValues(string[] args, string current, out string normalized)
    {
        normalized = current;
        if (args.Length != 3) return "wrong number of arguments";
        foreach (var a in args)
            if (!RespNumbers.TryParseInt64(a, out long v) || v < -2000 || v > 2000)
                return "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
        normalized = string.Join(' ', args);
        return null;
    }

    public static string? ParsePercentiles(string[] args, string current, out string normalized)
    {
        normalized = current;
        var parts = new List<string>();
        foreach (var a in args)
        {
            if (!double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || double.IsNaN(v))
                return "Invalid latency-tracking-info-percentiles parameters";
            if (v < 0 || v > 100) return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
            parts.Add(v.ToString("0.######", CultureInfo.InvariantCulture));
        }
        normalized = string.Join(' ', parts);
        return null;
    }

    public static string? ParseReplicaOf(string[] args, string current, out string normalized)
    {
        normalized = current;
        if (args.Length != 2) return "wrong number of arguments";
        if (args[0].Equals("no", StringComparison.OrdinalIgnoreCase) && args[1].Equals("one", StringComparison.OrdinalIgnoreCase)) { normalized = ""; return null; }
        if (!RespNumbers.TryParseInt64(args[1], out long port) || port < 0 || port > 65535) return "Invalid master port";
        normalized = args[0] + " " + port.ToString(CultureInfo.InvariantCulture);
        return null;
    }

    public static string? ParseOctal(string[] args, string current, out string normalized)
    {
        normalized = current;
        if (args.Length != 1) return "wrong number of arguments";
        string v = args[0];
        if (v.Length == 0 || v.Any(c => c < '0' || c > '7')) return "argument couldn't be parsed as an octal number";
        long n = Convert.ToInt64(v, 8);
        if (n > 0777) return "argument must be between 0 and 511 inclusive";
        normalized = Convert.ToString(n, 8);
        return null;
    }

    private static readonly string[] TitleVars = ["{title}", "{listen-addr}", "{server-mode}", "{port}", "{tls-port}", "{unixsocket}", "{config-file}"];

    public static string? ParseProcTitleTemplate(string[] args, string current, out string normalized)
    {
        normalized = current;
        if (args.Length != 1) return "wrong number of arguments";
        string v = args[0];
        for (int i = 0; i < v.Length; i++)
        {
            if (v[i] == '}') return "template format is invalid or contains unknown variables";
            if (v[i] != '{') continue;
            int close = v.IndexOf('}', i);
            if (close < 0 || Array.IndexOf(TitleVars, v[i..(close + 1)]) < 0) return "template format is invalid or contains unknown variables";
            i = close;
        }
        normalized = v;
        return null;
    }

    public static string? ParseHostname(string[] args, string current, out string normalized)
    {
        normalized = current;
        if (args.Length != 1) return "wrong number of arguments";
        if (args[0].Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '.'))) return "Hostnames may only contain alphanumeric characters, hyphens or dots";
        normalized = args[0];
        return null;
    }

    public static IEnumerable<string> RewriteReplicaOf(ConfigDirective d, string value)
    {
        if (value.Length > 0) yield return "replicaof " + value;
    }

    /// <summary>One line "name value" with the value unquoted (lists of numbers, addresses).</summary>
    public static IEnumerable<string> RewritePlain(ConfigDirective d, string value)
    {
        yield return d.Name + " " + value;
    }
}
