using System.Text;

namespace Basalt.Server.Commands;

/// <summary>A key found in a command line: its argument position and the access flags of its key spec.</summary>
public readonly record struct KeyRef(int Position, string[] Flags);

public static partial class CommandMetadata
{
    private static readonly string[] FlagsRwAccessUpdate = ["RW", "access", "update"];
    private static readonly string[] FlagsOwUpdate = ["OW", "update"];
    private static readonly string[] FlagsRoAccess = ["RO", "access"];
    private static readonly string[] FlagsRwAccessDelete = ["RW", "access", "delete"];

    /// <summary>Whether COMMAND GETKEYS can say anything about the command (it has key specs or key positions).</summary>
    public static bool HasKeys(CommandDef def) =>
        def.Info.KeySpecs.Length > 0 || def.FirstKey > 0 || NativeKeys(def.FullName) is not null;

    /// <summary>True when key positions depend on the arguments (Redis's movablekeys flag).</summary>
    public static bool IsMovable(CommandDef def)
    {
        foreach (var s in def.Info.KeySpecs)
            if (s.BeginIndex < 0 || s.IsKeyNum) return true;
        return false;
    }

    /// <summary>
    /// Finds the keys of a full command line (args[0] is the command name, args[1] the subcommand for
    /// container commands) the way Redis 7.0 does: key specs first when they are reliable, else the
    /// command's own key finder. Returns false when no key could be found.
    /// </summary>
    public static bool GetKeys(CommandDef def, byte[][] args, List<KeyRef> keys)
    {
        keys.Clear();
        var specs = def.Info.KeySpecs;
        bool hasRealSpec = false, variableFlags = false;
        foreach (var s in specs)
        {
            if (!s.Flags.Contains("not_key")) hasRealSpec = true;
            if (s.Flags.Contains("variable_flags")) variableFlags = true;
        }
        if (hasRealSpec && !variableFlags)
        {
            if (FromSpecs(specs, args, keys)) return keys.Count > 0;
            keys.Clear();
        }
        var native = NativeKeys(def.FullName);
        if (native is not null)
        {
            native(args, keys);
            return keys.Count > 0;
        }
        if (specs.Length == 0 && def.FirstKey > 0) return FromLegacyRange(def, args.Length, keys);
        return false;
    }

    /// <summary>Follows each spec; false when one cannot be followed (unknown, incomplete, out of range).</summary>
    private static bool FromSpecs(KeySpec[] specs, byte[][] args, List<KeyRef> keys)
    {
        int argc = args.Length;
        foreach (var s in specs)
        {
            if (s.Flags.Contains("incomplete")) return false;
            int first;
            if (s.BeginIndex >= 0) first = s.BeginIndex;
            else if (s.BeginKeyword is not null)
            {
                first = FindKeyword(args, s.BeginKeyword, s.KeywordStartFrom);
                if (first == 0) continue; // optional keyword absent
            }
            else return false;

            int last, step;
            if (!s.IsKeyNum)
            {
                step = s.RangeKeyStep;
                if (s.RangeLastKey >= 0) last = first + s.RangeLastKey;
                else if (s.RangeLimit == 0) last = argc + s.RangeLastKey;
                else last = first + ((argc - first) / s.RangeLimit + s.RangeLastKey);
            }
            else
            {
                step = s.KeyNumKeyStep;
                int numIdx = first + s.KeyNumIndex;
                if (numIdx >= argc) return false;
                if (!Basalt.Protocol.RespNumbers.TryParseInt64(args[numIdx], out long n) || n < 0) return false;
                first += s.KeyNumFirstKey;
                last = first + (int)Math.Min(n, int.MaxValue / 2) - 1;
            }
            if (last >= argc || last < first || first >= argc) return false;
            for (int i = first; i <= last; i += step) keys.Add(new KeyRef(i, s.Flags));
        }
        return true;
    }

    /// <summary>Position after the keyword, or 0. Positive startfrom scans forward, negative backward from the end.</summary>
    private static int FindKeyword(byte[][] args, string keyword, int startFrom)
    {
        int argc = args.Length;
        int start = startFrom > 0 ? startFrom : argc + startFrom;
        int end = startFrom > 0 ? argc - 1 : 0;
        for (int i = start; i != end; i = start <= end ? i + 1 : i - 1)
        {
            if (i >= argc || i < 1) break;
            if (Is(args[i], keyword)) return i + 1;
        }
        return 0;
    }

    private static bool FromLegacyRange(CommandDef def, int argc, List<KeyRef> keys)
    {
        int last = def.LastKey < 0 ? argc + def.LastKey : def.LastKey;
        for (int i = def.FirstKey; i <= last && i < argc; i += Math.Max(1, def.Step)) keys.Add(new KeyRef(i, []));
        return keys.Count > 0;
    }

    private static bool Is(byte[] arg, string word) => Ascii.EqualsIgnoreCase(arg, Encoding.ASCII.GetBytes(word));

    /// <summary>Key finders of commands whose specs cannot express the positions or the flags.</summary>
    private static Action<byte[][], List<KeyRef>>? NativeKeys(string fullName) => fullName switch
    {
        "set" => SetKeys,
        "bitfield" => BitfieldKeys,
        "sort" => SortKeys,
        "sort_ro" => (args, keys) => keys.Add(new KeyRef(1, FlagsRoAccess)),
        "migrate" => MigrateKeys,
        _ => null,
    };

    // SET reads the old value only with GET.
    private static void SetKeys(byte[][] args, List<KeyRef> keys)
    {
        for (int i = 3; i < args.Length; i++)
            if (Is(args[i], "get")) { keys.Add(new KeyRef(1, FlagsRwAccessUpdate)); return; }
        keys.Add(new KeyRef(1, FlagsOwUpdate));
    }

    // BITFIELD is read-only when it only has GET (and OVERFLOW) operations.
    private static void BitfieldKeys(byte[][] args, List<KeyRef> keys)
    {
        bool readOnly = true;
        for (int i = 2; i < args.Length; i++)
        {
            int rest = args.Length - i - 1;
            if (Is(args[i], "get") && rest >= 2) i += 2;
            else if ((Is(args[i], "set") || Is(args[i], "incrby")) && rest >= 3) { readOnly = false; break; }
            else if (Is(args[i], "overflow") && rest >= 1) i += 1;
            else { readOnly = false; break; }
        }
        keys.Add(new KeyRef(1, readOnly ? FlagsRoAccess : FlagsRwAccessUpdate));
    }

    // SORT: the source key, plus the destination of the last STORE (BY/GET patterns are not keys).
    private static void SortKeys(byte[][] args, List<KeyRef> keys)
    {
        keys.Add(new KeyRef(1, FlagsRoAccess));
        int store = -1;
        for (int i = 2; i < args.Length; i++)
        {
            if (Is(args[i], "limit")) i += 2;
            else if (Is(args[i], "store") && i + 1 < args.Length) store = i + 1;
            else if (Is(args[i], "get") || Is(args[i], "by")) i += 1;
        }
        if (store > 0) keys.Add(new KeyRef(store, FlagsOwUpdate));
    }

    // MIGRATE: the key argument, or the names after KEYS when the key argument is empty.
    private static void MigrateKeys(byte[][] args, List<KeyRef> keys)
    {
        int first = 3, num = 1;
        for (int i = 6; i < args.Length; i++)
        {
            if (Is(args[i], "auth")) i += 1;
            else if (Is(args[i], "auth2")) i += 2;
            else if (Is(args[i], "keys"))
            {
                if (args[3].Length > 0) return;
                first = i + 1;
                num = args.Length - first;
                break;
            }
        }
        for (int i = first; i < first + num && i < args.Length; i++) keys.Add(new KeyRef(i, FlagsRwAccessDelete));
    }
}

public static partial class CommandMetadata
{
    private static readonly Dictionary<string, CommandFlags> FlagByName = new()
    {
        ["write"] = CommandFlags.Write, ["readonly"] = CommandFlags.ReadOnly, ["denyoom"] = CommandFlags.DenyOom,
        ["module"] = CommandFlags.Module, ["admin"] = CommandFlags.Admin, ["pubsub"] = CommandFlags.PubSub,
        ["noscript"] = CommandFlags.NoScript, ["blocking"] = CommandFlags.Blocking, ["loading"] = CommandFlags.Loading,
        ["stale"] = CommandFlags.Stale, ["skip_monitor"] = CommandFlags.SkipMonitor, ["skip_slowlog"] = CommandFlags.SkipSlowlog,
        ["fast"] = CommandFlags.Fast, ["no_auth"] = CommandFlags.NoAuth, ["no_mandatory_keys"] = CommandFlags.NoMandatoryKeys,
        ["no_async_loading"] = CommandFlags.NoAsyncLoading, ["no_multi"] = CommandFlags.NoMulti, ["allow_busy"] = CommandFlags.AllowBusy,
    };

    /// <summary>
    /// A handler-less definition built from Redis's facts alone (for key extraction of commands not
    /// registered yet, and for tests). Hidden flags (may_replicate, protected...) are not in the data.
    /// </summary>
    public static CommandDef? CreateDefinition(string fullName)
    {
        var e = Find(fullName);
        if (e is null) return null;
        var flags = CommandFlags.None;
        foreach (var f in e.Flags) if (FlagByName.TryGetValue(f, out var bit)) flags |= bit;
        var def = new CommandDef { Name = e.Name, Arity = e.Arity, Flags = flags, FirstKey = e.FirstKey, LastKey = e.LastKey, Step = e.Step };
        def.FullName = e.Name;
        def.Info = Lookup(def);
        return def;
    }
}
