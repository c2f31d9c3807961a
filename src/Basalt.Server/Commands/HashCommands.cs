using Basalt.Protocol;
using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>Hash commands (HSET ... HSCAN) over <see cref="RedisHash"/>.</summary>
public static class HashCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("hset", -4, Write | DenyOom | Fast, 1, 1, 1, HSet);
        t.Add("hmset", -4, Write | DenyOom | Fast, 1, 1, 1, HMSet);
        t.Add("hsetnx", 4, Write | DenyOom | Fast, 1, 1, 1, HSetNx);
        t.Add("hget", 3, ReadOnly | Fast, 1, 1, 1, HGet);
        t.Add("hmget", -3, ReadOnly | Fast, 1, 1, 1, HMGet);
        t.Add("hdel", -3, Write | Fast, 1, 1, 1, HDel);
        t.Add("hlen", 2, ReadOnly | Fast, 1, 1, 1, HLen);
        t.Add("hstrlen", 3, ReadOnly | Fast, 1, 1, 1, HStrLen);
        t.Add("hexists", 3, ReadOnly | Fast, 1, 1, 1, HExists);
        t.Add("hkeys", 2, ReadOnly, 1, 1, 1, ctx => HGetAllGeneric(ctx, keys: true, values: false));
        t.Add("hvals", 2, ReadOnly, 1, 1, 1, ctx => HGetAllGeneric(ctx, keys: false, values: true));
        t.Add("hgetall", 2, ReadOnly, 1, 1, 1, ctx => HGetAllGeneric(ctx, keys: true, values: true));
        t.Add("hincrby", 4, Write | DenyOom | Fast, 1, 1, 1, HIncrBy);
        t.Add("hincrbyfloat", 4, Write | DenyOom | Fast, 1, 1, 1, HIncrByFloat);
        t.Add("hrandfield", -2, ReadOnly, 1, 1, 1, HRandField);
        t.Add("hscan", -3, ReadOnly, 1, 1, 1, HScan);
    }

    internal static void Modified(CommandContext ctx, ReadOnlySpan<byte> key) => ctx.Db.KeyModified?.Invoke(ctx.Db, key);

    /// <summary>The hash at key 1 for a write, created (and added to the db) when missing; null after a WRONGTYPE reply.</summary>
    private static RedisHash? LookupOrCreate(CommandContext ctx, out bool created)
    {
        created = false;
        if (!ctx.TryLookupForWrite<RedisHash>(ctx.Arg(1), out var h)) return null;
        if (h is not null) return h;
        created = true;
        ctx.Db.Add(ctx.ArgBytes(1), new RedisHash().Stored);
        return ctx.BindHashForWrite(ctx.Arg(1));
    }

    private static void HSetGeneric(CommandContext ctx, bool replyOk)
    {
        if (ctx.Count % 2 != 0)
        {
            ctx.Reply.WriteError(Errors.WrongArity(ctx.Command.FullName));
            return;
        }
        var h = LookupOrCreate(ctx, out bool created);
        if (h is null) return;
        var cfg = ctx.Server.Config;
        if (h.IsListpack)
            for (int i = 2; i < ctx.Count; i++) h.ConvertIfTooLong(ctx.Arg(i).Length, cfg.HashMaxListpackValue);
        int added = 0;
        for (int i = 2; i < ctx.Count; i += 2)
            if (h.Set(ctx.Arg(i), ctx.Arg(i + 1), cfg.HashMaxListpackEntries, cfg.HashMaxListpackValue)) added++;
        if (!created) Modified(ctx, ctx.Arg(1));
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Hash, "hset", ctx.Arg(1));
        ctx.Server.Dirty += (ctx.Count - 2) / 2;
        if (replyOk) ctx.Reply.WriteOk(); else ctx.Reply.WriteInteger(added);
    }

    private static void HSet(CommandContext ctx) => HSetGeneric(ctx, false);

    private static void HMSet(CommandContext ctx) => HSetGeneric(ctx, true);

    private static void HSetNx(CommandContext ctx)
    {
        var h = LookupOrCreate(ctx, out bool created);
        if (h is null) return;
        if (h.Contains(ctx.Arg(2))) { ctx.Reply.WriteInteger(0); return; }
        var cfg = ctx.Server.Config;
        h.Set(ctx.Arg(2), ctx.Arg(3), cfg.HashMaxListpackEntries, cfg.HashMaxListpackValue);
        if (!created) Modified(ctx, ctx.Arg(1));
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Hash, "hset", ctx.Arg(1));
        ctx.Server.Dirty++;
        ctx.Reply.WriteInteger(1);
    }

    private static void HGet(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisHash>(ctx.Arg(1), out var h)) return;
        if (h is not null && h.TryGet(ctx.Arg(2), out var v)) ctx.Reply.WriteBulk(v);
        else ctx.Reply.WriteNull();
    }

    private static void HMGet(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisHash>(ctx.Arg(1), out var h)) return;
        ctx.Reply.WriteArrayHeader(ctx.Count - 2);
        for (int i = 2; i < ctx.Count; i++)
        {
            if (h is not null && h.TryGet(ctx.Arg(i), out var v)) ctx.Reply.WriteBulk(v);
            else ctx.Reply.WriteNull();
        }
    }

    private static void HDel(CommandContext ctx)
    {
        if (!ctx.TryLookupForWrite<RedisHash>(ctx.Arg(1), out var h)) return;
        if (h is null) { ctx.Reply.WriteInteger(0); return; }
        int deleted = 0;
        for (int i = 2; i < ctx.Count; i++)
        {
            if (h.Delete(ctx.Arg(i))) deleted++;
            if (h.Count == 0) break;
        }
        if (deleted > 0)
        {
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Hash, "hdel", ctx.Arg(1));
            if (h.Count == 0)
            {
                ctx.Db.Delete(ctx.Arg(1));
                Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", ctx.Arg(1));
            }
            else Modified(ctx, ctx.Arg(1));
            ctx.Server.Dirty += deleted;
        }
        ctx.Reply.WriteInteger(deleted);
    }

    private static void HLen(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisHash>(ctx.Arg(1), out var h)) return;
        ctx.Reply.WriteInteger(h?.Count ?? 0);
    }

    private static void HStrLen(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisHash>(ctx.Arg(1), out var h)) return;
        ctx.Reply.WriteInteger(h is not null && h.TryGet(ctx.Arg(2), out var v) ? v.Length : 0);
    }

    private static void HExists(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisHash>(ctx.Arg(1), out var h)) return;
        ctx.Reply.WriteInteger(h is not null && h.Contains(ctx.Arg(2)) ? 1 : 0);
    }

    private static void HGetAllGeneric(CommandContext ctx, bool keys, bool values)
    {
        if (!ctx.TryLookup<RedisHash>(ctx.Arg(1), out var h)) return;
        int n = h?.Count ?? 0;
        var w = ctx.Reply;
        if (keys && values) w.WriteMapHeader(n); else w.WriteArrayHeader(n);
        if (h is null) return;
        var e = h.GetEnumerator();
        while (e.MoveNext())
        {
            if (keys) w.WriteBulk(e.Field);
            if (values) w.WriteBulk(e.Value);
        }
    }

    private static void HIncrBy(CommandContext ctx)
    {
        if (!ctx.GetInt64OrReply(3, out long incr)) return;
        var h = LookupOrCreate(ctx, out bool created);
        if (h is null) return;
        long current = 0;
        if (h.TryGet(ctx.Arg(2), out var old) && !RespNumbers.TryParseInt64(old, out current))
        {
            ctx.Reply.WriteError("ERR hash value is not an integer");
            return;
        }
        if ((incr < 0 && current < 0 && incr < long.MinValue - current) ||
            (incr > 0 && current > 0 && incr > long.MaxValue - current))
        {
            ctx.Reply.WriteError(Errors.Overflow);
            return;
        }
        long value = current + incr;
        Span<byte> buf = stackalloc byte[24];
        int len = RespNumbers.FormatInt64(value, buf);
        var cfg = ctx.Server.Config;
        h.Set(ctx.Arg(2), buf[..len], cfg.HashMaxListpackEntries, cfg.HashMaxListpackValue);
        if (!created) Modified(ctx, ctx.Arg(1));
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Hash, "hincrby", ctx.Arg(1));
        ctx.Server.Dirty++;
        ctx.Reply.WriteInteger(value);
    }

    private static void HIncrByFloat(CommandContext ctx)
    {
        if (!LongDouble.TryParse(ctx.Arg(3), out var incr)) { ctx.Reply.WriteError(Errors.NotFloat); return; }
        if (incr.IsInfinityOrNaN) { ctx.Reply.WriteError("ERR value is NaN or Infinity"); return; }
        var h = LookupOrCreate(ctx, out bool created);
        if (h is null) return;
        LongDouble current = default;
        if (h.TryGet(ctx.Arg(2), out var old) && !LongDouble.TryParse(old, out current))
        {
            ctx.Reply.WriteError("ERR hash value is not a float");
            return;
        }
        var sum = LongDouble.Add(current, incr);
        if (sum.IsInfinityOrNaN)
        {
            ctx.Reply.WriteError("ERR increment would produce NaN or Infinity");
            return;
        }
        var text = System.Text.Encoding.ASCII.GetBytes(sum.ToHumanString());
        var cfg = ctx.Server.Config;
        h.Set(ctx.Arg(2), text, cfg.HashMaxListpackEntries, cfg.HashMaxListpackValue);
        if (!created) Modified(ctx, ctx.Arg(1));
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Hash, "hincrbyfloat", ctx.Arg(1));
        if (Rewrites.Begin(ctx)) Rewrites.Op(ctx, "HSET"u8, ctx.Arg(1), ctx.Arg(2), text);
        ctx.Server.Dirty++;
        ctx.Reply.WriteBulk(text);
    }

    private static void HRandField(CommandContext ctx)
    {
        var w = ctx.Reply;
        if (ctx.Count == 2)
        {
            if (!ctx.TryLookup<RedisHash>(ctx.Arg(1), out var one)) return;
            if (one is null) { w.WriteNull(); return; }
            one.RandomPair(Random.Shared, out var f, out _);
            w.WriteBulk(f);
            return;
        }
        if (!GetCountOrReply(ctx, 2, out long l)) return;
        bool withValues = false;
        if (ctx.Count > 4 || (ctx.Count == 4 && !ctx.ArgIs(3, "withvalues"u8))) { ctx.SyntaxError(); return; }
        if (ctx.Count == 4)
        {
            withValues = true;
            if (l < -long.MaxValue / 2 || l > long.MaxValue / 2) { w.WriteError("ERR value is out of range"); return; }
        }
        if (!ctx.TryLookup<RedisHash>(ctx.Arg(1), out var h)) return;
        if (h is null || l == 0) { w.WriteArrayHeader(0); return; }
        bool resp3 = w.IsResp3;
        int size = h.Count;
        var rng = Random.Shared;
        if (l < 0)
        {
            long count = -l;
            w.WriteArrayHeader(withValues && !resp3 ? count * 2 : count);
            for (long i = 0; i < count; i++)
            {
                h.RandomPair(rng, out var f, out var v);
                if (withValues && resp3) w.WriteArrayHeader(2);
                w.WriteBulk(f);
                if (withValues) w.WriteBulk(v);
            }
            return;
        }
        if (l >= size)
        {
            w.WriteArrayHeader(withValues && !resp3 ? size * 2L : size);
            var e = h.GetEnumerator();
            while (e.MoveNext()) WritePair(w, e.Field, e.Value, withValues, resp3);
            return;
        }
        // Distinct random subset: pick ordinals (listpack) or slot indexes (table).
        int n = (int)l;
        w.WriteArrayHeader(withValues && !resp3 ? n * 2L : n);
        var table = h.Table;
        if (table is null)
        {
            foreach (int ord in SampleDistinct(rng, size, n))
            {
                h.PackedPairAt(ord, out var f, out var v);
                WritePair(w, f, v, withValues, resp3);
            }
            return;
        }
        var picked = new HashSet<int>();
        if (n * 3 > size)
        {
            // Dense case: shuffle the used slots.
            var slots = new List<int>(size);
            for (int i = 0; i < table.Capacity; i++) if (table.IsUsed(i)) slots.Add(i);
            foreach (int k in SampleDistinct(rng, slots.Count, n)) picked.Add(slots[k]);
        }
        else
        {
            while (picked.Count < n) picked.Add(table.RandomIndex(rng));
        }
        foreach (int i in picked) WritePair(w, table.KeyAt(i), table.ValueAt(i), withValues, resp3);
    }

    private static void WritePair(RespWriter w, ReadOnlySpan<byte> f, ReadOnlySpan<byte> v, bool withValues, bool resp3)
    {
        if (withValues && resp3) w.WriteArrayHeader(2);
        w.WriteBulk(f);
        if (withValues) w.WriteBulk(v);
    }

    /// <summary>n distinct numbers from [0, size) in random order (partial Fisher-Yates).</summary>
    internal static int[] SampleDistinct(Random rng, int size, int n)
    {
        var all = new int[size];
        for (int i = 0; i < size; i++) all[i] = i;
        for (int i = 0; i < n; i++)
        {
            int j = rng.Next(i, size);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all[..n];
    }

    /// <summary>The count argument of HRANDFIELD/SRANDMEMBER: an integer in [-LONG_MAX, LONG_MAX].</summary>
    internal static bool GetCountOrReply(CommandContext ctx, int i, out long value)
    {
        if (!ctx.GetInt64OrReply(i, out value)) return false;
        if (value == long.MinValue)
        {
            ctx.Reply.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            return false;
        }
        return true;
    }

    private static void HScan(CommandContext ctx)
    {
        if (!Scan.ParseCursorOrReply(ctx, 2, out ulong cursor)) return;
        if (!ctx.TryLookup<RedisHash>(ctx.Arg(1), out var h)) return;
        if (h is null) { Scan.WriteEmpty(ctx); return; }
        if (!Scan.ParseOptionsOrReply(ctx, 3, out long count, out int matchArg)) return;
        ReadOnlySpan<byte> pattern = matchArg > 0 ? ctx.Arg(matchArg) : default;
        bool all = matchArg > 0 && pattern.Length == 1 && pattern[0] == '*';
        var table = h.Table;
        var items = new List<(byte[] F, byte[] V)>();
        ulong next = 0;
        if (table is null)
        {
            var e = h.GetEnumerator();
            while (e.MoveNext())
                if (matchArg == 0 || all || Glob.Match(ctx.Arg(matchArg), e.Field, false)) items.Add((e.Field.ToArray(), e.Value.ToArray()));
        }
        else
        {
            long i = cursor > int.MaxValue ? int.MaxValue : (long)cursor;
            long visited = 0;
            for (; i < table.Capacity && visited < count; i++)
            {
                if (!table.IsUsed((int)i)) continue;
                visited++;
                var f = table.KeyAt((int)i);
                if (matchArg == 0 || all || Glob.Match(ctx.Arg(matchArg), f, false)) items.Add((f, table.ValueAt((int)i)));
            }
            next = i < table.Capacity ? (ulong)i : 0;
        }
        var w = ctx.Reply;
        w.WriteArrayHeader(2);
        w.WriteBulk(next.ToString());
        w.WriteArrayHeader(items.Count * 2);
        foreach (var (f, v) in items) { w.WriteBulk(f); w.WriteBulk(v); }
    }
}
