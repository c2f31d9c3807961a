using Basalt.Protocol;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT|HELP. Registered from <see cref="DebugCommands.Register"/>.</summary>
public static class ObjectCommand
{
    private const string NoLfu = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    private const string NoLru = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

    /// <summary>Redis shares one object for the integers 0..9999, which reports this reference count.</summary>
    public const int SharedRefCount = int.MaxValue;

    public static void Register(CommandTable t)
    {
        var c = t.AddContainer("object", -2);
        CommandTable.AddSub(c, "encoding", 3, ReadOnly, 2, 2, 1, Encoding);
        CommandTable.AddSub(c, "freq", 3, ReadOnly, 2, 2, 1, Freq);
        CommandTable.AddSub(c, "idletime", 3, ReadOnly, 2, 2, 1, IdleTime);
        CommandTable.AddSub(c, "refcount", 3, ReadOnly, 2, 2, 1, RefCount);
        CommandTable.AddSub(c, "help", 2, Loading | Stale, 0, 0, 0, ctx => CommandCommand.WriteHelp(ctx.Reply, "OBJECT",
        [
            "ENCODING <key>", "    Internal representation of the value at <key>.",
            "FREQ <key>", "    Logarithmic access frequency counter of <key> (LFU policies only).",
            "IDLETIME <key>", "    Seconds since <key> was last read or written (not under LFU policies).",
            "REFCOUNT <key>", "    Number of references to the value at <key>.",
        ]));
    }

    /// <summary>Looks the key up without touching its access time; replies null when missing.</summary>
    private static object? LookupOrNull(CommandContext ctx)
    {
        var v = ctx.Db.Lookup(ctx.Arg(2), touch: false);
        if (v is null) ctx.Reply.WriteNull();
        return v;
    }

    private static void Encoding(CommandContext ctx)
    {
        if (LookupOrNull(ctx) is { } v) ctx.Reply.WriteBulk(ValueTypes.Encoding(v));
    }

    private static bool LfuPolicy(CommandContext ctx) => ctx.Server.Config.Get("maxmemory-policy").Contains("lfu");

    private static void Freq(CommandContext ctx)
    {
        if (LookupOrNull(ctx) is null) return;
        if (!LfuPolicy(ctx)) { ctx.Reply.WriteError(NoLfu); return; }
        int i = ctx.Db.Keys.IndexOf(ctx.Arg(2));
        ctx.Reply.WriteInteger(i < 0 ? 0 : ctx.Db.Keys.LfuAt(i));
    }

    private static void IdleTime(CommandContext ctx)
    {
        if (LookupOrNull(ctx) is null) return;
        if (LfuPolicy(ctx)) { ctx.Reply.WriteError(NoLru); return; }
        ctx.Reply.WriteInteger(IdleSeconds(ctx.Db, ctx.Arg(2)));
    }

    public static long IdleSeconds(Keyspace.Database db, ReadOnlySpan<byte> key)
    {
        int i = db.Keys.IndexOf(key);
        return i < 0 ? 0 : Keyspace.LruClock.IdleSeconds(db.Keys.LruAt(i));
    }

    private static void RefCount(CommandContext ctx)
    {
        if (LookupOrNull(ctx) is { } v) ctx.Reply.WriteInteger(RefCountOf(ctx, v));
    }

    /// <summary>
    /// 1, except for the small integers Redis stores as shared objects (only when maxmemory is off
    /// or the policy does not track per-key LRU/LFU data).
    /// </summary>
    public static int RefCountOf(CommandContext ctx, object value)
    {
        if (value is byte[] b && b.Length <= 4 && RespNumbers.TryParseInt64(b, out long n) && n is >= 0 and < 10000)
        {
            var cfg = ctx.Server.Config;
            string policy = cfg.Get("maxmemory-policy");
            bool noShared = policy.Contains("lru") || policy.Contains("lfu");
            if (cfg.Get("maxmemory") is "0" or "" || !noShared) return SharedRefCount;
        }
        return 1;
    }
}
