using Basalt.Server.Keyspace;
using Basalt.Server.Notifications;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>List commands (non-blocking). Blocking ones are in <see cref="ListBlockingCommands"/>.</summary>
public static class ListCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("lpush", -3, Write | DenyOom | Fast, 1, 1, 1, ctx => Push(ctx, head: true, xx: false));
        t.Add("rpush", -3, Write | DenyOom | Fast, 1, 1, 1, ctx => Push(ctx, head: false, xx: false));
        t.Add("lpushx", -3, Write | DenyOom | Fast, 1, 1, 1, ctx => Push(ctx, head: true, xx: true));
        t.Add("rpushx", -3, Write | DenyOom | Fast, 1, 1, 1, ctx => Push(ctx, head: false, xx: true));
        t.Add("lpop", -2, Write | Fast, 1, 1, 1, ctx => Pop(ctx, head: true));
        t.Add("rpop", -2, Write | Fast, 1, 1, 1, ctx => Pop(ctx, head: false));
        t.Add("llen", 2, ReadOnly | Fast, 1, 1, 1, LLen);
        t.Add("lrange", 4, ReadOnly, 1, 1, 1, LRange);
        t.Add("lindex", 3, ReadOnly, 1, 1, 1, LIndex);
        t.Add("lset", 4, Write | DenyOom, 1, 1, 1, LSet);
        t.Add("linsert", 5, Write | DenyOom, 1, 1, 1, LInsert);
        t.Add("lrem", 4, Write, 1, 1, 1, LRem);
        t.Add("ltrim", 4, Write, 1, 1, 1, LTrim);
        t.Add("lpos", -3, ReadOnly, 1, 1, 1, LPos);
        t.Add("lmove", 5, Write | DenyOom, 1, 2, 1, LMove);
        t.Add("rpoplpush", 3, Write | DenyOom, 1, 2, 1, ctx => Move(ctx, fromHead: false, toHead: true));
        t.Add("lmpop", -4, Write, 0, 0, 0, ctx => ListBlockingCommands.MPop(ctx, numkeysIndex: 1, blocking: false));
        ListBlockingCommands.Register(t);
    }

    internal static int Fill(CommandContext ctx) => ctx.Server.Config.ListMaxListpackSize;

    /// <summary>After an in-place change: deletes the key when the list became empty, else reports the change.</summary>
    /// <summary>After a change that may empty the list: notifies <paramref name="eventName"/>, then deletes an empty list ("del").</summary>
    internal static void Changed(RedisServer server, Database db, ReadOnlySpan<byte> key, RedisList list, string eventName)
    {
        KeyspaceEvents.Notify(server, KeyspaceEvents.List, eventName, db.Index, key);
        if (list.Count == 0)
        {
            db.Delete(key);
            KeyspaceEvents.Notify(server, KeyspaceEvents.Generic, "del", db.Index, key);
        }
        else db.KeyModified?.Invoke(db, key);
    }

    internal static string PopEvent(bool head) => head ? "lpop" : "rpop";
    internal static string PushEvent(bool head) => head ? "lpush" : "rpush";

    private static void Push(CommandContext ctx, bool head, bool xx)
    {
        if (!ctx.TryLookupForWrite<RedisList>(ctx.Arg(1), out var list)) return;
        if (list is null)
        {
            if (xx) { ctx.Reply.WriteInteger(0); return; }
            list = new RedisList();
            int fill = Fill(ctx);
            for (int i = 2; i < ctx.Count; i++) list.Push(ctx.Arg(i), head, fill);
            ctx.Db.Add(ctx.ArgBytes(1), list);
        }
        else
        {
            int fill = Fill(ctx);
            for (int i = 2; i < ctx.Count; i++) list.Push(ctx.Arg(i), head, fill);
            ctx.Db.KeyModified?.Invoke(ctx.Db, ctx.Arg(1));
        }
        KeyspaceEvents.Notify(ctx, KeyspaceEvents.List, PushEvent(head), ctx.Arg(1));
        ctx.Server.Dirty += ctx.Count - 2;
        ctx.Reply.WriteInteger(list.Count);
    }

    private static void Pop(CommandContext ctx, bool head)
    {
        long count = 0;
        bool hasCount = false;
        if (ctx.Count > 3) { ctx.Reply.WriteError(Errors.WrongArity(ctx.Command.FullName)); return; }
        if (ctx.Count == 3)
        {
            if (!ctx.TryArgInt64(2, out count) || count < 0) { ctx.Reply.WriteError(Errors.NotNegative); return; }
            hasCount = true;
        }
        var key = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisList>(key, out var list)) return;
        if (list is null)
        {
            if (hasCount) ctx.Reply.WriteNullArray(); else ctx.Reply.WriteNull();
            return;
        }
        if (!hasCount)
        {
            list.PopTo(ctx.Reply, head);
            ctx.Server.Dirty++;
        }
        else
        {
            long n = Math.Min(count, list.Count);
            ctx.Reply.WriteArrayHeader(n);
            if (n == 0) return;
            for (long i = 0; i < n; i++) list.PopTo(ctx.Reply, head);
            ctx.Server.Dirty += n;
        }
        Changed(ctx.Server, ctx.Db, key, list, PopEvent(head));
    }

    private static void LLen(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisList>(ctx.Arg(1), out var list)) return;
        ctx.Reply.WriteInteger(list?.Count ?? 0);
    }

    private static void LRange(CommandContext ctx)
    {
        if (!ctx.GetInt64OrReply(2, out long start) || !ctx.GetInt64OrReply(3, out long end)) return;
        if (!ctx.TryLookup<RedisList>(ctx.Arg(1), out var list)) return;
        if (list is null) { ctx.Reply.WriteArrayHeader(0); return; }
        long len = list.Count;
        if (start < 0) start += len;
        if (end < 0) end += len;
        if (start < 0) start = 0;
        if (start > end || start >= len) { ctx.Reply.WriteArrayHeader(0); return; }
        if (end >= len) end = len - 1;
        long n = end - start + 1;
        ctx.Reply.WriteArrayHeader(n);
        list.WriteRange(ctx.Reply, start, n);
    }

    private static void LIndex(CommandContext ctx)
    {
        if (!ctx.GetInt64OrReply(2, out long index)) return;
        if (!ctx.TryLookup<RedisList>(ctx.Arg(1), out var list)) return;
        if (list is null) { ctx.Reply.WriteNull(); return; }
        if (index < 0) index += list.Count;
        if (index < 0 || index >= list.Count) { ctx.Reply.WriteNull(); return; }
        ctx.Reply.WriteBulk(list.Get(index));
    }

    private static void LSet(CommandContext ctx)
    {
        if (!ctx.GetInt64OrReply(2, out long index)) return;
        var key = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisList>(key, out var list)) return;
        if (list is null) { ctx.Reply.WriteError(Errors.NoSuchKey); return; }
        if (index < 0) index += list.Count;
        if (index < 0 || index >= list.Count) { ctx.Reply.WriteError(Errors.OutOfRange); return; }
        list.Set(index, ctx.Arg(3), Fill(ctx));
        ctx.Db.KeyModified?.Invoke(ctx.Db, key);
        KeyspaceEvents.Notify(ctx, KeyspaceEvents.List, "lset", key);
        ctx.Server.Dirty++;
        ctx.Reply.WriteOk();
    }

    private static void LInsert(CommandContext ctx)
    {
        bool after;
        if (ctx.ArgIs(2, "after"u8)) after = true;
        else if (ctx.ArgIs(2, "before"u8)) after = false;
        else { ctx.SyntaxError(); return; }
        var key = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisList>(key, out var list)) return;
        if (list is null) { ctx.Reply.WriteInteger(0); return; }
        if (!list.Insert(ctx.Arg(3), after, ctx.Arg(4), Fill(ctx))) { ctx.Reply.WriteInteger(-1); return; }
        ctx.Db.KeyModified?.Invoke(ctx.Db, key);
        KeyspaceEvents.Notify(ctx, KeyspaceEvents.List, "linsert", key);
        ctx.Server.Dirty++;
        ctx.Reply.WriteInteger(list.Count);
    }

    private static void LRem(CommandContext ctx)
    {
        if (!ctx.GetInt64OrReply(2, out long count)) return;
        var key = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisList>(key, out var list)) return;
        if (list is null) { ctx.Reply.WriteInteger(0); return; }
        long removed = list.Remove(ctx.Arg(3), count);
        if (removed > 0)
        {
            Changed(ctx.Server, ctx.Db, key, list, "lrem");
            ctx.Server.Dirty += removed;
        }
        ctx.Reply.WriteInteger(removed);
    }

    private static void LTrim(CommandContext ctx)
    {
        if (!ctx.GetInt64OrReply(2, out long start) || !ctx.GetInt64OrReply(3, out long end)) return;
        var key = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisList>(key, out var list)) return;
        if (list is null) { ctx.Reply.WriteOk(); return; }
        long len = list.Count;
        if (start < 0) start += len;
        if (end < 0) end += len;
        if (start < 0) start = 0;
        long ltrim, rtrim;
        if (start > end || start >= len) { ltrim = len; rtrim = 0; }
        else
        {
            if (end >= len) end = len - 1;
            ltrim = start;
            rtrim = len - end - 1;
        }
        list.RemoveHead(ltrim);
        list.RemoveTail(rtrim);
        Changed(ctx.Server, ctx.Db, key, list, "ltrim");
        ctx.Server.Dirty += ltrim + rtrim;
        ctx.Reply.WriteOk();
    }

    private static void LPos(CommandContext ctx)
    {
        long rank = 1, count = -1, maxlen = 0;
        for (int i = 3; i < ctx.Count; i++)
        {
            bool more = i + 1 < ctx.Count;
            if (ctx.ArgIs(i, "rank"u8) && more)
            {
                if (!ctx.GetInt64OrReply(++i, out rank)) return;
                if (rank == 0)
                {
                    ctx.Reply.WriteError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                    return;
                }
            }
            else if (ctx.ArgIs(i, "count"u8) && more)
            {
                if (!ctx.GetInt64OrReply(++i, out count)) return;
                if (count < 0) { ctx.Reply.WriteError("ERR COUNT can't be negative"); return; }
            }
            else if (ctx.ArgIs(i, "maxlen"u8) && more)
            {
                if (!ctx.GetInt64OrReply(++i, out maxlen)) return;
                if (maxlen < 0) { ctx.Reply.WriteError("ERR MAXLEN can't be negative"); return; }
            }
            else { ctx.SyntaxError(); return; }
        }
        if (!ctx.TryLookup<RedisList>(ctx.Arg(1), out var list)) return;
        if (list is null)
        {
            if (count != -1) ctx.Reply.WriteArrayHeader(0); else ctx.Reply.WriteNull();
            return;
        }
        bool reverse = rank < 0;
        // Matches to skip before reporting. Redis negates the rank, so long.MinValue stays negative and acts as -1.
        ulong skip = rank == long.MinValue ? 0 : reverse ? (ulong)(-(rank + 1)) : (ulong)(rank - 1);
        var element = ctx.Arg(2);
        long len = list.Count;
        var cur = list.Iterate(reverse);
        long index = 0, scanned = 0, found = 0;
        ulong matches = 0;
        List<long>? positions = count != -1 ? new() : null;
        while ((maxlen == 0 || scanned < maxlen) && cur.Next(out var v))
        {
            if (v.SequenceEqual(element))
            {
                if (matches++ >= skip)
                {
                    long pos = reverse ? len - 1 - index : index;
                    if (positions is null) { ctx.Reply.WriteInteger(pos); return; }
                    positions.Add(pos);
                    found++;
                    if (count != 0 && found == count) break;
                }
            }
            index++;
            scanned++;
        }
        if (positions is null) { ctx.Reply.WriteNull(); return; }
        ctx.Reply.WriteArrayHeader(positions.Count);
        foreach (var p in positions) ctx.Reply.WriteInteger(p);
    }

    private static bool ParseWhere(CommandContext ctx, int i, out bool head)
    {
        head = false;
        if (ctx.ArgIs(i, "left"u8)) { head = true; return true; }
        if (ctx.ArgIs(i, "right"u8)) return true;
        ctx.SyntaxError();
        return false;
    }

    private static void LMove(CommandContext ctx)
    {
        if (!ParseWhere(ctx, 3, out bool from) || !ParseWhere(ctx, 4, out bool to)) return;
        Move(ctx, from, to);
    }

    internal static void Move(CommandContext ctx, bool fromHead, bool toHead)
    {
        var srcKey = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisList>(srcKey, out var src)) return;
        if (src is null) { ctx.Reply.WriteNull(); return; }
        if (!ctx.TryLookupForWrite<RedisList>(ctx.Arg(2), out var dst)) return;
        var value = MoveOne(ctx.Db, ctx.Server, srcKey, src, ctx.Arg(2), dst, fromHead, toHead, Fill(ctx));
        ctx.Reply.WriteBulk(value);
    }

    /// <summary>Pops from <paramref name="src"/> and pushes onto the destination (created when null). Shared with BLMOVE.</summary>
    internal static byte[] MoveOne(Database db, RedisServer server, ReadOnlySpan<byte> srcKey, RedisList src,
        ReadOnlySpan<byte> dstKey, RedisList? dst, bool fromHead, bool toHead, int fill)
    {
        var value = src.Pop(fromHead);
        if (dst is null)
        {
            dst = new RedisList();
            dst.Push(value, toHead, fill);
            db.Add(dstKey.ToArray(), dst);
        }
        else
        {
            dst.Push(value, toHead, fill);
            db.KeyModified?.Invoke(db, dstKey);
        }
        KeyspaceEvents.Notify(server, KeyspaceEvents.List, PushEvent(toHead), db.Index, dstKey);
        Changed(server, db, srcKey, src, PopEvent(fromHead));
        server.Dirty += 2;
        return value;
    }
}
