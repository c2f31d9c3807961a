using Basalt.Protocol;
using Basalt.Server.Keyspace;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>String commands: GET, SET and friends, counters, ranges.</summary>
public static class StringCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("get", 2, ReadOnly | Fast, 1, 1, 1, Get);
        t.Add("set", -3, Write | DenyOom, 1, 1, 1, Set);
    }

    /// <summary>Looks up a string value for reading: null when missing, replies WRONGTYPE and returns false for other types.</summary>
    internal static bool TryGetString(CommandContext ctx, ReadOnlySpan<byte> key, out byte[]? value)
    {
        var obj = ctx.Db.Lookup(key);
        if (obj is null) { value = null; ctx.Server.Stats.KeyspaceMisses++; return true; }
        ctx.Server.Stats.KeyspaceHits++;
        if (obj is byte[] b) { value = b; return true; }
        value = null;
        ctx.WrongType();
        return false;
    }

    private static void Get(CommandContext ctx)
    {
        if (!TryGetString(ctx, ctx.Arg(1), out var v)) return;
        if (v is null) ctx.Reply.WriteNull(); else ctx.Reply.WriteBulk(v);
    }

    /// <summary>Stores a string, reusing the existing array when the new value has the same length (no garbage on overwrite).</summary>
    internal static void StoreString(Database db, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keepTtl)
    {
        ref object slot = ref db.Keys.GetValueRefOrAdd(key, out bool existed);
        if (existed && slot is byte[] old && old.Length == value.Length) value.CopyTo(old);
        else slot = value.ToArray();
        if (existed && !keepTtl && db.Expires.Count > 0) db.Expires.Remove(key);
        db.KeyModified?.Invoke(db, key);
    }

    [Flags]
    private enum SetFlags { None = 0, Nx = 1, Xx = 2, Get = 4, KeepTtl = 8, Ex = 16, Px = 32, ExAt = 64, PxAt = 128 }

    private static void Set(CommandContext ctx)
    {
        var flags = SetFlags.None;
        long expireAt = -1;
        for (int i = 3; i < ctx.Count; i++)
        {
            var a = ctx.Arg(i);
            bool hasNext = i + 1 < ctx.Count;
            if (ctx.ArgIs(i, "nx"u8) && (flags & SetFlags.Xx) == 0) flags |= SetFlags.Nx;
            else if (ctx.ArgIs(i, "xx"u8) && (flags & SetFlags.Nx) == 0) flags |= SetFlags.Xx;
            else if (ctx.ArgIs(i, "get"u8)) flags |= SetFlags.Get;
            else if (ctx.ArgIs(i, "keepttl"u8) && (flags & (SetFlags.Ex | SetFlags.Px | SetFlags.ExAt | SetFlags.PxAt)) == 0) flags |= SetFlags.KeepTtl;
            else if (hasNext && (flags & (SetFlags.KeepTtl | SetFlags.Ex | SetFlags.Px | SetFlags.ExAt | SetFlags.PxAt)) == 0 &&
                     (ctx.ArgIs(i, "ex"u8) || ctx.ArgIs(i, "px"u8) || ctx.ArgIs(i, "exat"u8) || ctx.ArgIs(i, "pxat"u8)))
            {
                var unit = ctx.ArgIs(i, "ex"u8) ? SetFlags.Ex : ctx.ArgIs(i, "px"u8) ? SetFlags.Px : ctx.ArgIs(i, "exat"u8) ? SetFlags.ExAt : SetFlags.PxAt;
                flags |= unit;
                i++;
                if (!ctx.GetInt64OrReply(i, out long n)) return;
                if (!Expiry.TryComputeExpireAt(n, unit == SetFlags.Ex || unit == SetFlags.ExAt, unit == SetFlags.ExAt || unit == SetFlags.PxAt, out expireAt))
                {
                    ctx.Reply.WriteError(string.Format(Errors.InvalidExpire, "set"));
                    return;
                }
            }
            else { ctx.SyntaxError(); return; }
        }

        var db = ctx.Db;
        var key = ctx.Arg(1);
        var value = ctx.Arg(2);
        if ((flags & (SetFlags.Nx | SetFlags.Xx | SetFlags.Get)) != 0)
        {
            var existing = db.Lookup(key);
            if ((flags & SetFlags.Get) != 0)
            {
                if (existing is not null && existing is not byte[]) { ctx.WrongType(); return; }
                if (existing is byte[] old) ctx.Reply.WriteBulk(old); else ctx.Reply.WriteNull();
            }
            bool exists = existing is not null;
            if (((flags & SetFlags.Nx) != 0 && exists) || ((flags & SetFlags.Xx) != 0 && !exists))
            {
                if ((flags & SetFlags.Get) == 0) ctx.Reply.WriteNull();
                return;
            }
        }
        else if (db.Expires.Count > 0)
        {
            db.Lookup(key, touch: false); // drop an expired key first so KEEPTTL cannot revive its TTL
        }
        StoreString(db, key, value, (flags & SetFlags.KeepTtl) != 0);
        if (expireAt >= 0) db.SetExpire(key, expireAt);
        ctx.Server.Dirty++;
        if ((flags & SetFlags.Get) == 0) ctx.Reply.WriteOk();
    }
}
