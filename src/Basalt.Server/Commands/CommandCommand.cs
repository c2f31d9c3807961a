using System.Text;
using System.Text.Json;
using Basalt.Protocol;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>
/// COMMAND and its subcommands: the command table as Redis 7.0 describes it (INFO entries of ten fields,
/// DOCS maps, LIST filters, key extraction). Registered from <see cref="DebugCommands.Register"/>.
/// </summary>
public static class CommandCommand
{
    public static void Register(CommandTable t)
    {
        // COMMAND alone lists every command, so the container has its own handler (see Dispatcher).
        var c = t.Add("command", -1, Loading | Stale, 0, 0, 0, All);
        c.Subcommands = new(StringComparer.OrdinalIgnoreCase);
        CommandTable.AddSub(c, "count", 2, Loading | Stale, 0, 0, 0, ctx => ctx.Reply.WriteInteger(ctx.Server.Commands.Count));
        CommandTable.AddSub(c, "docs", -2, Loading | Stale, 0, 0, 0, Docs);
        CommandTable.AddSub(c, "getkeys", -4, Loading | Stale, 0, 0, 0, ctx => GetKeys(ctx, withFlags: false));
        CommandTable.AddSub(c, "getkeysandflags", -4, Loading | Stale, 0, 0, 0, ctx => GetKeys(ctx, withFlags: true));
        CommandTable.AddSub(c, "help", 2, Loading | Stale, 0, 0, 0, Help);
        CommandTable.AddSub(c, "info", -2, Loading | Stale, 0, 0, 0, Info);
        CommandTable.AddSub(c, "list", -2, Loading | Stale, 0, 0, 0, List);
    }

    private static void All(CommandContext ctx)
    {
        var all = ctx.Server.Commands.All;
        ctx.Reply.WriteArrayHeader(all.Count);
        foreach (var def in all) WriteInfo(ctx.Reply, def);
    }

    /// <summary>Finds "name" or "container|sub" as COMMAND INFO/DOCS accept them.</summary>
    public static CommandDef? FindByFullName(CommandTable table, string name)
    {
        int bar = name.IndexOf('|');
        if (bar < 0) return table.Find(name);
        if (name.IndexOf('|', bar + 1) >= 0) return null;
        var parent = table.Find(name[..bar]);
        return parent?.Subcommands?.GetValueOrDefault(name[(bar + 1)..]);
    }

    private static void Info(CommandContext ctx)
    {
        if (ctx.Count == 2) { All(ctx); return; }
        ctx.Reply.WriteArrayHeader(ctx.Count - 2);
        for (int i = 2; i < ctx.Count; i++)
        {
            var def = FindByFullName(ctx.Server.Commands, ctx.ArgString(i));
            if (def is null) ctx.Reply.WriteNull();
            else WriteInfo(ctx.Reply, def);
        }
    }

    // Redis's reply order of the visible flags (may_replicate, sentinel, protected... are hidden).
    private static readonly (CommandFlags Flag, string Name)[] FlagNames =
    [
        (Write, "write"), (ReadOnly, "readonly"), (DenyOom, "denyoom"), (Module, "module"), (Admin, "admin"),
        (PubSub, "pubsub"), (NoScript, "noscript"), (Blocking, "blocking"), (Loading, "loading"), (Stale, "stale"),
        (SkipMonitor, "skip_monitor"), (SkipSlowlog, "skip_slowlog"), (Fast, "fast"), (NoAuth, "no_auth"),
        (NoMandatoryKeys, "no_mandatory_keys"), (NoAsyncLoading, "no_async_loading"), (NoMulti, "no_multi"),
    ];

    /// <summary>The flag names COMMAND INFO shows, in Redis's order.</summary>
    public static List<string> FlagList(CommandDef def)
    {
        var list = new List<string>();
        foreach (var (flag, name) in FlagNames)
        {
            if ((def.Flags & flag) != 0) list.Add(name);
            if (flag == NoMulti)
            {
                if (CommandMetadata.IsMovable(def)) list.Add("movablekeys");
                if ((def.Flags & AllowBusy) != 0) list.Add("allow_busy");
            }
        }
        return list;
    }

    /// <summary>One COMMAND INFO entry: name, arity, flags, first, last, step, ACL categories, tips, key specs, subcommands.</summary>
    public static void WriteInfo(RespWriter w, CommandDef def)
    {
        w.WriteArrayHeader(10);
        w.WriteBulk(def.FullName);
        w.WriteInteger(def.Arity);
        var flags = FlagList(def);
        w.WriteSetHeader(flags.Count);
        foreach (var f in flags) w.WriteSimpleString(f);
        w.WriteInteger(def.FirstKey);
        w.WriteInteger(def.LastKey);
        w.WriteInteger(def.Step);
        w.WriteSetHeader(def.Info.AclCategories.Length);
        foreach (var c in def.Info.AclCategories) w.WriteSimpleString(c);
        w.WriteSetHeader(def.Info.Tips.Length);
        foreach (var tip in def.Info.Tips) w.WriteBulk(tip);
        var meta = CommandMetadata.Find(def.FullName);
        if (meta is null) w.WriteSetHeader(0);
        else
        {
            w.WriteSetHeader(meta.KeySpecsJson.GetArrayLength());
            foreach (var spec in meta.KeySpecsJson.EnumerateArray()) WriteJson(w, spec, null);
        }
        if (def.Subcommands is { Count: > 0 })
        {
            w.WriteArrayHeader(def.Subcommands.Count);
            foreach (var sub in def.Subcommands.Values) WriteInfo(w, sub);
        }
        else w.WriteSetHeader(0);
    }

    /// <summary>
    /// Renders generated metadata: objects as maps, "flags"/"doc_flags" lists as sets of status strings,
    /// other lists as arrays, strings as bulk strings, numbers as integers.
    /// </summary>
    private static void WriteJson(RespWriter w, JsonElement e, string? key)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                int n = 0;
                foreach (var _ in e.EnumerateObject()) n++;
                w.WriteMapHeader(n);
                foreach (var p in e.EnumerateObject())
                {
                    w.WriteBulk(p.Name);
                    WriteJson(w, p.Value, p.Name);
                }
                break;
            case JsonValueKind.Array when key is "flags" or "doc_flags":
                w.WriteSetHeader(e.GetArrayLength());
                foreach (var x in e.EnumerateArray()) w.WriteSimpleString(x.GetString()!);
                break;
            case JsonValueKind.Array:
                w.WriteArrayHeader(e.GetArrayLength());
                foreach (var x in e.EnumerateArray()) WriteJson(w, x, null);
                break;
            case JsonValueKind.Number:
                w.WriteInteger(e.GetInt64());
                break;
            default:
                w.WriteBulk(e.GetString() ?? "");
                break;
        }
    }

    private static void Docs(CommandContext ctx)
    {
        var w = ctx.Reply;
        var found = new List<CommandDef>();
        if (ctx.Count == 2) found.AddRange(ctx.Server.Commands.All);
        else
            for (int i = 2; i < ctx.Count; i++)
                if (FindByFullName(ctx.Server.Commands, ctx.ArgString(i)) is { } def) found.Add(def);
        w.WriteMapHeader(found.Count);
        foreach (var def in found)
        {
            w.WriteBulk(def.FullName);
            WriteDocs(w, def);
        }
    }

    private static void WriteDocs(RespWriter w, CommandDef def)
    {
        var meta = CommandMetadata.Find(def.FullName);
        bool hasSubs = def.Subcommands is { Count: > 0 };
        if (meta is null)
        {
            w.WriteMapHeader(hasSubs ? 5 : 4);
            w.WriteBulk("summary"); w.WriteBulk(def.Info.Summary);
            w.WriteBulk("since"); w.WriteBulk(def.Info.Since);
            w.WriteBulk("group"); w.WriteBulk(def.Info.Group);
            w.WriteBulk("complexity"); w.WriteBulk(def.Info.Complexity);
        }
        else
        {
            int n = 0;
            foreach (var _ in meta.Docs.EnumerateObject()) n++;
            w.WriteMapHeader(n + (hasSubs ? 1 : 0));
            foreach (var p in meta.Docs.EnumerateObject())
            {
                w.WriteBulk(p.Name);
                WriteJson(w, p.Value, p.Name);
            }
        }
        if (!hasSubs) return;
        w.WriteBulk("subcommands");
        w.WriteMapHeader(def.Subcommands!.Count);
        foreach (var sub in def.Subcommands.Values)
        {
            w.WriteBulk(sub.FullName);
            WriteDocs(w, sub);
        }
    }

    private static void List(CommandContext ctx)
    {
        Func<CommandDef, bool> filter;
        if (ctx.Count == 2) filter = _ => true;
        else if (ctx.Count == 5 && ctx.ArgIs(2, "filterby"u8))
        {
            string arg = ctx.ArgString(4);
            if (ctx.ArgIs(3, "module"u8)) filter = _ => false; // no modules
            else if (ctx.ArgIs(3, "aclcat"u8))
            {
                string cat = "@" + arg;
                filter = d => d.Info.AclCategories.Any(c => c.Equals(cat, StringComparison.OrdinalIgnoreCase));
            }
            else if (ctx.ArgIs(3, "pattern"u8))
            {
                var pattern = ctx.ArgBytes(4);
                filter = d => GlobMatch(pattern, Encoding.UTF8.GetBytes(d.FullName), nocase: true);
            }
            else { ctx.SyntaxError(); return; }
        }
        else { ctx.SyntaxError(); return; }

        var names = new List<string>();
        foreach (var def in ctx.Server.Commands.All)
        {
            if (filter(def)) names.Add(def.FullName);
            if (def.Subcommands is null) continue;
            foreach (var sub in def.Subcommands.Values) if (filter(sub)) names.Add(sub.FullName);
        }
        ctx.Reply.WriteArrayHeader(names.Count);
        foreach (var n in names) ctx.Reply.WriteBulk(n);
    }

    private static void GetKeys(CommandContext ctx, bool withFlags)
    {
        var table = ctx.Server.Commands;
        var def = table.Find(ctx.Arg(2));
        if (def?.Subcommands is not null && ctx.Count > 3) def = CommandTable.FindSub(def, ctx.Arg(3));
        if (def is null) { ctx.Reply.WriteError("ERR Invalid command specified"); return; }
        if (!CommandMetadata.HasKeys(def)) { ctx.Reply.WriteError("ERR The command has no key arguments"); return; }
        int argc = ctx.Count - 2;
        if ((def.Arity > 0 && def.Arity != argc) || argc < -def.Arity)
        {
            ctx.Reply.WriteError("ERR Invalid number of arguments specified for command");
            return;
        }
        var args = new byte[argc][];
        for (int i = 0; i < argc; i++) args[i] = ctx.ArgBytes(i + 2);
        var keys = new List<KeyRef>();
        if (!CommandMetadata.GetKeys(def, args, keys))
        {
            if ((def.Flags & NoMandatoryKeys) != 0) ctx.Reply.WriteArrayHeader(0);
            else ctx.Reply.WriteError("ERR Invalid arguments specified for command");
            return;
        }
        var w = ctx.Reply;
        w.WriteArrayHeader(keys.Count);
        foreach (var k in keys)
        {
            if (!withFlags) { w.WriteBulk(args[k.Position]); continue; }
            w.WriteArrayHeader(2);
            w.WriteBulk(args[k.Position]);
            w.WriteSetHeader(k.Flags.Length);
            foreach (var f in k.Flags) w.WriteSimpleString(f);
        }
    }

    private static void Help(CommandContext ctx) => WriteHelp(ctx.Reply, "COMMAND",
    [
        "(no subcommand)", "    Describe every command.",
        "COUNT", "    Number of commands.",
        "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]", "    Names of the commands, optionally filtered.",
        "INFO [<command-name> ...]", "    Describe the named commands, or all of them.",
        "DOCS [<command-name> ...]", "    Documentation of the named commands, or of all of them.",
        "GETKEYS <full-command>", "    Keys of a complete command line.",
        "GETKEYSANDFLAGS <full-command>", "    Keys of a complete command line, with their access flags.",
    ]);

    /// <summary>The HELP reply layout Redis uses for every container: header, the lines, then HELP itself.</summary>
    public static void WriteHelp(RespWriter w, string command, string[] lines)
    {
        w.WriteArrayHeader(lines.Length + 3);
        w.WriteSimpleString($"{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        foreach (var l in lines) w.WriteSimpleString(l);
        w.WriteSimpleString("HELP");
        w.WriteSimpleString("    Print this help.");
    }

    /// <summary>Redis's glob (*, ?, [a-z], [^x], backslash escapes).</summary>
    public static bool GlobMatch(ReadOnlySpan<byte> p, ReadOnlySpan<byte> s, bool nocase)
    {
        while (p.Length > 0)
        {
            switch (p[0])
            {
                case (byte)'*':
                    while (p.Length > 1 && p[1] == '*') p = p[1..];
                    if (p.Length == 1) return true;
                    for (int i = 0; i <= s.Length; i++)
                        if (GlobMatch(p[1..], s[i..], nocase)) return true;
                    return false;
                case (byte)'?':
                    if (s.Length == 0) return false;
                    s = s[1..];
                    break;
                case (byte)'[':
                {
                    if (s.Length == 0) return false;
                    p = p[1..];
                    bool not = p.Length > 0 && p[0] == '^';
                    if (not) p = p[1..];
                    bool match = false;
                    while (p.Length > 0 && p[0] != ']')
                    {
                        if (p[0] == '\\' && p.Length >= 2) { p = p[1..]; if (Eq(p[0], s[0], nocase)) match = true; }
                        else if (p.Length >= 3 && p[1] == '-')
                        {
                            byte lo = p[0], hi = p[2], c = s[0];
                            if (lo > hi) (lo, hi) = (hi, lo);
                            if (nocase) { lo = Lower(lo); hi = Lower(hi); c = Lower(c); }
                            if (c >= lo && c <= hi) match = true;
                            p = p[2..];
                        }
                        else if (Eq(p[0], s[0], nocase)) match = true;
                        p = p[1..];
                    }
                    if (not) match = !match;
                    if (!match) return false;
                    s = s[1..];
                    if (p.Length == 0) return s.Length == 0; // unterminated class ends the pattern
                    break;
                }
                case (byte)'\\' when p.Length >= 2:
                    p = p[1..];
                    goto default;
                default:
                    if (s.Length == 0 || !Eq(p[0], s[0], nocase)) return false;
                    s = s[1..];
                    break;
            }
            p = p[1..];
        }
        return s.Length == 0;
    }

    private static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;
    private static bool Eq(byte a, byte b, bool nocase) => nocase ? Lower(a) == Lower(b) : a == b;
}
