using Basalt.Protocol;
using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>
/// LMPOP and the blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP. When no list has data they
/// block through <see cref="Blocking"/>; a waiter is served by <see cref="Serve"/> after a command fills a key.
/// </summary>
public static class ListBlockingCommands
{
    private enum Kind { Pop, MPop, Move }

    /// <summary>What a blocked list client asked for.</summary>
    private sealed class Wait
    {
        public Kind Kind;
        public bool Head;
        public long Count = 1;
        public byte[]? Dest;
        public bool DestHead;
        public byte[]? FromArg, ToArg; // BLMOVE's directions as received, for the propagated LMOVE
    }

    private static ReadOnlySpan<byte> PopName(bool head) => head ? "LPOP"u8 : "RPOP"u8;

    private static readonly BlockedServe ServeDelegate = Serve;
    private static readonly Action<RespWriter> TimeoutReply = static w => w.WriteNullArray();

    public static void Register(CommandTable t)
    {
        t.Add("blpop", -3, Write | NoScript | CommandFlags.Blocking, 1, -2, 1, ctx => BPop(ctx, head: true));
        t.Add("brpop", -3, Write | NoScript | CommandFlags.Blocking, 1, -2, 1, ctx => BPop(ctx, head: false));
        t.Add("blmove", 6, Write | DenyOom | NoScript | CommandFlags.Blocking, 1, 2, 1, BLMove);
        t.Add("brpoplpush", 4, Write | DenyOom | NoScript | CommandFlags.Blocking, 1, 2, 1, ctx => BMove(ctx, fromHead: false, toHead: true, timeoutArg: 3));
        t.Add("blmpop", -5, Write | CommandFlags.Blocking, 0, 0, 0, ctx => MPop(ctx, numkeysIndex: 2, blocking: true));
    }

    private static byte[][] CopyKeys(CommandContext ctx, int first, int count)
    {
        var keys = new byte[count][];
        for (int i = 0; i < count; i++) keys[i] = ctx.ArgBytes(first + i);
        return keys;
    }

    private static void BPop(CommandContext ctx, bool head)
    {
        int last = ctx.Count - 1;
        if (!Keyspace.Blocking.TryParseTimeout(ctx, last, out long deadline)) return;
        var db = ctx.Db;
        for (int i = 1; i < last; i++)
        {
            var key = ctx.Arg(i);
            if (!ctx.TryLookupForWrite<RedisList>(key, out var list)) return;
            if (list is null) continue;
            ctx.Reply.WriteArrayHeader(2);
            ctx.Reply.WriteBulk(key);
            list.PopTo(ctx.Reply, head);
            ListCommands.Changed(ctx.Server, db, key, list, ListCommands.PopEvent(head));
            if (Rewrites.Begin(ctx)) Rewrites.Op(ctx, PopName(head), key);
            ctx.Server.Dirty++;
            return;
        }
        if (!Keyspace.Blocking.CanBlock(ctx)) { ctx.Reply.WriteNullArray(); return; }
        ctx.Server.Blocking.Block(ctx.Client, CopyKeys(ctx, 1, last - 1), deadline, ServeDelegate, TimeoutReply,
            new Wait { Kind = Kind.Pop, Head = head });
    }

    private static void BLMove(CommandContext ctx)
    {
        bool from, to;
        if (ctx.ArgIs(3, "left"u8)) from = true; else if (ctx.ArgIs(3, "right"u8)) from = false; else { ctx.SyntaxError(); return; }
        if (ctx.ArgIs(4, "left"u8)) to = true; else if (ctx.ArgIs(4, "right"u8)) to = false; else { ctx.SyntaxError(); return; }
        BMove(ctx, from, to, timeoutArg: 5);
    }

    private static void BMove(CommandContext ctx, bool fromHead, bool toHead, int timeoutArg)
    {
        if (!Keyspace.Blocking.TryParseTimeout(ctx, timeoutArg, out long deadline)) return;
        if (!ctx.TryLookupForWrite<RedisList>(ctx.Arg(1), out var src)) return;
        if (src is not null)
        {
            long dirty = ctx.Server.Dirty;
            ListCommands.Move(ctx, fromHead, toHead);
            if (ctx.Server.Dirty != dirty && Rewrites.Begin(ctx))
            {
                if (timeoutArg == 5) ctx.Propagator.Begin(ctx.Client.DbIndex, 5).Arg("LMOVE"u8).Arg(ctx.Arg(1)).Arg(ctx.Arg(2)).Arg(ctx.Arg(3)).Arg(ctx.Arg(4)).End();
                else Rewrites.Op(ctx, "RPOPLPUSH"u8, ctx.Arg(1), ctx.Arg(2));
            }
            return;
        }
        if (!Keyspace.Blocking.CanBlock(ctx)) { ctx.Reply.WriteNull(); return; }
        ctx.Server.Blocking.Block(ctx.Client, CopyKeys(ctx, 1, 1), deadline, ServeDelegate, TimeoutReply,
            new Wait { Kind = Kind.Move, Head = fromHead, Dest = ctx.ArgBytes(2), DestHead = toHead,
                FromArg = timeoutArg == 5 ? ctx.ArgBytes(3) : null, ToArg = timeoutArg == 5 ? ctx.ArgBytes(4) : null });
    }

    /// <summary>LMPOP numkeys key... LEFT|RIGHT [COUNT n] and BLMPOP timeout numkeys ...</summary>
    internal static void MPop(CommandContext ctx, int numkeysIndex, bool blocking)
    {
        const string numkeysError = "ERR numkeys should be greater than 0";
        if (!ctx.TryArgInt64(numkeysIndex, out long numkeys) || numkeys < 1) { ctx.Reply.WriteError(numkeysError); return; }
        long whereIndex = numkeys >= ctx.Count ? ctx.Count : numkeysIndex + numkeys + 1;
        if (whereIndex >= ctx.Count) { ctx.SyntaxError(); return; }
        int wi = (int)whereIndex;
        bool head;
        if (ctx.ArgIs(wi, "left"u8)) head = true; else if (ctx.ArgIs(wi, "right"u8)) head = false; else { ctx.SyntaxError(); return; }
        long count = -1;
        for (int j = wi + 1; j < ctx.Count; j++)
        {
            if (count == -1 && ctx.ArgIs(j, "count"u8) && j + 1 < ctx.Count)
            {
                j++;
                if (!ctx.TryArgInt64(j, out count) || count < 1) { ctx.Reply.WriteError("ERR count should be greater than 0"); return; }
            }
            else { ctx.SyntaxError(); return; }
        }
        if (count == -1) count = 1;
        long deadline = 0;
        if (blocking && !Keyspace.Blocking.TryParseTimeout(ctx, 1, out deadline)) return;

        var db = ctx.Db;
        int first = numkeysIndex + 1;
        for (int i = first; i < first + numkeys; i++)
        {
            var key = ctx.Arg(i);
            if (!ctx.TryLookupForWrite<RedisList>(key, out var list)) return;
            if (list is null) continue;
            long n = ReplyPopped(ctx.Reply, db, ctx.Server, key, list, head, count);
            if (Rewrites.Begin(ctx)) Rewrites.Op(ctx, PopName(head), key, n);
            return;
        }
        if (!blocking || !Keyspace.Blocking.CanBlock(ctx)) { ctx.Reply.WriteNullArray(); return; }
        ctx.Server.Blocking.Block(ctx.Client, CopyKeys(ctx, first, (int)numkeys), deadline, ServeDelegate, TimeoutReply,
            new Wait { Kind = Kind.MPop, Head = head, Count = count });
    }

    /// <summary>Replies [key, [elements]] for up to <paramref name="count"/> pops.</summary>
    private static long ReplyPopped(RespWriter w, Database db, RedisServer server, ReadOnlySpan<byte> key, RedisList list, bool head, long count)
    {
        long n = Math.Min(count, list.Count);
        w.WriteArrayHeader(2);
        w.WriteBulk(key);
        w.WriteArrayHeader(n);
        for (long k = 0; k < n; k++) list.PopTo(w, head);
        ListCommands.Changed(server, db, key, list, ListCommands.PopEvent(head));
        server.Dirty += n;
        return n;
    }

    /// <summary>Serves one blocked list client from a key that became ready; false when the key has no list data.</summary>
    private static bool Serve(BlockedClient b, Database db, byte[] key)
    {
        if (db.Lookup(key) is not RedisList list || list.Count == 0) return false;
        var wait = (Wait)b.State!;
        var w = b.Client.Out;
        var server = b.Client.Server;
        switch (wait.Kind)
        {
            case Kind.Pop:
                w.WriteArrayHeader(2);
                w.WriteBulk(key);
                list.PopTo(w, wait.Head);
                ListCommands.Changed(server, db, key, list, ListCommands.PopEvent(wait.Head));
                server.Dirty++;
                if (server.Propagator.Active) server.Propagator.Begin(db.Index, 2).Arg(PopName(wait.Head)).Arg(key).End();
                break;
            case Kind.MPop:
                long n = ReplyPopped(w, db, server, key, list, wait.Head, wait.Count);
                if (server.Propagator.Active) server.Propagator.Begin(db.Index, 3).Arg(PopName(wait.Head)).Arg(key).Arg(n).End();
                break;
            case Kind.Move:
                server.Snapshot.PreWrite(db, wait.Dest!);
                var dstObj = db.Lookup(wait.Dest!);
                if (dstObj is not null && dstObj is not RedisList)
                {
                    // Nothing is popped: the waiter gets the error and the element stays for the next one.
                    w.WriteError(Errors.WrongType);
                    break;
                }
                var value = ListCommands.MoveOne(db, server, key, list, wait.Dest!, (RedisList?)dstObj, wait.Head, wait.DestHead,
                    server.Config.ListMaxListpackSize);
                w.WriteBulk(value);
                if (server.Propagator.Active)
                {
                    if (wait.FromArg is null) server.Propagator.Begin(db.Index, 3).Arg("RPOPLPUSH"u8).Arg(key).Arg(wait.Dest!).End();
                    else server.Propagator.Begin(db.Index, 5).Arg("LMOVE"u8).Arg(key).Arg(wait.Dest!).Arg(wait.FromArg).Arg(wait.ToArg!).End();
                }
                break;
        }
        return true;
    }
}
