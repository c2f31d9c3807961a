using Basalt.Protocol;
using Basalt.Server.Keyspace;
using Basalt.Server.Notifications;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>Generic key commands: DEL, EXISTS, TYPE, renaming, copying, moving, TOUCH, RANDOMKEY.</summary>
public static class KeyCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("del", -2, Write, 1, -1, 1, Del);
        t.Add("unlink", -2, Write | Fast, 1, -1, 1, Del);
        t.Add("exists", -2, ReadOnly | Fast, 1, -1, 1, Exists);
        t.Add("type", 2, ReadOnly | Fast, 1, 1, 1, Type);
        t.Add("rename", 3, Write, 1, 2, 1, ctx => Rename(ctx, nx: false));
        t.Add("renamenx", 3, Write | Fast, 1, 2, 1, ctx => Rename(ctx, nx: true));
        t.Add("copy", -3, Write | DenyOom, 1, 2, 1, Copy);
        t.Add("move", 3, Write | Fast, 1, 1, 1, Move);
        t.Add("touch", -2, ReadOnly | Fast, 1, -1, 1, Touch);
        t.Add("randomkey", 1, ReadOnly, 0, 0, 0, RandomKey);
        ExpireCommands.Register(t);
        ScanCommands.Register(t);
    }

    /// <summary>A read lookup as Redis's lookupKeyRead: hides/deletes expired keys and counts keyspace hits and misses.</summary>
    internal static object? LookupRead(CommandContext ctx, ReadOnlySpan<byte> key, bool touch)
    {
        var o = ctx.Db.Lookup(key, touch);
        if (o is null) { ctx.Server.Stats.KeyspaceMisses++; Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.KeyMiss, "keymiss", key); }
        else ctx.Server.Stats.KeyspaceHits++;
        return o;
    }

    /// <summary>
    /// Parses a 32-bit integer argument as Redis's getIntFromObjectOrReply: a non-number and an out-of-range
    /// number get different errors unless <paramref name="message"/> replaces both.
    /// </summary>
    internal static bool GetIntOrReply(CommandContext ctx, int i, out int value, string? message = null)
    {
        value = 0;
        if (!RespNumbers.TryParseInt64(ctx.Arg(i), out long v))
        {
            ctx.Reply.WriteError(message ?? Errors.NotInteger);
            return false;
        }
        if (v < int.MinValue || v > int.MaxValue)
        {
            ctx.Reply.WriteError(message ?? "ERR value is out of range, value must between -2147483648 and 2147483647");
            return false;
        }
        value = (int)v;
        return true;
    }

    private static void Del(CommandContext ctx)
    {
        var db = ctx.Db;
        long n = 0;
        for (int i = 1; i < ctx.Count; i++)
        {
            var key = ctx.Arg(i);
            if (db.Lookup(key, touch: false) is not null && db.Delete(key))
            {
                KeyspaceEvents.Notify(ctx, KeyspaceEvents.Generic, "del", key);
                n++;
            }
        }
        ctx.Server.Dirty += n;
        ctx.Reply.WriteInteger(n);
    }

    private static void Exists(CommandContext ctx)
    {
        long n = 0;
        for (int i = 1; i < ctx.Count; i++) if (LookupRead(ctx, ctx.Arg(i), touch: false) is not null) n++;
        ctx.Reply.WriteInteger(n);
    }

    private static void Type(CommandContext ctx) =>
        ctx.Reply.WriteSimpleString(ValueTypes.TypeName(LookupRead(ctx, ctx.Arg(1), touch: false)));

    private static void Touch(CommandContext ctx)
    {
        long n = 0;
        for (int i = 1; i < ctx.Count; i++) if (LookupRead(ctx, ctx.Arg(i), touch: true) is not null) n++;
        ctx.Reply.WriteInteger(n);
    }

    private static void RandomKey(CommandContext ctx)
    {
        var key = ctx.Db.RandomKey();
        if (key is null) ctx.Reply.WriteNull(); else ctx.Reply.WriteBulk(key);
    }

    /// <summary>Puts <paramref name="value"/> under a new key in <paramref name="dst"/>, with the TTL and LRU stamp it had.</summary>
    private static void AddMoved(Database dst, byte[] key, object value, long expireAt, uint lru)
    {
        dst.Add(key, value);
        if (expireAt != -1) dst.SetExpire(key, expireAt);
        int i = dst.Keys.IndexOf(key);
        if (i >= 0) dst.Keys.SetLru(i, lru);
    }

    private static void Rename(CommandContext ctx, bool nx)
    {
        var db = ctx.Db;
        var src = ctx.Arg(1);
        var dst = ctx.Arg(2);
        var value = db.Lookup(src);
        if (value is null) { ctx.Reply.WriteError(Errors.NoSuchKey); return; }
        if (src.SequenceEqual(dst))
        {
            if (nx) ctx.Reply.WriteInteger(0); else ctx.Reply.WriteOk();
            return;
        }
        long expireAt = db.GetExpire(src);
        uint lru = db.Keys.LruAt(db.Keys.IndexOf(src));
        if (db.Lookup(dst, touch: false) is not null)
        {
            if (nx) { ctx.Reply.WriteInteger(0); return; }
            db.Delete(dst);
        }
        db.Delete(src);
        AddMoved(db, ctx.ArgBytes(2), value, expireAt, lru);
        KeyspaceEvents.Notify(ctx, KeyspaceEvents.Generic, "rename_from", src);
        KeyspaceEvents.Notify(ctx, KeyspaceEvents.Generic, "rename_to", dst);
        ctx.Server.Dirty++;
        if (nx) ctx.Reply.WriteInteger(1); else ctx.Reply.WriteOk();
    }

    private static void Move(CommandContext ctx)
    {
        var src = ctx.Db;
        if (!GetIntOrReply(ctx, 2, out int dbid)) return;
        var dbs = ctx.Server.Databases;
        if (dbid < 0 || dbid >= dbs.Length) { ctx.Reply.WriteError(Errors.DbIndexOutOfRange); return; }
        var dst = dbs[dbid];
        if (dst == src) { ctx.Reply.WriteError("ERR source and destination objects are the same"); return; }
        var key = ctx.Arg(1);
        var value = src.Lookup(key);
        if (value is null) { ctx.Reply.WriteInteger(0); return; }
        long expireAt = src.GetExpire(key);
        if (dst.Lookup(key, touch: false) is not null) { ctx.Reply.WriteInteger(0); return; }
        uint lru = src.Keys.LruAt(src.Keys.IndexOf(key));
        src.Delete(key);
        AddMoved(dst, ctx.ArgBytes(1), value, expireAt, lru);
        KeyspaceEvents.Notify(ctx.Server, KeyspaceEvents.Generic, "move_from", src.Index, key);
        KeyspaceEvents.Notify(ctx.Server, KeyspaceEvents.Generic, "move_to", dst.Index, key);
        ctx.Server.Dirty++;
        ctx.Reply.WriteInteger(1);
    }

    private static void Copy(CommandContext ctx)
    {
        var src = ctx.Db;
        var dst = src;
        bool replace = false;
        for (int j = 3; j < ctx.Count; j++)
        {
            if (ctx.ArgIs(j, "replace"u8)) replace = true;
            else if (ctx.ArgIs(j, "db"u8) && j + 1 < ctx.Count)
            {
                if (!GetIntOrReply(ctx, j + 1, out int dbid)) return;
                var dbs = ctx.Server.Databases;
                if (dbid < 0 || dbid >= dbs.Length) { ctx.Reply.WriteError(Errors.DbIndexOutOfRange); return; }
                dst = dbs[dbid];
                j++;
            }
            else { ctx.SyntaxError(); return; }
        }
        var key = ctx.Arg(1);
        var newKey = ctx.Arg(2);
        if (src == dst && key.SequenceEqual(newKey))
        {
            ctx.Reply.WriteError("ERR source and destination objects are the same");
            return;
        }
        var value = LookupRead(ctx, key, touch: true);
        if (value is null) { ctx.Reply.WriteInteger(0); return; }
        long expireAt = src.GetExpire(key);
        if (dst.Lookup(newKey, touch: false) is not null)
        {
            if (!replace) { ctx.Reply.WriteInteger(0); return; }
            dst.Delete(newKey);
        }
        var copy = ValueTypes.Clone(value);
        var owned = ctx.ArgBytes(2);
        dst.Add(owned, copy);
        if (expireAt != -1) dst.SetExpire(owned, expireAt);
        KeyspaceEvents.Notify(ctx.Server, KeyspaceEvents.Generic, "copy_to", dst.Index, owned);
        ctx.Server.Dirty++;
        ctx.Reply.WriteInteger(1);
    }
}
