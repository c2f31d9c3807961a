using System.Text.Json;

namespace Basalt.Server.Commands;

/// <summary>
/// Descriptive metadata of commands (ACL categories, key specs, tips, docs) that COMMAND INFO/DOCS report,
/// kept apart from the handlers so the family files stay about behaviour. The data (CommandMetadata.Data.cs)
/// is generated from a real redis-server 7.0 by tools/gen-command-metadata.py and covers every Redis 7.0
/// command, so a family that registers a command later finds its metadata already there.
/// </summary>
public static partial class CommandMetadata
{
    /// <summary>One command's facts as Redis 7.0 reports them.</summary>
    public sealed class Entry
    {
        public required string Name { get; init; }
        public int Arity { get; init; }
        public required string[] Flags { get; init; }
        public int FirstKey { get; init; }
        public int LastKey { get; init; }
        public int Step { get; init; }
        public required string[] AclCategories { get; init; }
        public required string[] Tips { get; init; }
        /// <summary>The key specs in COMMAND INFO's shape (maps), rendered as they are.</summary>
        public JsonElement KeySpecsJson { get; init; }
        public required KeySpec[] KeySpecs { get; init; }
        /// <summary>COMMAND DOCS fields (summary, since, group, complexity, doc_flags, arguments...).</summary>
        public JsonElement Docs { get; init; }
        public required string[] Subcommands { get; init; }
    }

    private static Dictionary<string, Entry>? s_entries;

    /// <summary>Every Redis 7.0 command and subcommand by full name ("config|get").</summary>
    public static IReadOnlyDictionary<string, Entry> Entries => s_entries ??= Load();

    public static Entry? Find(string fullName) => Entries.GetValueOrDefault(fullName);

    /// <summary>Attaches metadata to every registered command and subcommand.</summary>
    public static void Attach(CommandTable table)
    {
        foreach (var def in table.All)
        {
            def.Info = Lookup(def);
            if (def.Subcommands is null) continue;
            foreach (var sub in def.Subcommands.Values) sub.Info = Lookup(sub);
        }
    }

    private static CommandInfo Lookup(CommandDef def)
    {
        var e = Find(def.FullName);
        if (e is null) return new CommandInfo { AclCategories = DeriveAclCategories(def.Flags) };
        var d = e.Docs;
        return new CommandInfo
        {
            AclCategories = e.AclCategories,
            KeySpecs = e.KeySpecs,
            Tips = e.Tips,
            Summary = Str(d, "summary") ?? "",
            Since = Str(d, "since") ?? "",
            Group = Str(d, "group") ?? "generic",
            Complexity = Str(d, "complexity") ?? "",
            Arguments = d.TryGetProperty("arguments", out var args) ? ToArgs(args) : [],
        };
    }

    /// <summary>The categories Redis implies from flags, for commands without generated data (none today).</summary>
    public static string[] DeriveAclCategories(CommandFlags f)
    {
        var list = new List<string>();
        if ((f & CommandFlags.ReadOnly) != 0) list.Add("@read");
        if ((f & CommandFlags.Write) != 0) list.Add("@write");
        if ((f & CommandFlags.Admin) != 0) list.Add("@admin");
        list.Add((f & CommandFlags.Fast) != 0 ? "@fast" : "@slow");
        if ((f & CommandFlags.Blocking) != 0) list.Add("@blocking");
        if ((f & CommandFlags.Admin) != 0) list.Add("@dangerous");
        return [.. list];
    }

    private static Dictionary<string, Entry> Load()
    {
        // The document stays alive: Entry keeps JsonElements into it for rendering.
        var doc = JsonDocument.Parse(DataJson);
        var map = new Dictionary<string, Entry>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            var k = e.GetProperty("k");
            var specs = e.GetProperty("ks");
            var entry = new Entry
            {
                Name = e.GetProperty("n").GetString()!,
                Arity = e.GetProperty("a").GetInt32(),
                Flags = Strings(e.GetProperty("f")),
                FirstKey = k[0].GetInt32(),
                LastKey = k[1].GetInt32(),
                Step = k[2].GetInt32(),
                AclCategories = Strings(e.GetProperty("acl")),
                Tips = Strings(e.GetProperty("tips")),
                KeySpecsJson = specs,
                KeySpecs = [.. specs.EnumerateArray().Select(ToKeySpec)],
                Docs = e.GetProperty("d"),
                Subcommands = Strings(e.GetProperty("sub")),
            };
            map[entry.Name] = entry;
        }
        return map;
    }

    private static string[] Strings(JsonElement a) => [.. a.EnumerateArray().Select(x => x.GetString()!)];

    private static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int Int(JsonElement o, string name) => o.TryGetProperty(name, out var v) ? v.GetInt32() : 0;

    /// <summary>
    /// Converts a key spec map. An "unknown" begin_search is BeginIndex -1 with no keyword; an "unknown"
    /// find_keys only occurs together with it, so it needs no representation of its own.
    /// </summary>
    private static KeySpec ToKeySpec(JsonElement s)
    {
        var bs = s.GetProperty("begin_search");
        var bspec = bs.GetProperty("spec");
        var fk = s.GetProperty("find_keys");
        var fspec = fk.GetProperty("spec");
        string bt = bs.GetProperty("type").GetString()!;
        string ft = fk.GetProperty("type").GetString()!;
        return new KeySpec
        {
            Flags = Strings(s.GetProperty("flags")),
            Notes = Str(s, "notes"),
            BeginIndex = bt == "index" ? Int(bspec, "index") : -1,
            BeginKeyword = bt == "keyword" ? Str(bspec, "keyword") : null,
            KeywordStartFrom = bt == "keyword" ? Int(bspec, "startfrom") : 0,
            IsKeyNum = ft == "keynum",
            RangeLastKey = ft == "range" ? Int(fspec, "lastkey") : 0,
            RangeKeyStep = ft == "range" ? Int(fspec, "keystep") : 1,
            RangeLimit = ft == "range" ? Int(fspec, "limit") : 0,
            KeyNumIndex = ft == "keynum" ? Int(fspec, "keynumidx") : 0,
            KeyNumFirstKey = ft == "keynum" ? Int(fspec, "firstkey") : 0,
            KeyNumKeyStep = ft == "keynum" ? Int(fspec, "keystep") : 1,
        };
    }

    /// <summary>True when the spec can be followed mechanically (index or keyword, then range or keynum).</summary>
    public static bool IsKnown(KeySpec s) => s.BeginIndex >= 0 || s.BeginKeyword is not null;

    private static CommandArg[] ToArgs(JsonElement args) => [.. args.EnumerateArray().Select(a =>
    {
        string[] flags = a.TryGetProperty("flags", out var f) ? Strings(f) : [];
        return new CommandArg
        {
            Name = Str(a, "name")!,
            Type = Str(a, "type")!,
            Token = Str(a, "token"),
            KeySpecIndex = a.TryGetProperty("key_spec_index", out var ki) ? ki.GetInt32() : -1,
            Optional = flags.Contains("optional"),
            Multiple = flags.Contains("multiple"),
            MultipleToken = flags.Contains("multiple_token"),
            Since = Str(a, "since"),
            Arguments = a.TryGetProperty("arguments", out var sub) ? ToArgs(sub) : null,
        };
    })];
}
