using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>ZUNION/ZINTER/ZDIFF (and their STORE forms) and ZINTERCARD. Plain sets are accepted as inputs with score 1.</summary>
public static class SortedSetAlgebraCommands
{
    private enum Op { Union, Inter, Diff }
    private enum Agg { Sum, Min, Max }

    public static void Register(CommandTable t)
    {
        t.Add("zunion", -3, ReadOnly, 0, 0, 0, ctx => Generic(ctx, Op.Union, false, false));
        t.Add("zinter", -3, ReadOnly, 0, 0, 0, ctx => Generic(ctx, Op.Inter, false, false));
        t.Add("zdiff", -3, ReadOnly, 0, 0, 0, ctx => Generic(ctx, Op.Diff, false, false));
        t.Add("zunionstore", -4, Write | DenyOom, 1, 1, 1, ctx => Generic(ctx, Op.Union, true, false));
        t.Add("zinterstore", -4, Write | DenyOom, 1, 1, 1, ctx => Generic(ctx, Op.Inter, true, false));
        t.Add("zdiffstore", -4, Write | DenyOom, 1, 1, 1, ctx => Generic(ctx, Op.Diff, true, false));
        t.Add("zintercard", -3, ReadOnly, 0, 0, 0, ctx => Generic(ctx, Op.Inter, false, true));
    }

    /// <summary>One input: a sorted set, or a plain set seen as members with score 1.</summary>
    private sealed class Source
    {
        public RedisSortedSet? Z;
        public RedisSet? Set;
        public double Weight = 1;
        public int Order;

        public long Size => Z?.Count ?? Set?.Count ?? 0;

        public bool TryScore(ReadOnlySpan<byte> m, out double s)
        {
            if (Z is not null) return Z.TryGetScore(m, out s);
            s = 1;
            return Set is not null && Set.Contains(m);
        }

        public void Items(List<ZItem> into)
        {
            if (Z is not null) { Z.CollectAll(into); return; }
            if (Set is null) return;
            foreach (var m in Set.ToList()) into.Add(new ZItem(m, 0, m.Length, 1));
        }
    }


    private static void Generic(CommandContext ctx, Op op, bool store, bool cardinalityOnly)
    {
        int numkeysIdx = store ? 2 : 1;
        if (!ctx.GetInt64OrReply(numkeysIdx, out long numkeys)) return;
        if (numkeys < 1)
        {
            ctx.Reply.WriteError($"ERR at least 1 input key is needed for '{ctx.Command.FullName}' command");
            return;
        }
        if (numkeys > ctx.Count - numkeysIdx - 1) { ctx.SyntaxError(); return; }

        var srcs = new Source[numkeys];
        for (int i = 0; i < numkeys; i++)
        {
            var key = ctx.Arg(numkeysIdx + 1 + i);
            var obj = ctx.Db.Lookup(key);
            // Sources are read lookups for the STORE forms too (Redis 7.0.15 counts their misses).
            {
                if (obj is null) { ctx.Server.Stats.KeyspaceMisses++; Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.KeyMiss, "keymiss", key); }
                else ctx.Server.Stats.KeyspaceHits++;
            }
            var s = new Source { Order = i };
            if (RedisSortedSet.Readable(obj) is { } z) s.Z = z;
            else if (obj is RedisSet set) s.Set = set;
            else if (obj is not null) { ctx.WrongType(); return; }
            srcs[i] = s;
        }

        var agg = Agg.Sum;
        bool withScores = false;
        long limit = 0;
        int j = numkeysIdx + 1 + (int)numkeys;
        while (j < ctx.Count)
        {
            int remaining = ctx.Count - j;
            if (op != Op.Diff && !cardinalityOnly && remaining >= numkeys + 1 && ctx.ArgIs(j, "weights"u8))
            {
                j++;
                for (int i = 0; i < numkeys; i++, j++)
                    if (!ZNumbers.TryParseScore(ctx.Arg(j), out srcs[i].Weight)) { ctx.Reply.WriteError("ERR weight value is not a float"); return; }
            }
            else if (op != Op.Diff && !cardinalityOnly && remaining >= 2 && ctx.ArgIs(j, "aggregate"u8))
            {
                if (ctx.ArgIs(j + 1, "sum"u8)) agg = Agg.Sum;
                else if (ctx.ArgIs(j + 1, "min"u8)) agg = Agg.Min;
                else if (ctx.ArgIs(j + 1, "max"u8)) agg = Agg.Max;
                else { ctx.SyntaxError(); return; }
                j += 2;
            }
            else if (!store && !cardinalityOnly && ctx.ArgIs(j, "withscores"u8)) { withScores = true; j++; }
            else if (cardinalityOnly && remaining >= 2 && ctx.ArgIs(j, "limit"u8))
            {
                if (!ctx.TryArgInt64(j + 1, out limit) || limit < 0) { ctx.Reply.WriteError("ERR LIMIT can't be negative"); return; }
                j += 2;
            }
            else { ctx.SyntaxError(); return; }
        }

        // Smallest inputs first, as Redis orders them (this also fixes the order of floating-point sums).
        var ordered = srcs.ToList();
        if (op != Op.Diff) ordered.Sort((a, b) => a.Size != b.Size ? a.Size.CompareTo(b.Size) : a.Order.CompareTo(b.Order));

        if (cardinalityOnly)
        {
            ctx.Reply.WriteInteger(InterCard(ordered, limit));
            return;
        }

        var result = op switch
        {
            Op.Union => Union(ordered, agg),
            Op.Inter => Inter(ordered, agg),
            _ => Diff(srcs),
        };
        result.Sort(static (a, b) => ZSkipList.Compare(a.Score, a.Member, b.Score, b.Member));
        if (store) { SortedSetRangeCommands.Store(ctx, ctx.Arg(1), result); return; }
        var items = SortedSetCommands.Scratch();
        foreach (var (m, s) in result) items.Add(new ZItem(m, 0, m.Length, s));
        SortedSetCommands.WriteItems(ctx.Reply, items, withScores, nested: ctx.Reply.IsResp3);
    }

    private static void Aggregate(ref double target, double v, Agg agg)
    {
        switch (agg)
        {
            case Agg.Sum:
                target += v;
                if (double.IsNaN(target)) target = 0; // inf + -inf
                break;
            case Agg.Min: if (v < target) target = v; break;
            case Agg.Max: if (v > target) target = v; break;
        }
    }

    private static List<(byte[] Member, double Score)> Union(List<Source> srcs, Agg agg)
    {
        var acc = new KeyTable<double>();
        var items = new List<ZItem>();
        foreach (var src in srcs)
        {
            items.Clear();
            src.Items(items);
            foreach (var it in items)
            {
                double v = src.Weight * it.Score;
                if (double.IsNaN(v)) v = 0;
                ref double slot = ref acc.GetValueRefOrAdd(it.Member, out bool exists);
                if (exists) Aggregate(ref slot, v, agg); else slot = v;
            }
        }
        var result = new List<(byte[], double)>(acc.Count);
        foreach (var kv in acc.Enumerate()) result.Add((kv.Key, kv.Value));
        return result;
    }

    private static List<(byte[] Member, double Score)> Inter(List<Source> srcs, Agg agg)
    {
        var result = new List<(byte[], double)>();
        var first = srcs[0];
        var items = new List<ZItem>();
        first.Items(items);
        foreach (var it in items)
        {
            double score = first.Weight * it.Score;
            if (double.IsNaN(score)) score = 0;
            bool all = true;
            for (int k = 1; k < srcs.Count; k++)
            {
                if (!srcs[k].TryScore(it.Member, out double s)) { all = false; break; }
                Aggregate(ref score, srcs[k].Weight * s, agg);
            }
            if (all) result.Add((it.CopyMember(), score));
        }
        return result;
    }

    private static long InterCard(List<Source> srcs, long limit)
    {
        long n = 0;
        var items = new List<ZItem>();
        srcs[0].Items(items);
        foreach (var it in items)
        {
            bool all = true;
            for (int k = 1; k < srcs.Count && all; k++) all = srcs[k].TryScore(it.Member, out _);
            if (all && ++n == limit) break;
        }
        return n;
    }

    private static List<(byte[] Member, double Score)> Diff(Source[] srcs)
    {
        var result = new List<(byte[], double)>();
        var items = new List<ZItem>();
        srcs[0].Items(items);
        foreach (var it in items)
        {
            bool found = false;
            for (int k = 1; k < srcs.Length && !found; k++) found = srcs[k].TryScore(it.Member, out _);
            if (!found) result.Add((it.CopyMember(), it.Score));
        }
        return result;
    }
}
