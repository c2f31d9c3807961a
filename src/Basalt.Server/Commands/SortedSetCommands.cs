using Basalt.Protocol;
using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>Sorted set commands: element writes and reads, pops, random members, ZSCAN. Ranges and algebra live in sibling files.</summary>
public static class SortedSetCommands
{
    internal const string NotFloat = "ERR value is not a valid float";
    internal const string NaNScore = "ERR resulting score is not a number (NaN)";
    internal const string MustBePositive = "ERR value is out of range, must be positive";

    // Handlers run one at a time under the server lock, so one scratch list is enough.
    [ThreadStatic] private static List<ZItem>? t_items;
    internal static List<ZItem> Scratch() { var l = t_items ??= new List<ZItem>(); l.Clear(); return l; }

    public static void Register(CommandTable t)
    {
        t.Add("zadd", -4, Write | DenyOom | Fast, 1, 1, 1, ZAdd);
        t.Add("zincrby", 4, Write | DenyOom | Fast, 1, 1, 1, ZIncrBy);
        t.Add("zrem", -3, Write | Fast, 1, 1, 1, ZRem);
        t.Add("zcard", 2, ReadOnly | Fast, 1, 1, 1, ZCard);
        t.Add("zscore", 3, ReadOnly | Fast, 1, 1, 1, ZScore);
        t.Add("zmscore", -3, ReadOnly | Fast, 1, 1, 1, ZMScore);
        t.Add("zrank", 3, ReadOnly | Fast, 1, 1, 1, ctx => ZRank(ctx, false));
        t.Add("zrevrank", 3, ReadOnly | Fast, 1, 1, 1, ctx => ZRank(ctx, true));
        t.Add("zpopmin", -2, Write | Fast, 1, 1, 1, ctx => ZPop(ctx, false));
        t.Add("zpopmax", -2, Write | Fast, 1, 1, 1, ctx => ZPop(ctx, true));
        t.Add("zmpop", -4, Write, 0, 0, 0, ctx => ZMPop(ctx, 1, false));
        t.Add("zrandmember", -2, ReadOnly, 1, 1, 1, ZRandMember);
        t.Add("zscan", -3, ReadOnly, 1, 1, 1, ZScan);
        SortedSetRangeCommands.Register(t);
        SortedSetAlgebraCommands.Register(t);
        SortedSetBlockingCommands.Register(t);
    }

    internal static long MaxEntries(CommandContext ctx) => ctx.Server.Config.ZsetMaxListpackEntries;
    internal static long MaxValue(CommandContext ctx) => ctx.Server.Config.ZsetMaxListpackValue;

    /// <summary>Items as Redis replies them: flat member(/score) array in RESP2; [member, score] pairs in RESP3 when nested.</summary>
    internal static void WriteItems(RespWriter w, List<ZItem> items, bool withScores, bool nested)
    {
        if (!withScores)
        {
            w.WriteArrayHeader(items.Count);
            foreach (var it in items) w.WriteBulk(it.Member);
            return;
        }
        if (nested)
        {
            w.WriteArrayHeader(items.Count);
            foreach (var it in items) { w.WriteArrayHeader(2); w.WriteBulk(it.Member); w.WriteDouble(it.Score); }
            return;
        }
        w.WriteArrayHeader(items.Count * 2L);
        foreach (var it in items) { w.WriteBulk(it.Member); w.WriteDouble(it.Score); }
    }

    /// <summary>After a write to an existing set: deletes it when empty, else signals the modification.</summary>
    internal static void AfterWrite(CommandContext ctx, ReadOnlySpan<byte> key, RedisSortedSet z, string eventName)
    {
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.ZSet, eventName, key);
        if (z.Count == 0)
        {
            ctx.Db.Delete(key);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", key);
        }
        else ctx.Db.KeyModified?.Invoke(ctx.Db, key);
    }

    private static void ZAdd(CommandContext ctx)
    {
        var flags = ZAddFlags.None;
        bool ch = false;
        int i = 2;
        for (; i < ctx.Count; i++)
        {
            if (ctx.ArgIs(i, "nx"u8)) flags |= ZAddFlags.NX;
            else if (ctx.ArgIs(i, "xx"u8)) flags |= ZAddFlags.XX;
            else if (ctx.ArgIs(i, "gt"u8)) flags |= ZAddFlags.GT;
            else if (ctx.ArgIs(i, "lt"u8)) flags |= ZAddFlags.LT;
            else if (ctx.ArgIs(i, "ch"u8)) ch = true;
            else if (ctx.ArgIs(i, "incr"u8)) flags |= ZAddFlags.Incr;
            else break;
        }
        int elements = ctx.Count - i;
        if (elements == 0 || elements % 2 != 0) { ctx.SyntaxError(); return; }
        bool nx = (flags & ZAddFlags.NX) != 0, xx = (flags & ZAddFlags.XX) != 0;
        bool gt = (flags & ZAddFlags.GT) != 0, lt = (flags & ZAddFlags.LT) != 0;
        bool incr = (flags & ZAddFlags.Incr) != 0;
        if (nx && xx) { ctx.Reply.WriteError("ERR XX and NX options at the same time are not compatible"); return; }
        if ((gt && nx) || (lt && nx) || (gt && lt)) { ctx.Reply.WriteError("ERR GT, LT, and/or NX options at the same time are not compatible"); return; }
        if (incr && elements > 2) { ctx.Reply.WriteError("ERR INCR option supports a single increment-element pair"); return; }

        int pairs = elements / 2;
        Span<double> scores = pairs <= 32 ? stackalloc double[pairs] : new double[pairs];
        for (int p = 0; p < pairs; p++)
            if (!ZNumbers.TryParseScore(ctx.Arg(i + p * 2), out scores[p])) { ctx.Reply.WriteError(NotFloat); return; }

        var key = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisSortedSet>(key, out var z)) return;
        bool created = false;
        if (z is null)
        {
            if (xx)
            {
                if (incr) ctx.Reply.WriteNull(); else ctx.Reply.WriteInteger(0);
                return;
            }
            z = new RedisSortedSet();
            created = true;
        }
        long added = 0, updated = 0, processed = 0;
        double last = 0;
        long maxEntries = MaxEntries(ctx), maxValue = MaxValue(ctx);
        for (int p = 0; p < pairs; p++)
        {
            var outcome = z.Add(ctx.Arg(i + p * 2 + 1), scores[p], flags, maxEntries, maxValue, out last);
            switch (outcome)
            {
                case ZAddOutcome.NaN: ctx.Reply.WriteError(NaNScore); return; // only with INCR: a single pair, nothing changed
                case ZAddOutcome.Added: added++; processed++; break;
                case ZAddOutcome.Updated: updated++; processed++; break;
                case ZAddOutcome.Unchanged: processed++; break;
            }
        }
        if (created) { if (z.Count > 0) ctx.Db.Add(ctx.ArgBytes(1), z.Stored); }
        else if (added + updated > 0) ctx.Db.KeyModified?.Invoke(ctx.Db, key);
        if (added + updated > 0) Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.ZSet, incr ? "zincr" : "zadd", key);
        ctx.Server.Dirty += added + updated;
        if (incr)
        {
            if (processed > 0) ctx.Reply.WriteDouble(last); else ctx.Reply.WriteNull();
        }
        else ctx.Reply.WriteInteger(ch ? added + updated : added);
    }

    private static void ZIncrBy(CommandContext ctx)
    {
        if (!ZNumbers.TryParseScore(ctx.Arg(2), out double by)) { ctx.Reply.WriteError(NotFloat); return; }
        var key = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisSortedSet>(key, out var z)) return;
        bool created = z is null;
        z ??= new RedisSortedSet();
        var outcome = z.Add(ctx.Arg(3), by, ZAddFlags.Incr, MaxEntries(ctx), MaxValue(ctx), out double score);
        if (outcome == ZAddOutcome.NaN) { ctx.Reply.WriteError(NaNScore); return; }
        if (created) ctx.Db.Add(ctx.ArgBytes(1), z.Stored);
        else if (outcome != ZAddOutcome.Unchanged) ctx.Db.KeyModified?.Invoke(ctx.Db, key);
        if (outcome != ZAddOutcome.Unchanged)
        {
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.ZSet, "zincr", key);
            ctx.Server.Dirty++;
        }
        ctx.Reply.WriteDouble(score);
    }

    private static void ZRem(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisSortedSet>(key, out var z)) return;
        if (z is null) { ctx.Reply.WriteInteger(0); return; }
        long deleted = 0;
        for (int i = 2; i < ctx.Count && z.Count > 0; i++) if (z.Remove(ctx.Arg(i))) deleted++;
        if (deleted > 0) AfterWrite(ctx, key, z, "zrem");
        ctx.Server.Dirty += deleted;
        ctx.Reply.WriteInteger(deleted);
    }

    private static void ZCard(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var z)) return;
        ctx.Reply.WriteInteger(z?.Count ?? 0);
    }

    private static void ZScore(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var z)) return;
        if (z is not null && z.TryGetScore(ctx.Arg(2), out double s)) ctx.Reply.WriteDouble(s);
        else ctx.Reply.WriteNull();
    }

    private static void ZMScore(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var z)) return;
        ctx.Reply.WriteArrayHeader(ctx.Count - 2);
        for (int i = 2; i < ctx.Count; i++)
        {
            if (z is not null && z.TryGetScore(ctx.Arg(i), out double s)) ctx.Reply.WriteDouble(s);
            else ctx.Reply.WriteNull();
        }
    }

    private static void ZRank(CommandContext ctx, bool reverse)
    {
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var z)) return;
        long r = z is null ? -1 : z.Rank(ctx.Arg(2));
        if (r < 0) { ctx.Reply.WriteNull(); return; }
        ctx.Reply.WriteInteger(reverse ? z!.Count - 1 - r : r);
    }

    /// <summary>Removes up to <paramref name="count"/> lowest (or highest) elements into <paramref name="items"/> (members copied).</summary>
    internal static void PopInto(RedisServer server, Database db, ReadOnlySpan<byte> key, RedisSortedSet z, long count, bool max, List<ZItem> items)
    {
        long n = Math.Min(count, z.Count);
        var raw = Scratch();
        z.Collect(max ? z.Count - 1 : 0, n, max, raw);
        foreach (var it in raw) { var m = it.CopyMember(); items.Add(new ZItem(m, 0, m.Length, it.Score)); }
        if (max) z.RemoveRanks(z.Count - n, z.Count - 1); else z.RemoveRanks(0, n - 1);
        Notifications.KeyspaceEvents.Notify(server, Notifications.KeyspaceEvents.ZSet, max ? "zpopmax" : "zpopmin", db.Index, key);
        if (z.Count == 0)
        {
            db.Delete(key);
            Notifications.KeyspaceEvents.Notify(server, Notifications.KeyspaceEvents.Generic, "del", db.Index, key);
        }
        else db.KeyModified?.Invoke(db, key);
        server.Dirty += n;
    }

    private static void ZPop(CommandContext ctx, bool max)
    {
        if (ctx.Count > 3) { ctx.SyntaxError(); return; }
        long count = 1;
        bool hasCount = ctx.Count == 3;
        if (hasCount && (!ctx.TryArgInt64(2, out count) || count < 0)) { ctx.Reply.WriteError(MustBePositive); return; }
        var key = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisSortedSet>(key, out var z)) return;
        if (z is null || count == 0) { ctx.Reply.WriteArrayHeader(0); return; }
        var items = new List<ZItem>();
        PopInto(ctx.Server, ctx.Db, key, z, count, max, items);
        WriteItems(ctx.Reply, items, withScores: true, nested: hasCount && ctx.Reply.IsResp3);
    }

    /// <summary>ZMPOP numkeys key... MIN|MAX [COUNT n], and BZMPOP timeout numkeys ... when <paramref name="blocking"/>.</summary>
    internal static void ZMPop(CommandContext ctx, int numkeysIdx, bool blocking)
    {
        if (!ctx.TryArgInt64(numkeysIdx, out long numkeys) || numkeys <= 0) { ctx.Reply.WriteError("ERR numkeys should be greater than 0"); return; }
        if (numkeys > ctx.Count - numkeysIdx - 2) { ctx.SyntaxError(); return; }
        int dirIdx = numkeysIdx + 1 + (int)numkeys;
        bool max;
        if (ctx.ArgIs(dirIdx, "min"u8)) max = false;
        else if (ctx.ArgIs(dirIdx, "max"u8)) max = true;
        else { ctx.SyntaxError(); return; }
        long count = -1;
        for (int j = dirIdx + 1; j < ctx.Count; j++)
        {
            if (count == -1 && ctx.ArgIs(j, "count"u8) && j + 1 < ctx.Count)
            {
                if (!ctx.TryArgInt64(j + 1, out count) || count <= 0) { ctx.Reply.WriteError("ERR count should be greater than 0"); return; }
                j++;
            }
            else { ctx.SyntaxError(); return; }
        }
        if (count == -1) count = 1;
        long deadline = 0;
        if (blocking && !Keyspace.Blocking.TryParseTimeout(ctx, 1, out deadline)) return;
        for (int k = 0; k < numkeys; k++)
        {
            var key = ctx.Arg(numkeysIdx + 1 + k);
            if (!ctx.TryLookupForWrite<RedisSortedSet>(key, out var z)) return;
            if (z is null) continue;
            Rewrites.Begin(ctx); // propagated as ZPOPMIN/ZPOPMAX key n by ReplyMPop
            ReplyMPop(ctx.Reply, ctx.Server, ctx.Db, ctx.ArgBytes(numkeysIdx + 1 + k), z, count, max);
            return;
        }
        if (!blocking || !Keyspace.Blocking.CanBlock(ctx)) { ctx.Reply.WriteNullArray(); return; }
        SortedSetBlockingCommands.Block(ctx, numkeysIdx + 1, (int)numkeys, deadline, max, count, mpop: true);
    }

    /// <summary>[key, [[member, score]...]] for up to <paramref name="count"/> pops.</summary>
    internal static void ReplyMPop(RespWriter w, RedisServer server, Database db, byte[] key, RedisSortedSet z, long count, bool max)
    {
        var items = new List<ZItem>();
        PopInto(server, db, key, z, count, max, items);
        w.WriteArrayHeader(2);
        w.WriteBulk(key);
        WriteItems(w, items, withScores: true, nested: true);
        if (server.Propagator.Active) server.Propagator.Begin(db.Index, 3).Arg(max ? "ZPOPMAX"u8 : "ZPOPMIN"u8).Arg(key).Arg(items.Count).End();
    }

    private static void ZRandMember(CommandContext ctx)
    {
        var w = ctx.Reply;
        if (ctx.Count == 2)
        {
            if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var one)) return;
            if (one is null) { w.WriteNull(); return; }
            var it = Scratch();
            one.Collect(Random.Shared.NextInt64(one.Count), 1, false, it);
            w.WriteBulk(it[0].Member);
            return;
        }
        if (!ctx.TryArgInt64(2, out long l)) { w.WriteError(Errors.NotInteger); return; }
        if (l == long.MinValue) { w.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"); return; }
        bool withScores = false;
        if (ctx.Count > 4 || (ctx.Count == 4 && !ctx.ArgIs(3, "withscores"u8))) { ctx.SyntaxError(); return; }
        if (ctx.Count == 4)
        {
            withScores = true;
            if (l < -long.MaxValue / 2 || l > long.MaxValue / 2) { w.WriteError("ERR value is out of range"); return; }
        }
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var z)) return;
        if (z is null || l == 0) { w.WriteArrayHeader(0); return; }
        bool nested = withScores && w.IsResp3;
        var items = Scratch();
        long size = z.Count;
        if (l < 0)
        {
            // Repetitions allowed: independent picks.
            long count = -l;
            if (withScores && !nested) w.WriteArrayHeader(count * 2); else w.WriteArrayHeader(count);
            var all = new List<ZItem>();
            z.CollectAll(all);
            for (long k = 0; k < count; k++) WriteOne(w, all[Random.Shared.Next(all.Count)], withScores, nested);
            return;
        }
        if (l >= size) z.CollectAll(items);
        else
        {
            var all = new List<ZItem>();
            z.CollectAll(all);
            // Partial Fisher-Yates: the first l slots become a uniform sample without repetition.
            for (int k = 0; k < l; k++)
            {
                int j = k + Random.Shared.Next(all.Count - k);
                (all[k], all[j]) = (all[j], all[k]);
                items.Add(all[k]);
            }
        }
        WriteItems(w, items, withScores, nested);
    }

    private static void WriteOne(RespWriter w, ZItem it, bool withScores, bool nested)
    {
        if (nested) w.WriteArrayHeader(2);
        w.WriteBulk(it.Member);
        if (withScores) w.WriteDouble(it.Score);
    }

    private static void ZScan(CommandContext ctx)
    {
        var w = ctx.Reply;
        if (!Scan.ParseCursorOrReply(ctx, 2, out ulong cursor)) return;
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var z)) return;
        if (z is null) { Scan.WriteEmpty(ctx); return; }
        if (!Scan.ParseOptionsOrReply(ctx, 3, out long count, out int patternArg)) return;
        if (patternArg == 0) patternArg = -1;
        var found = Scratch();
        ulong next = 0;
        if (z.SkipList is { } sl)
        {
            // The cursor is a slot of the member table: slots never move, so members present throughout are seen.
            var table = sl.Dict;
            if (cursor < (ulong)table.Capacity)
            {
                int i = (int)cursor;
                long maxVisits = count > int.MaxValue / 10 ? int.MaxValue : count * 10;
                for (long visited = 0; i < table.Capacity && found.Count < count && visited < maxVisits; i++, visited++)
                {
                    if (!table.IsUsed(i)) continue;
                    var m = table.KeyAt(i);
                    found.Add(new ZItem(m, 0, m.Length, sl.ScoreOf(table.ValueAt(i))));
                }
                next = i < table.Capacity ? (ulong)i : 0;
            }
        }
        else z.CollectAll(found); // a listpack is returned whole, cursor 0, as Redis does

        bool all = patternArg < 0 || (ctx.Arg(patternArg).Length == 1 && ctx.Arg(patternArg)[0] == (byte)'*');
        int kept = 0;
        for (int k = 0; k < found.Count; k++)
            if (all || Glob.Match(ctx.Arg(patternArg), found[k].Member, nocase: false)) found[kept++] = found[k];
        w.WriteArrayHeader(2);
        w.WriteBulkInteger((long)next);
        w.WriteArrayHeader(kept * 2L);
        Span<byte> buf = stackalloc byte[40];
        for (int k = 0; k < kept; k++)
        {
            w.WriteBulk(found[k].Member);
            int len = RespNumbers.FormatDouble(found[k].Score, buf);
            w.WriteBulk(buf[..len]);
        }
    }
}
