using Basalt.Protocol;
using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO HELP.</summary>
public static class StreamInfoCommands
{
    public static void Register(CommandTable t)
    {
        var c = t.AddContainer("xinfo", -2);
        CommandTable.AddSub(c, "stream", -3, ReadOnly, 2, 2, 1, Stream);
        CommandTable.AddSub(c, "groups", 3, ReadOnly, 2, 2, 1, Groups);
        CommandTable.AddSub(c, "consumers", 4, ReadOnly, 2, 2, 1, Consumers);
        CommandTable.AddSub(c, "help", 2, Loading | Stale, 0, 0, 0, ctx => StreamGroupCommands.WriteHelpLines(ctx.Reply, "XINFO",
        [
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ]));
    }

    private static RedisStream? Lookup(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisStream>(ctx.Arg(2), out var s)) return null;
        if (s is null) ctx.Reply.WriteError(Errors.NoSuchKey);
        return s;
    }

    private static void Consumers(CommandContext ctx)
    {
        if (Lookup(ctx) is not { } s) return;
        var g = s.LookupGroup(ctx.Arg(3));
        if (g is null)
        {
            ctx.Reply.WriteError($"NOGROUP No such consumer group '{ctx.ArgString(3)}' for key name '{ctx.ArgString(2)}'");
            return;
        }
        var w = ctx.Reply;
        long now = Database.NowMs;
        w.WriteArrayHeader(g.Consumers.Count);
        foreach (var c in g.Consumers)
        {
            w.WriteMapHeader(3);
            w.WriteBulk("name"u8);
            w.WriteBulk(c.Name);
            w.WriteBulk("pending"u8);
            w.WriteInteger(c.Pel.Count);
            w.WriteBulk("idle"u8);
            w.WriteInteger(Math.Max(0, now - c.SeenTime));
        }
    }

    private static void Groups(CommandContext ctx)
    {
        if (Lookup(ctx) is not { } s) return;
        var w = ctx.Reply;
        w.WriteArrayHeader(s.Groups.Count);
        foreach (var g in s.Groups)
        {
            w.WriteMapHeader(6);
            w.WriteBulk("name"u8);
            w.WriteBulk(g.Name);
            w.WriteBulk("consumers"u8);
            w.WriteInteger(g.Consumers.Count);
            w.WriteBulk("pending"u8);
            w.WriteInteger(g.Pel.Count);
            w.WriteBulk("last-delivered-id"u8);
            StreamCommands.WriteId(w, g.LastId);
            WriteReadAndLag(w, s, g);
        }
    }

    private static void WriteReadAndLag(RespWriter w, RedisStream s, StreamGroup g)
    {
        w.WriteBulk("entries-read"u8);
        if (g.EntriesRead != RedisStream.InvalidEntriesRead) w.WriteInteger(g.EntriesRead); else w.WriteNull();
        w.WriteBulk("lag"u8);
        if (s.Lag(g) is { } lag) w.WriteInteger(lag); else w.WriteNull();
    }

    private static void Stream(CommandContext ctx)
    {
        bool full = ctx.Count > 3;
        long count = 10;
        if (full)
        {
            int extra = ctx.Count - 3;
            if ((extra != 1 && extra != 3) || !ctx.ArgIs(3, "full"u8) || (extra == 3 && !ctx.ArgIs(4, "count"u8)))
            {
                StreamGroupCommands.SubcommandSyntaxError(ctx, "XINFO");
                return;
            }
            if (extra == 3)
            {
                if (!ctx.GetInt64OrReply(5, out count)) return;
                if (count < 0) count = 10;
            }
        }
        if (Lookup(ctx) is not { } s) return;
        var w = ctx.Reply;
        w.WriteMapHeader(full ? 9 : 10);
        w.WriteBulk("length"u8);
        w.WriteInteger(s.Length);
        w.WriteBulk("radix-tree-keys"u8);
        w.WriteInteger(s.Nodes.Count);
        w.WriteBulk("radix-tree-nodes"u8);
        w.WriteInteger(s.RaxNodeCount());
        w.WriteBulk("last-generated-id"u8);
        StreamCommands.WriteId(w, s.LastId);
        w.WriteBulk("max-deleted-entry-id"u8);
        StreamCommands.WriteId(w, s.MaxDeletedId);
        w.WriteBulk("entries-added"u8);
        w.WriteInteger(s.EntriesAdded);
        w.WriteBulk("recorded-first-entry-id"u8);
        StreamCommands.WriteId(w, s.FirstId);
        if (!full)
        {
            w.WriteBulk("groups"u8);
            w.WriteInteger(s.Groups.Count);
            w.WriteBulk("first-entry"u8);
            WriteEdge(w, s, rev: false);
            w.WriteBulk("last-entry"u8);
            WriteEdge(w, s, rev: true);
            return;
        }
        w.WriteBulk("entries"u8);
        StreamCommands.WriteRange(w, s, StreamId.Zero, StreamId.Max, count, rev: false);
        w.WriteBulk("groups"u8);
        w.WriteArrayHeader(s.Groups.Count);
        foreach (var g in s.Groups)
        {
            w.WriteMapHeader(7);
            w.WriteBulk("name"u8);
            w.WriteBulk(g.Name);
            w.WriteBulk("last-delivered-id"u8);
            StreamCommands.WriteId(w, g.LastId);
            WriteReadAndLag(w, s, g);
            w.WriteBulk("pel-count"u8);
            w.WriteInteger(g.Pel.Count);
            w.WriteBulk("pending"u8);
            int n = Limit(g.Pel.Count, count);
            w.WriteArrayHeader(n);
            for (int j = 0; j < n; j++)
            {
                var nack = g.Pel.Values[j];
                w.WriteArrayHeader(4);
                StreamCommands.WriteId(w, g.Pel.Keys[j]);
                w.WriteBulk(nack.Consumer!.Name);
                w.WriteInteger(nack.DeliveryTime);
                w.WriteInteger(nack.DeliveryCount);
            }
            w.WriteBulk("consumers"u8);
            w.WriteArrayHeader(g.Consumers.Count);
            foreach (var c in g.Consumers)
            {
                w.WriteMapHeader(4);
                w.WriteBulk("name"u8);
                w.WriteBulk(c.Name);
                w.WriteBulk("seen-time"u8);
                w.WriteInteger(c.SeenTime);
                w.WriteBulk("pel-count"u8);
                w.WriteInteger(c.Pel.Count);
                w.WriteBulk("pending"u8);
                int m = Limit(c.Pel.Count, count);
                w.WriteArrayHeader(m);
                for (int j = 0; j < m; j++)
                {
                    var nack = c.Pel.Values[j];
                    w.WriteArrayHeader(3);
                    StreamCommands.WriteId(w, c.Pel.Keys[j]);
                    w.WriteInteger(nack.DeliveryTime);
                    w.WriteInteger(nack.DeliveryCount);
                }
            }
        }
    }

    private static int Limit(int size, long count) => count == 0 || count >= size ? size : (int)count;

    private static void WriteEdge(RespWriter w, RedisStream s, bool rev)
    {
        foreach (var (node, i) in s.Range(StreamId.Zero, StreamId.Max, rev))
        {
            node.WriteEntry(w, i);
            return;
        }
        w.WriteNull();
    }
}
