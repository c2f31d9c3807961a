using Basalt.Protocol;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT.</summary>
public static class StringCounterCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("incr", 2, Write | DenyOom | Fast, 1, 1, 1, ctx => IncrDecr(ctx, 1));
        t.Add("decr", 2, Write | DenyOom | Fast, 1, 1, 1, ctx => IncrDecr(ctx, -1));
        t.Add("incrby", 3, Write | DenyOom | Fast, 1, 1, 1, IncrBy);
        t.Add("decrby", 3, Write | DenyOom | Fast, 1, 1, 1, DecrBy);
        t.Add("incrbyfloat", 3, Write | DenyOom | Fast, 1, 1, 1, IncrByFloat);
    }

    private static void IncrBy(CommandContext ctx)
    {
        if (!ctx.GetInt64OrReply(2, out long incr)) return;
        IncrDecr(ctx, incr);
    }

    private static void DecrBy(CommandContext ctx)
    {
        if (!ctx.GetInt64OrReply(2, out long decr)) return;
        if (decr == long.MinValue) { ctx.Reply.WriteError("ERR decrement would overflow"); return; }
        IncrDecr(ctx, -decr);
    }

    private static void IncrDecr(CommandContext ctx, long incr)
    {
        var key = ctx.Arg(1);
        if (!StringCommands.TryGetStringForWrite(ctx, key, out var old)) return;
        long value = 0;
        if (old is not null && !RespNumbers.TryParseInt64(old, out value)) { ctx.Reply.WriteError(Errors.NotInteger); return; }
        if ((incr < 0 && value < 0 && incr < long.MinValue - value) || (incr > 0 && value > 0 && incr > long.MaxValue - value))
        {
            ctx.Reply.WriteError(Errors.Overflow);
            return;
        }
        value += incr;
        Span<byte> tmp = stackalloc byte[24];
        int n = RespNumbers.FormatInt64(value, tmp);
        StringCommands.StoreString(ctx.Db, key, tmp[..n], keepTtl: true);
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "incrby", key);
        ctx.Server.Dirty++;
        ctx.Reply.WriteInteger(value);
    }

    private static void IncrByFloat(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!StringCommands.TryGetStringForWrite(ctx, key, out var old)) return;
        var value = LongDouble.Zero;
        if ((old is not null && !LongDouble.TryParse(old, out value)) || !LongDouble.TryParse(ctx.Arg(2), out var incr))
        {
            ctx.Reply.WriteError(Errors.NotFloat);
            return;
        }
        var sum = LongDouble.Add(value, incr);
        if (sum.IsInfinityOrNaN)
        {
            ctx.Reply.WriteError("ERR increment would produce NaN or Infinity");
            return;
        }
        var text = System.Text.Encoding.ASCII.GetBytes(sum.ToHumanString());
        StringCommands.StoreString(ctx.Db, key, text, keepTtl: true);
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "incrbyfloat", key);
        // Float formatting may differ between hosts: replicas get the result.
        if (Rewrites.Begin(ctx)) Rewrites.Op(ctx, "SET"u8, key, text, "KEEPTTL"u8);
        ctx.Server.Dirty++;
        ctx.Reply.WriteBulk(text);
    }
}
