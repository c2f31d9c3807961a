using System.Runtime.CompilerServices;
using Basalt.Protocol;
using Basalt.Server.Types;
using Basalt.Server.Keyspace;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>String commands: GET, SET and its variants, multi-key forms, APPEND, ranges.</summary>
public static class StringCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("get", 2, ReadOnly | Fast, 1, 1, 1, Get);
        t.Add("set", -3, Write | DenyOom, 1, 1, 1, Set);
        t.Add("setnx", 3, Write | DenyOom | Fast, 1, 1, 1, SetNx);
        t.Add("setex", 4, Write | DenyOom, 1, 1, 1, ctx => SetWithExpire(ctx, seconds: true));
        t.Add("psetex", 4, Write | DenyOom, 1, 1, 1, ctx => SetWithExpire(ctx, seconds: false));
        t.Add("getset", 3, Write | DenyOom | Fast, 1, 1, 1, GetSet);
        t.Add("getdel", 2, Write | Fast, 1, 1, 1, GetDel);
        t.Add("getex", -2, Write | Fast, 1, 1, 1, GetEx);
        t.Add("mget", -2, ReadOnly | Fast, 1, -1, 1, MGet);
        t.Add("mset", -3, Write | DenyOom, 1, -1, 2, ctx => MSet(ctx, nx: false));
        t.Add("msetnx", -3, Write | DenyOom, 1, -1, 2, ctx => MSet(ctx, nx: true));
        t.Add("append", 3, Write | DenyOom | Fast, 1, 1, 1, Append);
        t.Add("strlen", 2, ReadOnly | Fast, 1, 1, 1, StrLen);
        t.Add("getrange", 4, ReadOnly, 1, 1, 1, GetRange);
        t.Add("substr", 4, ReadOnly, 1, 1, 1, GetRange);
        t.Add("setrange", 4, Write | DenyOom, 1, 1, 1, SetRange);
        StringCounterCommands.Register(t);
        LcsCommand.Register(t);
    }

    /// <summary>Looks up a string value for reading: null when missing, replies WRONGTYPE and returns false for other types.</summary>
    internal static bool TryGetString(CommandContext ctx, ReadOnlySpan<byte> key, out byte[]? value)
    {
        var obj = ctx.Db.Lookup(key);
        if (obj is null) { value = null; ctx.Server.Stats.KeyspaceMisses++; Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.KeyMiss, "keymiss", key); return true; }
        ctx.Server.Stats.KeyspaceHits++;
        if (obj is byte[] b) { value = b; return true; }
        value = null;
        ctx.WrongType();
        return false;
    }

    /// <summary>Looks up a string for modification (no hit/miss stats); false after replying WRONGTYPE.</summary>
    internal static bool TryGetStringForWrite(CommandContext ctx, ReadOnlySpan<byte> key, out byte[]? value)
    {
        var obj = ctx.Db.Lookup(key);
        value = obj as byte[];
        if (obj is null || value is not null) return true;
        ctx.WrongType();
        return false;
    }

    /// <summary>The largest string a command may build (proto-max-bulk-len, capped by what an array can hold).</summary>
    internal static long MaxStringLength(CommandContext ctx) => Math.Min(ctx.Server.Config.ProtoMaxBulkLen, Array.MaxLength);

    /// <summary>Redis's size check before growing a string to size + append bytes; replies the error when too big.</summary>
    internal static bool CheckStringLength(CommandContext ctx, long size, long append)
    {
        long total = unchecked(size + append);
        if (total > MaxStringLength(ctx) || total < size || total < append)
        {
            ctx.Reply.WriteError(Errors.StringTooLong);
            return false;
        }
        return true;
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
        else slot = db.StringPool is { } pool ? pool.Copy(value) : value.ToArray();
        if (existed && !keepTtl && db.Expires.Count > 0) db.Expires.Remove(key);
        if (!existed) db.KeyAdded?.Invoke(db, key);
        db.KeyModified?.Invoke(db, key);
    }

    [Flags]
    private enum SetFlags { None = 0, Nx = 1, Xx = 2, Get = 4, KeepTtl = 8, Ex = 16, Px = 32, ExAt = 64, PxAt = 128, Persist = 256 }

    private const SetFlags AnyExpire = SetFlags.Ex | SetFlags.Px | SetFlags.ExAt | SetFlags.PxAt;

    /// <summary>
    /// Parses SET/GETEX options from argument <paramref name="start"/> with Redis's rules: a unit may repeat
    /// (the last value wins) but two different units, or a unit with KEEPTTL/PERSIST, are a syntax error.
    /// The expire value is only parsed afterwards, so syntax errors take precedence.
    /// </summary>
    private static bool ParseOptions(CommandContext ctx, int start, bool isSet, out SetFlags flags, out int expireArg)
    {
        flags = SetFlags.None;
        expireArg = -1;
        for (int i = start; i < ctx.Count; i++)
        {
            bool hasNext = i + 1 < ctx.Count;
            if (isSet && ctx.ArgIs(i, "nx"u8) && (flags & SetFlags.Xx) == 0) flags |= SetFlags.Nx;
            else if (isSet && ctx.ArgIs(i, "xx"u8) && (flags & SetFlags.Nx) == 0) flags |= SetFlags.Xx;
            else if (isSet && ctx.ArgIs(i, "get"u8)) flags |= SetFlags.Get;
            else if (isSet && ctx.ArgIs(i, "keepttl"u8) && (flags & AnyExpire) == 0) flags |= SetFlags.KeepTtl;
            else if (!isSet && ctx.ArgIs(i, "persist"u8) && (flags & AnyExpire) == 0) flags |= SetFlags.Persist;
            else if (hasNext && UnitOf(ctx, i) is var unit && unit != SetFlags.None &&
                     (flags & (SetFlags.KeepTtl | SetFlags.Persist | (AnyExpire & ~unit))) == 0)
            {
                flags |= unit;
                expireArg = ++i;
            }
            else { ctx.SyntaxError(); return false; }
        }
        return true;
    }

    private static SetFlags UnitOf(CommandContext ctx, int i) =>
        ctx.ArgIs(i, "ex"u8) ? SetFlags.Ex : ctx.ArgIs(i, "px"u8) ? SetFlags.Px :
        ctx.ArgIs(i, "exat"u8) ? SetFlags.ExAt : ctx.ArgIs(i, "pxat"u8) ? SetFlags.PxAt : SetFlags.None;

    /// <summary>Parses the expire argument into absolute unix ms, replying Redis's errors.</summary>
    private static bool ParseExpire(CommandContext ctx, int arg, bool seconds, bool absolute, out long expireAt)
    {
        expireAt = -1;
        if (!ctx.GetInt64OrReply(arg, out long n)) return false;
        if (Expiry.TryComputeExpireAt(n, seconds, absolute, out expireAt)) return true;
        ctx.Reply.WriteError(string.Format(Errors.InvalidExpire, ctx.Command.FullName));
        return false;
    }

    private static void Set(CommandContext ctx)
    {
        if (!ParseOptions(ctx, 3, isSet: true, out var flags, out int expireArg)) return;
        long expireAt = -1;
        if (expireArg > 0 && !ParseExpire(ctx, expireArg, (flags & (SetFlags.Ex | SetFlags.ExAt)) != 0,
                (flags & (SetFlags.ExAt | SetFlags.PxAt)) != 0, out expireAt)) return;
        SetGeneric(ctx, ctx.Arg(1), ctx.Arg(2), flags, expireAt);
    }

    /// <summary>The common tail of SET, SETNX, SETEX and PSETEX.</summary>
    private static void SetGeneric(CommandContext ctx, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, SetFlags flags, long expireAt,
        bool intReply = false)
    {
        var db = ctx.Db;
        if ((flags & (SetFlags.Nx | SetFlags.Xx | SetFlags.Get)) != 0)
        {
            if ((flags & SetFlags.Get) != 0)
            {
                if (!TryGetString(ctx, key, out var old)) return;
                if (old is null) ctx.Reply.WriteNull(); else ctx.Reply.WriteBulk(old);
            }
            bool exists = db.Lookup(key, touch: false) is not null;
            if (((flags & SetFlags.Nx) != 0 && exists) || ((flags & SetFlags.Xx) != 0 && !exists))
            {
                if (intReply) ctx.Reply.WriteInteger(0);
                else if ((flags & SetFlags.Get) == 0) ctx.Reply.WriteNull();
                return;
            }
        }
        else if (db.Expires.Count > 0)
        {
            db.Lookup(key, touch: false); // drop an expired key first so KEEPTTL cannot revive its TTL
        }
        StoreString(db, key, value, (flags & SetFlags.KeepTtl) != 0);
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "set", key);
        if (expireAt >= 0)
        {
            db.SetExpire(key, expireAt);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "expire", key);
        }
        // Replicas get an absolute time (SET key value PXAT ms), and never the GET option.
        if (ctx.Propagator.Active && (expireAt >= 0 || (flags & SetFlags.Get) != 0))
        {
            ctx.SuppressPropagation();
            if (expireAt >= 0) ctx.Propagator.Begin(ctx.Client.DbIndex, 5).Arg("SET"u8).Arg(key).Arg(value).Arg("PXAT"u8).Arg(expireAt).End();
            else Rewrites.AsReceivedWithout(ctx, GetArgIndex(ctx));
        }
        ctx.Server.Dirty++;
        if (intReply) ctx.Reply.WriteInteger(1);
        else if ((flags & SetFlags.Get) == 0) ctx.Reply.WriteOk();
    }

    private static int GetArgIndex(CommandContext ctx)
    {
        for (int i = 3; i < ctx.Count; i++) if (ctx.ArgIs(i, "get"u8)) return i;
        return -1;
    }

    private static void SetNx(CommandContext ctx) => SetGeneric(ctx, ctx.Arg(1), ctx.Arg(2), SetFlags.Nx, -1, intReply: true);

    private static void SetWithExpire(CommandContext ctx, bool seconds)
    {
        if (!ParseExpire(ctx, 2, seconds, absolute: false, out long expireAt)) return;
        SetGeneric(ctx, ctx.Arg(1), ctx.Arg(3), SetFlags.None, expireAt);
    }

    private static void GetSet(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!TryGetString(ctx, key, out var old)) return;
        if (old is null) ctx.Reply.WriteNull(); else ctx.Reply.WriteBulk(old);
        StoreString(ctx.Db, key, ctx.Arg(2), keepTtl: false);
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "set", key);
        if (Rewrites.Begin(ctx)) Rewrites.Op(ctx, "SET"u8, key, ctx.Arg(2));
        ctx.Server.Dirty++;
    }

    private static void GetDel(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!TryGetString(ctx, key, out var old)) return;
        if (old is null) { ctx.Reply.WriteNull(); return; }
        ctx.Reply.WriteBulk(old);
        ctx.Db.Delete(key);
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", key);
        if (Rewrites.Begin(ctx)) Rewrites.Del(ctx, key, "lazyfree-lazy-user-del");
        ctx.Server.Dirty++;
    }

    private static void GetEx(CommandContext ctx)
    {
        if (!ParseOptions(ctx, 2, isSet: false, out var flags, out int expireArg)) return;
        var key = ctx.Arg(1);
        if (!TryGetString(ctx, key, out var v)) return;
        if (v is null) { ctx.Reply.WriteNull(); return; }
        // Redis checks the expire value only once the key is known to hold a string.
        long expireAt = -1;
        bool absolute = (flags & (SetFlags.ExAt | SetFlags.PxAt)) != 0;
        if (expireArg > 0 && !ParseExpire(ctx, expireArg, (flags & (SetFlags.Ex | SetFlags.ExAt)) != 0, absolute, out expireAt)) return;
        ctx.Reply.WriteBulk(v);
        var db = ctx.Db;
        if (absolute && expireAt <= Database.NowMs)
        {
            db.Delete(key); // an absolute time already passed deletes the key
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", key);
            if (Rewrites.Begin(ctx)) Rewrites.Del(ctx, key, "lazyfree-lazy-expire");
            ctx.Server.Dirty++;
        }
        else if (expireAt >= 0)
        {
            db.SetExpire(key, expireAt);
            db.KeyModified?.Invoke(db, key);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "expire", key);
            if (Rewrites.Begin(ctx)) Rewrites.PExpireAt(ctx, key, expireAt);
            ctx.Server.Dirty++;
        }
        else if ((flags & SetFlags.Persist) != 0 && db.Persist(key))
        {
            db.KeyModified?.Invoke(db, key);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "persist", key);
            if (Rewrites.Begin(ctx)) Rewrites.Op(ctx, "PERSIST"u8, key);
            ctx.Server.Dirty++;
        }
    }

    private static void MGet(CommandContext ctx)
    {
        var db = ctx.Db;
        ctx.Reply.WriteArrayHeader(ctx.Count - 1);
        for (int i = 1; i < ctx.Count; i++)
        {
            var obj = db.Lookup(ctx.Arg(i));
            if (obj is null) { ctx.Server.Stats.KeyspaceMisses++; Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.KeyMiss, "keymiss", ctx.Arg(i)); }
            else ctx.Server.Stats.KeyspaceHits++;
            if (obj is byte[] b) ctx.Reply.WriteBulk(b); else ctx.Reply.WriteNull();
        }
    }

    private static void MSet(CommandContext ctx, bool nx)
    {
        if (ctx.Count % 2 == 0)
        {
            ctx.Reply.WriteError(Errors.WrongArity(ctx.Command.FullName));
            return;
        }
        var db = ctx.Db;
        if (nx)
        {
            for (int i = 1; i < ctx.Count; i += 2)
            {
                if (db.Lookup(ctx.Arg(i), touch: false) is not null) { ctx.Reply.WriteInteger(0); return; }
            }
        }
        for (int i = 1; i < ctx.Count; i += 2)
        {
            var key = ctx.Arg(i);
            if (db.Expires.Count > 0) db.Lookup(key, touch: false);
            StoreString(db, key, ctx.Arg(i + 1), keepTtl: false);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "set", key);
        }
        ctx.Server.Dirty += (ctx.Count - 1) / 2;
        if (nx) ctx.Reply.WriteInteger(1); else ctx.Reply.WriteOk();
    }

    private static void Append(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var add = ctx.Arg(2);
        var db = ctx.Db;
        ref object slot = ref db.LookupSlotForGrowth(key);
        long total;
        if (Unsafe.IsNullRef(ref slot))
        {
            db.Set(key, add.ToArray());
            total = add.Length;
        }
        else if (slot is GrowableString g)
        {
            if (!CheckStringLength(ctx, g.Length, add.Length)) return;
            int at = g.Length;
            g.EnsureLength(at + (long)add.Length);
            add.CopyTo(g.Buffer.AsSpan(at));
            db.KeyModified?.Invoke(db, key);
            total = g.Length;
        }
        else if (slot is byte[] old)
        {
            if (!CheckStringLength(ctx, old.Length, add.Length)) return;
            // A string that is appended to gets spare room, so the next appends do not copy it again.
            var grown = new GrowableString(old, GrowableString.GreedyCapacity(old.Length + (long)add.Length));
            grown.EnsureLength(old.Length + (long)add.Length);
            add.CopyTo(grown.Buffer.AsSpan(old.Length));
            slot = grown;
            db.KeyModified?.Invoke(db, key);
            total = grown.Length;
        }
        else { ctx.WrongType(); return; }
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "append", key);
        ctx.Server.Dirty++;
        ctx.Reply.WriteInteger(total);
    }

    private static void StrLen(CommandContext ctx)
    {
        if (!TryGetString(ctx, ctx.Arg(1), out var v)) return;
        ctx.Reply.WriteInteger(v?.Length ?? 0);
    }

    private static void GetRange(CommandContext ctx)
    {
        if (!ctx.GetInt64OrReply(2, out long start) || !ctx.GetInt64OrReply(3, out long end)) return;
        if (!TryGetString(ctx, ctx.Arg(1), out var v)) return;
        if (v is null || (start < 0 && end < 0 && start > end)) { ctx.Reply.WriteBulk(ReadOnlySpan<byte>.Empty); return; }
        long len = v.Length;
        if (start < 0) start += len;
        if (end < 0) end += len;
        if (start < 0) start = 0;
        if (end < 0) end = 0;
        if (end >= len) end = len - 1;
        if (start > end || len == 0) ctx.Reply.WriteBulk(ReadOnlySpan<byte>.Empty);
        else ctx.Reply.WriteBulk(v.AsSpan((int)start, (int)(end - start + 1)));
    }

    private static void SetRange(CommandContext ctx)
    {
        if (!ctx.GetInt64OrReply(2, out long offset)) return;
        if (offset < 0) { ctx.Reply.WriteError("ERR offset is out of range"); return; }
        var key = ctx.Arg(1);
        var value = ctx.Arg(3);
        var db = ctx.Db;
        ref object slot = ref db.LookupSlotForGrowth(key);
        bool exists = !Unsafe.IsNullRef(ref slot);
        if (exists && slot is not byte[] and not GrowableString) { ctx.WrongType(); return; }
        long length = !exists ? 0 : slot is GrowableString gs ? gs.Length : ((byte[])slot).Length;
        if (value.Length == 0)
        {
            ctx.Reply.WriteInteger(length);
            return;
        }
        if (!CheckStringLength(ctx, offset, value.Length)) return;
        long needed = offset + value.Length;
        if (!exists)
        {
            var created = new byte[needed];
            value.CopyTo(created.AsSpan((int)offset));
            db.Set(key, created, keepTtl: true);
            length = needed;
        }
        else if (slot is byte[] old && needed <= old.Length)
        {
            value.CopyTo(old.AsSpan((int)offset));
            db.KeyModified?.Invoke(db, key);
        }
        else
        {
            // Growing an existing string: keep spare room, as Redis's sds does, so repeated growth is not quadratic.
            if (slot is not GrowableString g) slot = g = new GrowableString((byte[])slot, GrowableString.GreedyCapacity(needed));
            g.EnsureLength(needed);
            value.CopyTo(g.Buffer.AsSpan((int)offset));
            db.KeyModified?.Invoke(db, key);
            length = g.Length;
        }
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "setrange", key);
        ctx.Server.Dirty++;
        ctx.Reply.WriteInteger(length);
    }
}
