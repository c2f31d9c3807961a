using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>Set commands over <see cref="RedisSet"/>. The algebra (SINTER/SUNION/SDIFF...) is in SetCommands.Algebra.cs.</summary>
public static partial class SetCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("sadd", -3, Write | DenyOom | Fast, 1, 1, 1, SAdd);
        t.Add("srem", -3, Write | Fast, 1, 1, 1, SRem);
        t.Add("scard", 2, ReadOnly | Fast, 1, 1, 1, SCard);
        t.Add("sismember", 3, ReadOnly | Fast, 1, 1, 1, SIsMember);
        t.Add("smismember", -3, ReadOnly | Fast, 1, 1, 1, SMIsMember);
        t.Add("smembers", 2, ReadOnly, 1, 1, 1, SMembers);
        t.Add("srandmember", -2, ReadOnly, 1, 1, 1, SRandMember);
        t.Add("spop", -2, Write | Fast, 1, 1, 1, SPop);
        t.Add("smove", 4, Write | Fast, 1, 2, 1, SMove);
        t.Add("sscan", -3, ReadOnly, 1, 1, 1, SScan);
        RegisterAlgebra(t);
    }

    private static long MaxIntset(CommandContext ctx) => ctx.Server.Config.SetMaxIntsetEntries;

    private static void SAdd(CommandContext ctx)
    {
        if (!ctx.TryLookupForWrite<RedisSet>(ctx.Arg(1), out var s)) return;
        bool created = s is null;
        if (s is null)
        {
            s = new RedisSet();
            ctx.Db.Add(ctx.ArgBytes(1), s);
        }
        long max = MaxIntset(ctx);
        int added = 0;
        for (int i = 2; i < ctx.Count; i++)
            if (s.Add(ctx.Arg(i), max)) added++;
        if (added > 0 && !created) HashCommands.Modified(ctx, ctx.Arg(1));
        if (added > 0) Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Set, "sadd", ctx.Arg(1));
        ctx.Server.Dirty += added;
        ctx.Reply.WriteInteger(added);
    }

    private static void SRem(CommandContext ctx)
    {
        if (!ctx.TryLookupForWrite<RedisSet>(ctx.Arg(1), out var s)) return;
        if (s is null) { ctx.Reply.WriteInteger(0); return; }
        int removed = 0;
        for (int i = 2; i < ctx.Count; i++)
        {
            if (s.Remove(ctx.Arg(i))) removed++;
            if (s.Count == 0) break;
        }
        if (removed > 0)
        {
            AfterRemoval(ctx, s, removed, "srem");
        }
        ctx.Reply.WriteInteger(removed);
    }

    private static void SCard(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisSet>(ctx.Arg(1), out var s)) return;
        ctx.Reply.WriteInteger(s?.Count ?? 0);
    }

    private static void SIsMember(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisSet>(ctx.Arg(1), out var s)) return;
        ctx.Reply.WriteInteger(s is not null && s.Contains(ctx.Arg(2)) ? 1 : 0);
    }

    private static void SMIsMember(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisSet>(ctx.Arg(1), out var s)) return;
        ctx.Reply.WriteArrayHeader(ctx.Count - 2);
        for (int i = 2; i < ctx.Count; i++) ctx.Reply.WriteInteger(s is not null && s.Contains(ctx.Arg(i)) ? 1 : 0);
    }

    private static void SMembers(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisSet>(ctx.Arg(1), out var s)) return;
        WriteSet(ctx, s);
    }

    /// <summary>Every member as a RESP3 set (array in RESP2), in iteration order.</summary>
    internal static void WriteSet(CommandContext ctx, RedisSet? s)
    {
        var w = ctx.Reply;
        w.WriteSetHeader(s?.Count ?? 0);
        if (s is null) return;
        var e = s.GetEnumerator();
        while (e.MoveNext()) w.WriteBulk(e.Current);
    }

    private static void SRandMember(CommandContext ctx)
    {
        var w = ctx.Reply;
        if (ctx.Count == 2)
        {
            if (!ctx.TryLookup<RedisSet>(ctx.Arg(1), out var one)) return;
            if (one is null) { w.WriteNull(); return; }
            w.WriteBulk(one.RandomMember(Random.Shared, new byte[24]));
            return;
        }
        if (ctx.Count > 3) { ctx.SyntaxError(); return; }
        if (!HashCommands.GetCountOrReply(ctx, 2, out long l)) return;
        if (!ctx.TryLookup<RedisSet>(ctx.Arg(1), out var s)) return;
        if (s is null || l == 0) { w.WriteArrayHeader(0); return; }
        var rng = Random.Shared;
        if (l < 0)
        {
            var scratch = new byte[24];
            w.WriteArrayHeader(-l);
            for (long i = 0; i < -l; i++) w.WriteBulk(s.RandomMember(rng, scratch));
            return;
        }
        int size = s.Count;
        if (l >= size)
        {
            w.WriteArrayHeader(size);
            var e = s.GetEnumerator();
            while (e.MoveNext()) w.WriteBulk(e.Current);
            return;
        }
        var picked = PickDistinct(s, rng, (int)l);
        w.WriteArrayHeader(picked.Count);
        foreach (var m in picked) w.WriteBulk(m);
    }

    /// <summary>n distinct random members (n &lt; Count), as new arrays.</summary>
    private static List<byte[]> PickDistinct(RedisSet s, Random rng, int n)
    {
        var result = new List<byte[]>(n);
        var table = s.Table;
        if (table is null || n * 3 > s.Count)
        {
            var all = s.ToList();
            foreach (int k in HashCommands.SampleDistinct(rng, all.Count, n)) result.Add(all[k]);
            return result;
        }
        var seen = new HashSet<int>();
        while (seen.Count < n)
        {
            int i = table.RandomIndex(rng);
            if (seen.Add(i)) result.Add(table.KeyAt(i));
        }
        return result;
    }

    private static void SPop(CommandContext ctx)
    {
        var w = ctx.Reply;
        if (ctx.Count == 2)
        {
            if (!ctx.TryLookupForWrite<RedisSet>(ctx.Arg(1), out var one)) return;
            if (one is null) { w.WriteNull(); return; }
            var m = one.PopRandom(Random.Shared);
            AfterRemoval(ctx, one, 1, "spop");
            w.WriteBulk(m);
            if (Rewrites.Begin(ctx)) Rewrites.Op(ctx, "SREM"u8, ctx.Arg(1), m);
            return;
        }
        if (ctx.Count > 3) { ctx.SyntaxError(); return; }
        // Redis reports a non-integer count with the same "must be positive" message.
        if (!ctx.TryArgInt64(2, out long count) || count < 0) { w.WriteError(Errors.NotNegative); return; }
        if (!ctx.TryLookupForWrite<RedisSet>(ctx.Arg(1), out var s)) return;
        if (s is null || count == 0) { w.WriteSetHeader(0); return; }
        if (count >= s.Count)
        {
            WriteSet(ctx, s);
            int n = s.Count;
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Set, "spop", ctx.Arg(1));
            ctx.Db.Delete(ctx.Arg(1));
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", ctx.Arg(1));
            ctx.Server.Dirty += n;
            if (Rewrites.Begin(ctx)) Rewrites.Del(ctx, ctx.Arg(1));
            return;
        }
        var rng = Random.Shared;
        w.WriteSetHeader(count);
        // Replicas get one SREM per popped member (one unit: MULTI/EXEC).
        bool propagate = Rewrites.Begin(ctx);
        for (long i = 0; i < count; i++)
        {
            var m = s.PopRandom(rng);
            w.WriteBulk(m);
            if (propagate) Rewrites.Op(ctx, "SREM"u8, ctx.Arg(1), m);
        }
        AfterRemoval(ctx, s, (int)count, "spop");
    }

    private static void AfterRemoval(CommandContext ctx, RedisSet s, int removed, string eventName)
    {
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Set, eventName, ctx.Arg(1));
        if (s.Count == 0)
        {
            ctx.Db.Delete(ctx.Arg(1));
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", ctx.Arg(1));
        }
        else HashCommands.Modified(ctx, ctx.Arg(1));
        ctx.Server.Dirty += removed;
    }

    private static void SMove(CommandContext ctx)
    {
        var db = ctx.Db;
        var srcObj = db.Lookup(ctx.Arg(1));
        var dstObj = db.Lookup(ctx.Arg(2));
        if (srcObj is null) { ctx.Reply.WriteInteger(0); return; }
        if (srcObj is not RedisSet src || (dstObj is not null && dstObj is not RedisSet)) { ctx.WrongType(); return; }
        var dst = dstObj as RedisSet;
        var member = ctx.Arg(3);
        if (ReferenceEquals(src, dst))
        {
            ctx.Reply.WriteInteger(src.Contains(member) ? 1 : 0);
            return;
        }
        if (!src.Remove(member)) { ctx.Reply.WriteInteger(0); return; }
        AfterRemoval(ctx, src, 1, "srem");
        if (dst is null)
        {
            dst = new RedisSet();
            dst.Add(member, MaxIntset(ctx));
            db.Add(ctx.ArgBytes(2), dst);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Set, "sadd", ctx.Arg(2));
            ctx.Server.Dirty++;
        }
        else if (dst.Add(member, MaxIntset(ctx)))
        {
            HashCommands.Modified(ctx, ctx.Arg(2));
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Set, "sadd", ctx.Arg(2));
            ctx.Server.Dirty++;
        }
        ctx.Reply.WriteInteger(1);
    }

    private static void SScan(CommandContext ctx)
    {
        if (!Scan.ParseCursorOrReply(ctx, 2, out ulong cursor)) return;
        if (!ctx.TryLookup<RedisSet>(ctx.Arg(1), out var s)) return;
        if (s is null) { Scan.WriteEmpty(ctx); return; }
        if (!Scan.ParseOptionsOrReply(ctx, 3, out long count, out int matchArg)) return;
        var items = new List<byte[]>();
        ulong next = 0;
        var table = s.Table;
        if (table is null)
        {
            var e = s.GetEnumerator();
            while (e.MoveNext())
                if (matchArg == 0 || Glob.Match(ctx.Arg(matchArg), e.Current, false)) items.Add(e.Current.ToArray());
        }
        else
        {
            long i = cursor > int.MaxValue ? int.MaxValue : (long)cursor;
            long visited = 0;
            for (; i < table.Capacity && visited < count; i++)
            {
                if (!table.IsUsed((int)i)) continue;
                visited++;
                var m = table.KeyAt((int)i);
                if (matchArg == 0 || Glob.Match(ctx.Arg(matchArg), m, false)) items.Add(m);
            }
            next = i < table.Capacity ? (ulong)i : 0;
        }
        var w = ctx.Reply;
        w.WriteArrayHeader(2);
        w.WriteBulk(next.ToString());
        w.WriteArrayHeader(items.Count);
        foreach (var m in items) w.WriteBulk(m);
    }
}
