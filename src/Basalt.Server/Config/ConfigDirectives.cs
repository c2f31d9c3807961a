using System.Globalization;
using Basalt.Protocol;

namespace Basalt.Server.Config;

public enum ConfigKind { Bool, Int, Memory, Enum, String, Special }

/// <summary>Checks a special directive's arguments against its current value; returns an error or null.</summary>
public delegate string? SpecialParser(string[] args, string current, out string normalized);

/// <summary>One redis.conf directive: name, default, how values are checked, shown and rewritten.</summary>
public sealed class ConfigDirective
{
    public required string Name { get; init; }
    public required ConfigKind Kind { get; init; }
    public required string Default { get; init; }
    public string[] Aliases { get; init; } = [];
    /// <summary>CONFIG SET refuses it ("can't set immutable config").</summary>
    public bool Immutable { get; init; }
    /// <summary>CONFIG SET needs enable-protected-configs (dir, dbfilename).</summary>
    public bool Protected { get; init; }
    public long Min { get; init; } = long.MinValue;
    public long Max { get; init; } = long.MaxValue;
    /// <summary>Memory directives stored as unsigned 64-bit (maxmemory...): huge values saturate.</summary>
    public bool Unsigned { get; init; }
    public string[] EnumValues { get; init; } = [];
    /// <summary>Takes several arguments (save, bind...); a single argument is split on spaces.</summary>
    public bool MultiArg { get; init; }
    public SpecialParser? Parser { get; init; }
    /// <summary>Adjusts a valid integer as Redis does when applying it (hz is clamped to 1..500).</summary>
    public Func<long, long>? Adjust { get; init; }
    /// <summary>Extra check for string directives (dbfilename can't be a path...).</summary>
    public Func<string, string?>? StringCheck { get; init; }
    /// <summary>Rewrite lines for special directives (null: one line, value as shown).</summary>
    public Func<ConfigDirective, string, IEnumerable<string>>? RewriteLines { get; init; }
    /// <summary>Accepted for compatibility but has no effect in Basalt (documented in docs/CONFIG.md).</summary>
    public bool NoEffect { get; init; }
    /// <summary>Debugging directives Redis leaves out of CONFIG GET patterns: only their exact name finds them.</summary>
    public bool Hidden { get; init; }

    /// <summary>Validates arguments and produces the value CONFIG GET shows; returns Redis's reason or null.</summary>
    public string? Parse(string[] args, string current, out string normalized)
    {
        normalized = current;
        if (Kind == ConfigKind.Special) return Parser!(args, current, out normalized);
        if (args.Length != 1) return "wrong number of arguments";
        string value = args[0];
        switch (Kind)
        {
            case ConfigKind.Bool:
                if (value.Equals("yes", StringComparison.OrdinalIgnoreCase)) { normalized = "yes"; return null; }
                if (value.Equals("no", StringComparison.OrdinalIgnoreCase)) { normalized = "no"; return null; }
                return "argument must be 'yes' or 'no'";
            case ConfigKind.Int:
                if (!RespNumbers.TryParseInt64(value, out long n)) return "argument couldn't be parsed into an integer";
                if (n < Min || n > Max) return BoundsError();
                if (Adjust is not null) n = Adjust(n);
                normalized = n.ToString(CultureInfo.InvariantCulture);
                return null;
            case ConfigKind.Memory:
                if (!ConfigDirectives.TryParseMemory(value, out ulong m)) return "argument must be a memory value";
                if (!Unsigned && m > (ulong)long.MaxValue) return BoundsError();
                if ((long)Math.Min(m, (ulong)long.MaxValue) < Min || (!Unsigned && (long)m > Max)) return BoundsError();
                normalized = m.ToString(CultureInfo.InvariantCulture);
                return null;
            case ConfigKind.Enum:
                foreach (var e in EnumValues)
                    if (e.Equals(value, StringComparison.OrdinalIgnoreCase)) { normalized = e; return null; }
                return "argument(s) must be one of the following: " + string.Join(", ", EnumValues);
            default:
                if (StringCheck?.Invoke(value) is string err) return err;
                normalized = value;
                return null;
        }
    }

    private string BoundsError() => $"argument must be between {Min} and {Max} inclusive";

    /// <summary>Legacy single-string form (CONFIG SET value): multi-argument directives split on spaces.</summary>
    public string[] SplitValue(string value) =>
        MultiArg ? (value.Length == 0 ? [] : value.Split(' ')) : [value];
}

/// <summary>The table of directives Basalt knows: every directive CONFIG GET * lists in Redis 7.0.15.</summary>
public static partial class ConfigDirectives
{
    private static readonly Dictionary<string, ConfigDirective> ByName = Build(out AllList);
    private static readonly List<ConfigDirective> AllList;

    /// <summary>Each directive once, in table order.</summary>
    public static IReadOnlyList<ConfigDirective> All => AllList;

    /// <summary>Every name CONFIG GET can match (primary names and aliases), with its directive.</summary>
    public static IEnumerable<KeyValuePair<string, ConfigDirective>> Names => ByName;

    public static ConfigDirective? Find(string name) => ByName.GetValueOrDefault(name);

    public static string Canonical(string name) => Find(name)?.Name ?? name.ToLowerInvariant();

    /// <summary>Directives Redis 7.0 still accepts in a file but ignores.</summary>
    public static readonly HashSet<string> Deprecated = new(StringComparer.OrdinalIgnoreCase)
    {
        "list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands",
    };

    private static Dictionary<string, ConfigDirective> Build(out List<ConfigDirective> all)
    {
        var d = new Dictionary<string, ConfigDirective>(StringComparer.OrdinalIgnoreCase);
        all = new List<ConfigDirective>();
        foreach (var def in Definitions())
        {
            if (d.ContainsKey(def.Name)) throw new InvalidOperationException("duplicate directive " + def.Name);
            all.Add(def);
            d[def.Name] = def;
            foreach (var a in def.Aliases) d[a] = def;
        }
        return d;
    }

    /// <summary>
    /// Parses memory sizes as redis.conf does: digits then an optional unit, case-insensitive
    /// (b, k = 1000, kb = 1024, m, mb, g, gb). The empty string is 0; values past 2^64-1 saturate.
    /// </summary>
    public static bool TryParseMemory(string s, out ulong value)
    {
        value = 0;
        int end = s.Length;
        while (end > 0 && char.IsAsciiLetter(s[end - 1])) end--;
        string unit = s[end..].ToLowerInvariant();
        ulong mul = unit switch
        {
            "" or "b" => 1,
            "k" => 1000,
            "kb" => 1024,
            "m" => 1000_000,
            "mb" => 1024 * 1024,
            "g" => 1000_000_000,
            "gb" => 1024UL * 1024 * 1024,
            _ => 0,
        };
        if (mul == 0) return false;
        if (end == 0) return unit.Length == 0;
        UInt128 n = 0;
        for (int i = 0; i < end; i++)
        {
            char c = s[i];
            if (c < '0' || c > '9') return false;
            n = n * 10 + (uint)(c - '0');
            if (n > ulong.MaxValue) n = (UInt128)ulong.MaxValue + 1;
        }
        n *= mul;
        value = n > ulong.MaxValue ? ulong.MaxValue : (ulong)n;
        return true;
    }

    public static bool TryParseMemory(string s, out long value)
    {
        bool ok = TryParseMemory(s, out ulong u);
        value = u > long.MaxValue ? long.MaxValue : (long)u;
        return ok;
    }

    /// <summary>Memory as CONFIG REWRITE writes it: the largest unit (gb, mb, kb) that divides it exactly.</summary>
    public static string FormatMemory(ulong v)
    {
        const ulong kb = 1024, mb = kb * 1024, gb = mb * 1024;
        if (v == 0) return "0";
        if (v % gb == 0) return (v / gb).ToString(CultureInfo.InvariantCulture) + "gb";
        if (v % mb == 0) return (v / mb).ToString(CultureInfo.InvariantCulture) + "mb";
        if (v % kb == 0) return (v / kb).ToString(CultureInfo.InvariantCulture) + "kb";
        return v.ToString(CultureInfo.InvariantCulture);
    }
}
