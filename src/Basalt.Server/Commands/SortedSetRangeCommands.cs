using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>ZRANGE and its older variants, ZRANGESTORE, ZCOUNT/ZLEXCOUNT and ZREMRANGEBY*.</summary>
public static class SortedSetRangeCommands
{
    internal const string NotFloatRange = "ERR min or max is not a float";
    internal const string NotLexRange = "ERR min or max not valid string range item";

    private enum RangeType { Auto, Rank, Score, Lex }

    public static void Register(CommandTable t)
    {
        t.Add("zrange", -4, ReadOnly, 1, 1, 1, ctx => ZRange(ctx, RangeType.Auto, null, false));
        t.Add("zrangestore", -5, Write | DenyOom, 1, 2, 1, ctx => ZRange(ctx, RangeType.Auto, null, true));
        t.Add("zrevrange", -4, ReadOnly, 1, 1, 1, ctx => ZRange(ctx, RangeType.Rank, true, false));
        t.Add("zrangebyscore", -4, ReadOnly, 1, 1, 1, ctx => ZRange(ctx, RangeType.Score, false, false));
        t.Add("zrevrangebyscore", -4, ReadOnly, 1, 1, 1, ctx => ZRange(ctx, RangeType.Score, true, false));
        t.Add("zrangebylex", -4, ReadOnly, 1, 1, 1, ctx => ZRange(ctx, RangeType.Lex, false, false));
        t.Add("zrevrangebylex", -4, ReadOnly, 1, 1, 1, ctx => ZRange(ctx, RangeType.Lex, true, false));
        t.Add("zcount", 4, ReadOnly | Fast, 1, 1, 1, ZCount);
        t.Add("zlexcount", 4, ReadOnly | Fast, 1, 1, 1, ZLexCount);
        t.Add("zremrangebyrank", 4, Write, 1, 1, 1, ctx => ZRemRange(ctx, RangeType.Rank));
        t.Add("zremrangebyscore", 4, Write, 1, 1, 1, ctx => ZRemRange(ctx, RangeType.Score));
        t.Add("zremrangebylex", 4, Write, 1, 1, 1, ctx => ZRemRange(ctx, RangeType.Lex));
    }

    /// <summary>Rank bounds normalized as Redis does; false when the range selects nothing.</summary>
    internal static bool NormalizeRanks(long start, long end, long len, out long s, out long e)
    {
        if (start < 0) start += len;
        if (end < 0) end += len;
        if (start < 0) start = 0;
        s = start; e = end;
        if (start > end || start >= len) return false;
        if (e >= len) e = len - 1;
        return true;
    }

    private static void ZRange(CommandContext ctx, RangeType type, bool? presetReverse, bool store)
    {
        int keyIdx = store ? 2 : 1;
        int minIdx = keyIdx + 1, maxIdx = keyIdx + 2;
        bool? reverse = presetReverse;
        bool withScores = false;
        long offset = 0, limit = -1;
        bool hasLimit = false;
        for (int j = keyIdx + 3; j < ctx.Count; j++)
        {
            int left = ctx.Count - j - 1;
            if (!store && ctx.ArgIs(j, "withscores"u8)) withScores = true;
            else if (ctx.ArgIs(j, "limit"u8) && left >= 2)
            {
                if (!ctx.GetInt64OrReply(j + 1, out offset) || !ctx.GetInt64OrReply(j + 2, out limit)) return;
                hasLimit = true;
                j += 2;
            }
            else if (reverse is null && ctx.ArgIs(j, "rev"u8)) reverse = true;
            else if (type == RangeType.Auto && ctx.ArgIs(j, "bylex"u8)) type = RangeType.Lex;
            else if (type == RangeType.Auto && ctx.ArgIs(j, "byscore"u8)) type = RangeType.Score;
            else { ctx.SyntaxError(); return; }
        }
        bool rev = reverse ?? false;
        if (type == RangeType.Auto) type = RangeType.Rank;
        if (hasLimit && type == RangeType.Rank && (offset != 0 || limit != -1))
        {
            ctx.Reply.WriteError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
            return;
        }
        if (withScores && type == RangeType.Lex)
        {
            ctx.Reply.WriteError("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
            return;
        }
        if (rev && type != RangeType.Rank) (minIdx, maxIdx) = (maxIdx, minIdx);

        long start = 0, end = 0;
        ZScoreRange sr = default;
        ZLexRange lr = default;
        switch (type)
        {
            case RangeType.Rank:
                if (!ctx.GetInt64OrReply(minIdx, out start) || !ctx.GetInt64OrReply(maxIdx, out end)) return;
                break;
            case RangeType.Score:
                if (!ZScoreRange.TryParse(ctx.Arg(minIdx), ctx.Arg(maxIdx), out sr)) { ctx.Reply.WriteError(NotFloatRange); return; }
                break;
            default:
                if (!ZLexRange.TryParse(ctx.Arg(minIdx), ctx.Arg(maxIdx), out lr)) { ctx.Reply.WriteError(NotLexRange); return; }
                break;
        }

        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(keyIdx), out var z)) return;
        var items = SortedSetCommands.Scratch();
        if (z is not null)
        {
            long len = z.Count;
            if (type == RangeType.Rank)
            {
                if (NormalizeRanks(start, end, len, out long s, out long e))
                    z.Collect(rev ? len - 1 - s : s, e - s + 1, rev, items);
            }
            else
            {
                var (lo, hi) = type == RangeType.Score ? z.ScoreSpan(sr) : z.LexSpan(lr);
                long n = hi - lo;
                if (offset >= 0 && offset < n && limit != 0)
                {
                    long take = limit < 0 ? n - offset : Math.Min(limit, n - offset);
                    z.Collect(rev ? hi - 1 - offset : lo + offset, take, rev, items);
                }
            }
        }

        if (!store)
        {
            SortedSetCommands.WriteItems(ctx.Reply, items, withScores, nested: ctx.Reply.IsResp3);
            return;
        }
        var sorted = new List<(byte[], double)>(items.Count);
        foreach (var it in items) sorted.Add((it.CopyMember(), it.Score));
        if (rev) sorted.Reverse();
        Store(ctx, ctx.Arg(1), sorted);
    }

    /// <summary>Writes a store command's result: replaces the destination, or deletes it when empty; replies the size.</summary>
    internal static void Store(CommandContext ctx, ReadOnlySpan<byte> dst, List<(byte[] Member, double Score)> sorted)
    {
        if (sorted.Count > 0)
        {
            var z = RedisSortedSet.FromSorted(sorted, SortedSetCommands.MaxEntries(ctx), SortedSetCommands.MaxValue(ctx));
            ctx.Db.Set(dst, z.Stored);
            // The command name is the event: zunionstore, zinterstore, zdiffstore, zrangestore.
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.ZSet, ctx.Command.Name, dst);
            ctx.Server.Dirty++;
        }
        else if (ctx.Db.Delete(dst))
        {
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", dst);
            ctx.Server.Dirty++;
        }
        ctx.Reply.WriteInteger(sorted.Count);
    }

    private static void ZCount(CommandContext ctx)
    {
        if (!ZScoreRange.TryParse(ctx.Arg(2), ctx.Arg(3), out var r)) { ctx.Reply.WriteError(NotFloatRange); return; }
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var z)) return;
        if (z is null) { ctx.Reply.WriteInteger(0); return; }
        var (lo, hi) = z.ScoreSpan(r);
        ctx.Reply.WriteInteger(hi - lo);
    }

    private static void ZLexCount(CommandContext ctx)
    {
        if (!ZLexRange.TryParse(ctx.Arg(2), ctx.Arg(3), out var r)) { ctx.Reply.WriteError(NotLexRange); return; }
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var z)) return;
        if (z is null) { ctx.Reply.WriteInteger(0); return; }
        var (lo, hi) = z.LexSpan(r);
        ctx.Reply.WriteInteger(hi - lo);
    }

    private static void ZRemRange(CommandContext ctx, RangeType type)
    {
        long start = 0, end = 0;
        ZScoreRange sr = default;
        ZLexRange lr = default;
        switch (type)
        {
            case RangeType.Rank:
                if (!ctx.GetInt64OrReply(2, out start) || !ctx.GetInt64OrReply(3, out end)) return;
                break;
            case RangeType.Score:
                if (!ZScoreRange.TryParse(ctx.Arg(2), ctx.Arg(3), out sr)) { ctx.Reply.WriteError(NotFloatRange); return; }
                break;
            default:
                if (!ZLexRange.TryParse(ctx.Arg(2), ctx.Arg(3), out lr)) { ctx.Reply.WriteError(NotLexRange); return; }
                break;
        }
        var key = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisSortedSet>(key, out var z)) return;
        if (z is null) { ctx.Reply.WriteInteger(0); return; }
        long lo, hi;
        if (type == RangeType.Rank)
        {
            if (!NormalizeRanks(start, end, z.Count, out lo, out long e)) { ctx.Reply.WriteInteger(0); return; }
            hi = e + 1;
        }
        else (lo, hi) = type == RangeType.Score ? z.ScoreSpan(sr) : z.LexSpan(lr);
        long removed = hi > lo ? z.RemoveRanks(lo, hi - 1) : 0;
        if (removed > 0) SortedSetCommands.AfterWrite(ctx, key, z, ctx.Command.Name);
        ctx.Server.Dirty += removed;
        ctx.Reply.WriteInteger(removed);
    }
}
