using Basalt.Server.Keyspace;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>Key expiry: EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (NX XX GT LT), TTL/PTTL, EXPIRETIME/PEXPIRETIME, PERSIST.</summary>
public static class ExpireCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("expire", -3, Write | Fast, 1, 1, 1, ctx => Expire(ctx, seconds: true, absolute: false));
        t.Add("pexpire", -3, Write | Fast, 1, 1, 1, ctx => Expire(ctx, seconds: false, absolute: false));
        t.Add("expireat", -3, Write | Fast, 1, 1, 1, ctx => Expire(ctx, seconds: true, absolute: true));
        t.Add("pexpireat", -3, Write | Fast, 1, 1, 1, ctx => Expire(ctx, seconds: false, absolute: true));
        t.Add("ttl", 2, ReadOnly | Fast, 1, 1, 1, ctx => Ttl(ctx, ms: false, absolute: false));
        t.Add("pttl", 2, ReadOnly | Fast, 1, 1, 1, ctx => Ttl(ctx, ms: true, absolute: false));
        t.Add("expiretime", 2, ReadOnly | Fast, 1, 1, 1, ctx => Ttl(ctx, ms: false, absolute: true));
        t.Add("pexpiretime", 2, ReadOnly | Fast, 1, 1, 1, ctx => Ttl(ctx, ms: true, absolute: true));
        t.Add("persist", 2, Write | Fast, 1, 1, 1, Persist);
    }

    [Flags]
    private enum Cond { None = 0, Nx = 1, Xx = 2, Gt = 4, Lt = 8 }

    private static void Expire(CommandContext ctx, bool seconds, bool absolute)
    {
        // Options are validated before the time argument, as Redis does.
        var cond = Cond.None;
        for (int j = 3; j < ctx.Count; j++)
        {
            if (ctx.ArgIs(j, "nx"u8)) cond |= Cond.Nx;
            else if (ctx.ArgIs(j, "xx"u8)) cond |= Cond.Xx;
            else if (ctx.ArgIs(j, "gt"u8)) cond |= Cond.Gt;
            else if (ctx.ArgIs(j, "lt"u8)) cond |= Cond.Lt;
            else { ctx.Reply.WriteError("ERR Unsupported option " + ctx.ArgString(j)); return; }
        }
        if ((cond & Cond.Nx) != 0 && (cond & (Cond.Xx | Cond.Gt | Cond.Lt)) != 0)
        {
            ctx.Reply.WriteError("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if ((cond & (Cond.Gt | Cond.Lt)) == (Cond.Gt | Cond.Lt))
        {
            ctx.Reply.WriteError("ERR GT and LT options at the same time are not compatible");
            return;
        }
        if (!ctx.GetInt64OrReply(2, out long when)) return;

        // Negative times are allowed (they delete the key); only overflow is an error.
        if (seconds)
        {
            if (when > long.MaxValue / 1000 || when < long.MinValue / 1000) { InvalidTime(ctx); return; }
            when *= 1000;
        }
        long basetime = absolute ? 0 : Database.NowMs;
        if (when > long.MaxValue - basetime) { InvalidTime(ctx); return; }
        when += basetime;

        var db = ctx.Db;
        var key = ctx.Arg(1);
        if (db.Lookup(key) is null) { ctx.Reply.WriteInteger(0); return; }

        if (cond != Cond.None)
        {
            long current = db.GetExpire(key);
            bool fail = ((cond & Cond.Nx) != 0 && current != -1)
                || ((cond & Cond.Xx) != 0 && current == -1)
                || ((cond & Cond.Gt) != 0 && (current == -1 || when <= current))   // no TTL counts as infinite
                || ((cond & Cond.Lt) != 0 && current != -1 && when >= current);
            if (fail) { ctx.Reply.WriteInteger(0); return; }
        }

        // A time already past deletes the key (replicated as a DEL; not counted as an expiry).
        if (when <= Database.NowMs && Database.ExpireOnRead)
        {
            db.Delete(key);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", key);
            if (Rewrites.Begin(ctx)) Rewrites.Del(ctx, key, "lazyfree-lazy-expire");
        }
        else
        {
            db.SetExpire(key, when);
            db.KeyModified?.Invoke(db, key);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "expire", key);
            // Replicas get the absolute time (PEXPIREAT itself goes as received); the condition flags stay.
            if ((seconds || !absolute) && Rewrites.Begin(ctx)) Rewrites.PExpireAt(ctx, key, when, from: 3);
        }
        ctx.Server.Dirty++;
        ctx.Reply.WriteInteger(1);
    }

    private static void InvalidTime(CommandContext ctx) =>
        ctx.Reply.WriteError(string.Format(Errors.InvalidExpire, ctx.Command.FullName));

    private static void Ttl(CommandContext ctx, bool ms, bool absolute)
    {
        var key = ctx.Arg(1);
        if (KeyCommands.LookupRead(ctx, key, touch: false) is null) { ctx.Reply.WriteInteger(-2); return; }
        long expire = ctx.Db.GetExpire(key);
        if (expire == -1) { ctx.Reply.WriteInteger(-1); return; }
        long ttl = absolute ? expire : expire - Database.NowMs;
        if (ttl < 0) ttl = 0;
        ctx.Reply.WriteInteger(ms ? ttl : (ttl + 500) / 1000);
    }

    private static void Persist(CommandContext ctx)
    {
        var db = ctx.Db;
        var key = ctx.Arg(1);
        if (db.Lookup(key) is null || !db.Persist(key)) { ctx.Reply.WriteInteger(0); return; }
        db.KeyModified?.Invoke(db, key);
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "persist", key);
        ctx.Server.Dirty++;
        ctx.Reply.WriteInteger(1);
    }
}
