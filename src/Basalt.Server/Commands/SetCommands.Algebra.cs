using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>SINTER/SINTERCARD/SUNION/SDIFF and their STORE forms.</summary>
public static partial class SetCommands
{
    private enum SetOp { Union, Diff }

    private static void RegisterAlgebra(CommandTable t)
    {
        t.Add("sinter", -2, ReadOnly, 1, -1, 1, ctx => Inter(ctx, 1, ctx.Count - 1, store: false, cardOnly: false, 0));
        t.Add("sinterstore", -3, Write | DenyOom, 1, -1, 1, ctx => Inter(ctx, 2, ctx.Count - 2, store: true, cardOnly: false, 0));
        t.Add("sintercard", -3, ReadOnly, 0, 0, 0, SInterCard);
        t.Add("sunion", -2, ReadOnly, 1, -1, 1, ctx => UnionDiff(ctx, 1, store: false, SetOp.Union));
        t.Add("sunionstore", -3, Write | DenyOom, 1, -1, 1, ctx => UnionDiff(ctx, 2, store: true, SetOp.Union));
        t.Add("sdiff", -2, ReadOnly, 1, -1, 1, ctx => UnionDiff(ctx, 1, store: false, SetOp.Diff));
        t.Add("sdiffstore", -3, Write | DenyOom, 1, -1, 1, ctx => UnionDiff(ctx, 2, store: true, SetOp.Diff));
    }

    /// <summary>Looks up keys [first, first+n): false after WRONGTYPE; missing keys are null.</summary>
    private static bool LookupSets(CommandContext ctx, int first, int n, bool write, out RedisSet?[] sets)
    {
        sets = new RedisSet?[n];
        for (int j = 0; j < n; j++)
        {
            // Redis reads the sources as reads even for the STORE forms (hits/misses and "keymiss" count).
            if (!ctx.TryLookup(ctx.Arg(first + j), out sets[j])) return false;
        }
        return true;
    }

    /// <summary>Stores <paramref name="result"/> at key 1 (replacing it and its TTL), or deletes key 1 when empty.</summary>
    private static void StoreResult(CommandContext ctx, RedisSet result)
    {
        var db = ctx.Db;
        if (result.Count > 0)
        {
            db.Set(ctx.Arg(1), result);
            // The command name is the event: sinterstore, sunionstore, sdiffstore.
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Set, ctx.Command.Name, ctx.Arg(1));
            ctx.Reply.WriteInteger(result.Count);
        }
        else
        {
            ctx.Reply.WriteInteger(0);
            // An empty result changes nothing unless it deletes the destination.
            if (!db.Delete(ctx.Arg(1))) return;
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", ctx.Arg(1));
        }
        ctx.Server.Dirty++;
    }

    private static void Inter(CommandContext ctx, int first, int n, bool store, bool cardOnly, long limit)
    {
        if (!LookupSets(ctx, first, n, store, out var sets)) return;
        var w = ctx.Reply;
        if (Array.IndexOf(sets, null) >= 0)
        {
            if (store) StoreResult(ctx, new RedisSet());
            else if (cardOnly) w.WriteInteger(0);
            else w.WriteSetHeader(0);
            return;
        }
        // Iterate the smallest set and probe the others, smallest first.
        var ordered = sets!.OrderBy(s => s!.Count).ToArray();
        var result = store ? new RedisSet() : null;
        var found = cardOnly || store ? null : new List<byte[]>();
        long card = 0;
        long max = MaxIntset(ctx);
        var e = ordered[0]!.GetEnumerator();
        while (e.MoveNext())
        {
            bool all = true;
            for (int j = 1; j < ordered.Length && all; j++)
                if (!ordered[j]!.Contains(e.Current)) all = false;
            if (!all) continue;
            card++;
            result?.Add(e.Current, max);
            found?.Add(e.Current.ToArray());
            if (cardOnly && limit > 0 && card >= limit) break;
        }
        if (store) StoreResult(ctx, result!);
        else if (cardOnly) w.WriteInteger(card);
        else
        {
            w.WriteSetHeader(found!.Count);
            foreach (var m in found) w.WriteBulk(m);
        }
    }

    private static void SInterCard(CommandContext ctx)
    {
        var w = ctx.Reply;
        if (!ctx.TryArgInt64(1, out long numkeys) || numkeys < 1)
        {
            w.WriteError("ERR numkeys should be greater than 0");
            return;
        }
        if (numkeys > ctx.Count - 2)
        {
            w.WriteError("ERR Number of keys can't be greater than number of args");
            return;
        }
        long limit = 0;
        for (int i = 2 + (int)numkeys; i < ctx.Count; i++)
        {
            if (ctx.ArgIs(i, "limit"u8) && i + 1 < ctx.Count)
            {
                if (!ctx.TryArgInt64(i + 1, out limit) || limit < 0)
                {
                    w.WriteError("ERR LIMIT can't be negative");
                    return;
                }
                i++;
            }
            else { ctx.SyntaxError(); return; }
        }
        Inter(ctx, 2, (int)numkeys, store: false, cardOnly: true, limit);
    }

    private static void UnionDiff(CommandContext ctx, int first, bool store, SetOp op)
    {
        int n = ctx.Count - first;
        if (!LookupSets(ctx, first, n, store, out var sets)) return;
        var result = new RedisSet();
        long max = MaxIntset(ctx);
        if (op == SetOp.Union)
        {
            foreach (var s in sets)
            {
                if (s is null) continue;
                var e = s.GetEnumerator();
                while (e.MoveNext()) result.Add(e.Current, max);
            }
        }
        else if (sets[0] is { } head)
        {
            var e = head.GetEnumerator();
            while (e.MoveNext())
            {
                bool keep = true;
                for (int j = 1; j < sets.Length && keep; j++)
                    if (sets[j] is { } other && (ReferenceEquals(other, head) || other.Contains(e.Current))) keep = false;
                if (keep) result.Add(e.Current, max);
            }
        }
        if (store) StoreResult(ctx, result);
        else WriteSet(ctx, result);
    }
}
