using Basalt.Protocol;
using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>BZPOPMIN, BZPOPMAX and BZMPOP: pop at once when a set has data, else wait through <see cref="Keyspace.Blocking"/>.</summary>
public static class SortedSetBlockingCommands
{
    private sealed class Wait
    {
        public bool Max;
        public long Count = 1;
        public bool MPop;
    }

    private static readonly BlockedServe ServeDelegate = Serve;
    private static readonly Action<RespWriter> TimeoutReply = static w => w.WriteNullArray();

    public static void Register(CommandTable t)
    {
        t.Add("bzpopmin", -3, Write | NoScript | CommandFlags.Blocking | Fast, 1, -2, 1, ctx => BZPop(ctx, max: false));
        t.Add("bzpopmax", -3, Write | NoScript | CommandFlags.Blocking | Fast, 1, -2, 1, ctx => BZPop(ctx, max: true));
        t.Add("bzmpop", -5, Write | CommandFlags.Blocking, 0, 0, 0, ctx => SortedSetCommands.ZMPop(ctx, 2, blocking: true));
    }

    private static void BZPop(CommandContext ctx, bool max)
    {
        int last = ctx.Count - 1;
        if (!Keyspace.Blocking.TryParseTimeout(ctx, last, out long deadline)) return;
        for (int i = 1; i < last; i++)
        {
            var key = ctx.Arg(i);
            if (!ctx.TryLookupForWrite<RedisSortedSet>(key, out var z)) return;
            if (z is null) continue;
            Rewrites.Begin(ctx); // propagated as ZPOPMIN/ZPOPMAX by ReplyOne
            ReplyOne(ctx.Reply, ctx.Server, ctx.Db, ctx.ArgBytes(i), z, max);
            return;
        }
        if (!Keyspace.Blocking.CanBlock(ctx)) { ctx.Reply.WriteNullArray(); return; }
        Block(ctx, 1, last - 1, deadline, max, 1, mpop: false);
    }

    internal static void Block(CommandContext ctx, int firstKey, int numkeys, long deadline, bool max, long count, bool mpop)
    {
        var keys = new byte[numkeys][];
        for (int i = 0; i < numkeys; i++) keys[i] = ctx.ArgBytes(firstKey + i);
        ctx.Server.Blocking.Block(ctx.Client, keys, deadline, ServeDelegate, TimeoutReply, new Wait { Max = max, Count = count, MPop = mpop });
    }

    /// <summary>[key, member, score] for one pop.</summary>
    private static void ReplyOne(RespWriter w, RedisServer server, Database db, byte[] key, RedisSortedSet z, bool max)
    {
        var items = new List<ZItem>(1);
        SortedSetCommands.PopInto(server, db, key, z, 1, max, items);
        w.WriteArrayHeader(3);
        w.WriteBulk(key);
        w.WriteBulk(items[0].Member);
        w.WriteDouble(items[0].Score);
        if (server.Propagator.Active) server.Propagator.Begin(db.Index, 2).Arg(max ? "ZPOPMAX"u8 : "ZPOPMIN"u8).Arg(key).End();
    }

    private static bool Serve(BlockedClient b, Database db, byte[] key)
    {
        if (db.Lookup(key) is null || RedisSortedSet.Writable(db.Keys, key) is not { } z || z.Count == 0) return false;
        var wait = (Wait)b.State!;
        var server = b.Client.Server;
        if (wait.MPop) SortedSetCommands.ReplyMPop(b.Client.Out, server, db, key, z, wait.Count, wait.Max);
        else ReplyOne(b.Client.Out, server, db, key, z, wait.Max);
        return true;
    }
}
