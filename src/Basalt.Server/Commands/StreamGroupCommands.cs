using Basalt.Protocol;
using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>Consumer groups: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.</summary>
public static class StreamGroupCommands
{
    private const string KeyMustExist = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

    public static void Register(CommandTable t)
    {
        var c = t.AddContainer("xgroup", -2);
        CommandTable.AddSub(c, "create", -5, Write | DenyOom, 2, 2, 1, XGroup);
        CommandTable.AddSub(c, "setid", -5, Write, 2, 2, 1, XGroup);
        CommandTable.AddSub(c, "destroy", 4, Write, 2, 2, 1, XGroup);
        CommandTable.AddSub(c, "createconsumer", 5, Write | DenyOom, 2, 2, 1, XGroup);
        CommandTable.AddSub(c, "delconsumer", 5, Write, 2, 2, 1, XGroup);
        CommandTable.AddSub(c, "help", 2, Loading | Stale, 0, 0, 0, Help);
        t.Add("xack", -4, Write | Fast, 1, 1, 1, XAck);
        t.Add("xpending", -3, ReadOnly, 1, 1, 1, XPending);
        t.Add("xclaim", -6, Write | Fast, 1, 1, 1, XClaim);
        t.Add("xautoclaim", -6, Write | Fast, 1, 1, 1, XAutoClaim);
    }

    private static void Help(CommandContext ctx)
    {
        string[] lines =
        [
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ];
        WriteHelpLines(ctx.Reply, "XGROUP", lines);
    }

    /// <summary>Redis's help layout, with stream commands' own "Prints this help." wording.</summary>
    internal static void WriteHelpLines(RespWriter w, string command, string[] lines)
    {
        w.WriteArrayHeader(lines.Length + 3);
        w.WriteSimpleString($"{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        foreach (var l in lines) w.WriteSimpleString(l);
        w.WriteSimpleString("HELP");
        w.WriteSimpleString("    Prints this help.");
    }

    internal static void SubcommandSyntaxError(CommandContext ctx, string container) =>
        ctx.Reply.WriteError($"ERR unknown subcommand or wrong number of arguments for '{ctx.ArgString(1)}'. Try {container} HELP.");

    private static void XGroup(CommandContext ctx)
    {
        string sub = ctx.Command.Name;
        bool mkstream = false;
        long entriesRead = RedisStream.InvalidEntriesRead;
        if (sub == "create" && ctx.Count >= 5)
        {
            for (int i = 5; i < ctx.Count;)
            {
                if (ctx.ArgIs(i, "mkstream"u8)) { mkstream = true; i++; }
                else if (ctx.ArgIs(i, "entriesread"u8) && i + 1 < ctx.Count)
                {
                    if (!ctx.GetInt64OrReply(i + 1, out entriesRead)) return;
                    if (entriesRead < 0 && entriesRead != RedisStream.InvalidEntriesRead)
                    {
                        ctx.Reply.WriteError("ERR value for ENTRIESREAD must be positive or -1");
                        return;
                    }
                    i += 2;
                }
                else { SubcommandSyntaxError(ctx, "XGROUP"); return; }
            }
        }
        if (!ctx.TryLookupForWrite<RedisStream>(ctx.Arg(2), out var s)) return;
        if (s is null && !(sub == "create" && mkstream)) { ctx.Reply.WriteError(KeyMustExist); return; }
        var groupName = ctx.Arg(3);
        StreamGroup? g = null;
        if (sub is "setid" or "createconsumer" or "delconsumer")
        {
            g = s!.LookupGroup(groupName);
            if (g is null)
            {
                ctx.Reply.WriteError($"NOGROUP No such consumer group '{ctx.ArgString(3)}' for key name '{ctx.ArgString(2)}'");
                return;
            }
        }
        switch (sub)
        {
            case "create" when ctx.Count <= 8:
            {
                StreamId id;
                var idArg = ctx.Arg(4);
                if (idArg.Length == 1 && idArg[0] == '$') id = s?.LastId ?? StreamId.Zero;
                else if (!StreamCommands.ParseStrictId(ctx, 4, out id)) return;
                if (s is null)
                {
                    s = new RedisStream();
                    ctx.Db.Add(ctx.ArgBytes(2), s);
                }
                if (s.CreateGroup(groupName.ToArray(), id, entriesRead) is null)
                {
                    ctx.Reply.WriteError("BUSYGROUP Consumer Group name already exists");
                    return;
                }
                Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xgroup-create", ctx.Arg(2));
                ctx.Server.Dirty++;
                ctx.Reply.WriteOk();
                return;
            }
            case "setid" when ctx.Count is 5 or 7:
            {
                StreamId id;
                var idArg = ctx.Arg(4);
                if (idArg.Length == 1 && idArg[0] == '$') id = s!.LastId;
                else if (!StreamCommands.ParseId(ctx, 4, 0, out id)) return;
                if (ctx.Count == 7)
                {
                    if (!ctx.ArgIs(5, "entriesread"u8)) { SubcommandSyntaxError(ctx, "XGROUP"); return; }
                    if (!ctx.GetInt64OrReply(6, out entriesRead)) return;
                    if (entriesRead < 0 && entriesRead != RedisStream.InvalidEntriesRead)
                    {
                        ctx.Reply.WriteError("ERR value for ENTRIESREAD must be positive or -1");
                        return;
                    }
                }
                g!.LastId = id;
                g.EntriesRead = entriesRead;
                Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xgroup-setid", ctx.Arg(2));
                ctx.Server.Dirty++;
                ctx.Reply.WriteOk();
                return;
            }
            case "destroy":
            {
                int i = s!.FindGroup(groupName);
                if (i < 0) { ctx.Reply.WriteInteger(0); return; }
                s.Groups.RemoveAt(i);
                ctx.Server.Dirty++;
                Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xgroup-destroy", ctx.Arg(2));
                // Readers blocked on this group get their NOGROUP error.
                ctx.Server.Blocking.SignalKeyAsReady(ctx.Db, ctx.Arg(2));
                ctx.Reply.WriteInteger(1);
                return;
            }
            case "createconsumer":
            {
                bool created = g!.CreateConsumer(ctx.Arg(4), Database.NowMs) is not null;
                if (created)
                {
                    ctx.Server.Dirty++;
                    Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xgroup-createconsumer", ctx.Arg(2));
                }
                ctx.Reply.WriteInteger(created ? 1 : 0);
                return;
            }
            case "delconsumer":
            {
                bool existed = g!.FindConsumer(ctx.Arg(4)) >= 0;
                long pending = g.DeleteConsumer(ctx.Arg(4));
                if (existed) ctx.Server.Dirty++;
                if (existed) Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xgroup-delconsumer", ctx.Arg(2));
                ctx.Reply.WriteInteger(pending);
                return;
            }
            default:
                SubcommandSyntaxError(ctx, "XGROUP");
                return;
        }
    }

    /// <summary>The stream and group, or null after replying (WRONGTYPE, or the NOGROUP error when given).</summary>
    private static bool LookupGroup(CommandContext ctx, out RedisStream? s, out StreamGroup? g)
    {
        g = null;
        if (!ctx.TryLookup<RedisStream>(ctx.Arg(1), out s)) return false;
        g = s?.LookupGroup(ctx.Arg(2));
        return true;
    }

    private static string NoGroup(CommandContext ctx) =>
        $"NOGROUP No such key '{ctx.ArgString(1)}' or consumer group '{ctx.ArgString(2)}'";

    private static void XAck(CommandContext ctx)
    {
        if (!LookupGroup(ctx, out _, out var g)) return;
        if (g is null) { ctx.Reply.WriteInteger(0); return; }
        var ids = new StreamId[ctx.Count - 3];
        for (int j = 3; j < ctx.Count; j++)
            if (!StreamCommands.ParseStrictId(ctx, j, out ids[j - 3])) return;
        long acked = 0;
        foreach (var id in ids)
        {
            if (!g.Pel.Remove(id, out var nack)) continue;
            nack.Consumer?.Pel.Remove(id);
            acked++;
        }
        ctx.Server.Dirty += acked;
        ctx.Reply.WriteInteger(acked);
    }

    private static void XPending(CommandContext ctx)
    {
        bool summary = ctx.Count == 3;
        if (ctx.Count != 3 && (ctx.Count < 6 || ctx.Count > 9)) { ctx.SyntaxError(); return; }
        long count = 0, minIdle = 0;
        StreamId start = default, end = default;
        int consumerArg = 0;
        if (ctx.Count >= 6)
        {
            int s0 = 3;
            if (ctx.ArgIs(3, "idle"u8))
            {
                if (!ctx.GetInt64OrReply(4, out minIdle)) return;
                if (ctx.Count < 8) { ctx.SyntaxError(); return; }
                s0 += 2;
            }
            if (!ctx.GetInt64OrReply(s0 + 2, out count)) return;
            if (count < 0) count = 0;
            if (!StreamCommands.ParseRangeBound(ctx, s0, isStart: true, out start)) return;
            if (!StreamCommands.ParseRangeBound(ctx, s0 + 1, isStart: false, out end)) return;
            if (s0 + 3 < ctx.Count) consumerArg = s0 + 3;
        }
        if (!ctx.TryLookup<RedisStream>(ctx.Arg(1), out var s)) return;
        var g = s?.LookupGroup(ctx.Arg(2));
        if (g is null) { ctx.Reply.WriteError(NoGroup(ctx)); return; }
        var w = ctx.Reply;
        if (summary)
        {
            w.WriteArrayHeader(4);
            w.WriteInteger(g.Pel.Count);
            if (g.Pel.Count == 0)
            {
                w.WriteNull();
                w.WriteNull();
                w.WriteNullArray();
                return;
            }
            StreamCommands.WriteId(w, g.Pel.Keys[0]);
            StreamCommands.WriteId(w, g.Pel.Keys[^1]);
            int withPending = 0;
            foreach (var c in g.Consumers) if (c.Pel.Count > 0) withPending++;
            w.WriteArrayHeader(withPending);
            foreach (var c in g.Consumers)
            {
                if (c.Pel.Count == 0) continue;
                w.WriteArrayHeader(2);
                w.WriteBulk(c.Name);
                w.WriteBulkInteger(c.Pel.Count);
            }
            return;
        }
        SortedList<StreamId, StreamNack> pel = g.Pel;
        if (consumerArg != 0)
        {
            var c = g.LookupConsumer(ctx.Arg(consumerArg));
            if (c is null) { w.WriteArrayHeader(0); return; }
            pel = c.Pel;
        }
        long now = Database.NowMs;
        var rows = new List<int>();
        for (int j = StreamGroup.LowerBound(pel, start); count > 0 && j < pel.Count && pel.Keys[j] <= end; j++)
        {
            if (minIdle != 0 && now - pel.Values[j].DeliveryTime < minIdle) continue;
            rows.Add(j);
            count--;
        }
        w.WriteArrayHeader(rows.Count);
        foreach (int j in rows)
        {
            var nack = pel.Values[j];
            w.WriteArrayHeader(4);
            StreamCommands.WriteId(w, pel.Keys[j]);
            w.WriteBulk(nack.Consumer!.Name);
            w.WriteInteger(Math.Max(0, now - nack.DeliveryTime));
            w.WriteInteger(nack.DeliveryCount);
        }
    }

    /// <summary>
    /// How Redis 7.0 replicates a PEL change: XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last,
    /// with the entry's current owner, delivery time and count and the group's last ID.
    /// </summary>
    internal static void PropagateXClaim(Replication.Propagator p, int db, ReadOnlySpan<byte> key, StreamGroup g, StreamId id, StreamNack nack)
    {
        var tmp = StreamCommands.IdScratch; // under the execution lock; each Arg copies at once
        var op = p.Begin(db, 14).Arg("XCLAIM"u8).Arg(key).Arg(g.Name).Arg(nack.Consumer?.Name ?? []).Arg("0"u8);
        op = op.Arg(tmp.AsSpan(0, id.Format(tmp)));
        op = op.Arg("TIME"u8).Arg(nack.DeliveryTime).Arg("RETRYCOUNT"u8).Arg(nack.DeliveryCount).Arg("FORCE"u8).Arg("JUSTID"u8).Arg("LASTID"u8);
        op = op.Arg(tmp.AsSpan(0, g.LastId.Format(tmp)));
        op.End();
    }

    /// <summary>XGROUP SETID key group last-id ENTRIESREAD n.</summary>
    internal static void PropagateSetId(Replication.Propagator p, int db, ReadOnlySpan<byte> key, StreamGroup g)
    {
        var tmp = StreamCommands.IdScratch;
        var op = p.Begin(db, 7).Arg("XGROUP"u8).Arg("SETID"u8).Arg(key).Arg(g.Name);
        op = op.Arg(tmp.AsSpan(0, g.LastId.Format(tmp)));
        op.Arg("ENTRIESREAD"u8).Arg(g.EntriesRead).End();
    }

    private static void XClaim(CommandContext ctx)
    {
        if (!LookupGroup(ctx, out var s, out var g)) return;
        if (g is null) { ctx.Reply.WriteError(NoGroup(ctx)); return; }
        if (!RespNumbers.TryParseInt64(ctx.Arg(4), out long minIdle))
        {
            ctx.Reply.WriteError("ERR Invalid min-idle-time argument for XCLAIM");
            return;
        }
        if (minIdle < 0) minIdle = 0;
        int j = 5;
        while (j < ctx.Count && StreamId.TryParse(ctx.Arg(j), 0, true, false, out _, out _)) j++;
        int lastIdArg = j - 1;
        long now = Database.NowMs;
        long deliveryTime = -1, retryCount = -1;
        bool force = false, justId = false;
        var lastId = StreamId.Zero;
        for (; j < ctx.Count; j++)
        {
            bool more = j + 1 < ctx.Count;
            if (ctx.ArgIs(j, "force"u8)) force = true;
            else if (ctx.ArgIs(j, "justid"u8)) justId = true;
            else if (ctx.ArgIs(j, "idle"u8) && more)
            {
                j++;
                if (!RespNumbers.TryParseInt64(ctx.Arg(j), out deliveryTime)) { ctx.Reply.WriteError("ERR Invalid IDLE option argument for XCLAIM"); return; }
                deliveryTime = now - deliveryTime;
            }
            else if (ctx.ArgIs(j, "time"u8) && more)
            {
                j++;
                if (!RespNumbers.TryParseInt64(ctx.Arg(j), out deliveryTime)) { ctx.Reply.WriteError("ERR Invalid TIME option argument for XCLAIM"); return; }
            }
            else if (ctx.ArgIs(j, "retrycount"u8) && more)
            {
                j++;
                if (!RespNumbers.TryParseInt64(ctx.Arg(j), out retryCount)) { ctx.Reply.WriteError("ERR Invalid RETRYCOUNT option argument for XCLAIM"); return; }
            }
            else if (ctx.ArgIs(j, "lastid"u8) && more)
            {
                j++;
                if (!StreamCommands.ParseStrictId(ctx, j, out lastId)) return;
            }
            else { ctx.Reply.WriteError($"ERR Unrecognized XCLAIM option '{ctx.ArgString(j)}'"); return; }
        }
        // XCLAIM itself never reaches replicas: each change goes as a normalized XCLAIM, a moved last ID as SETID.
        var prop = Rewrites.Begin(ctx) ? ctx.Propagator : null;
        int db = ctx.Client.DbIndex;
        bool propagateLastId = false;
        if (lastId > g.LastId) { g.LastId = lastId; propagateLastId = true; }
        if (deliveryTime == -1 || deliveryTime < 0 || deliveryTime > now) deliveryTime = now;

        var w = ctx.Reply;
        var claimed = new List<StreamId>();
        StreamConsumer? consumer = null;
        for (int k = 5; k <= lastIdArg; k++)
        {
            StreamId.TryParse(ctx.Arg(k), 0, true, false, out var id, out _);
            g.Pel.TryGetValue(id, out var nack);
            if (!s!.EntryExists(id))
            {
                if (nack is not null)
                {
                    g.Pel.Remove(id);
                    nack.Consumer?.Pel.Remove(id);
                    ctx.Server.Dirty++;
                    // Redis replicates the removal as an XCLAIM for the old owner (that carries LASTID too).
                    if (prop is not null) PropagateXClaim(prop, db, ctx.Arg(1), g, id, nack);
                    propagateLastId = false;
                }
                continue;
            }
            if (force && nack is null)
            {
                nack = new StreamNack(null, now);
                g.Pel.Add(id, nack);
            }
            if (nack is null) continue;
            if (nack.Consumer is not null && minIdle != 0 && now - nack.DeliveryTime < minIdle) continue;
            if (consumer is null)
            {
                consumer = g.LookupOrCreateConsumer(ctx.Arg(3), now, out bool created);
                if (created) Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xgroup-createconsumer", ctx.Arg(1));
            }
            if (nack.Consumer != consumer) nack.Consumer?.Pel.Remove(id);
            nack.DeliveryTime = deliveryTime;
            if (retryCount >= 0) nack.DeliveryCount = retryCount;
            else if (!justId) nack.DeliveryCount++;
            if (nack.Consumer != consumer)
            {
                consumer.Pel[id] = nack;
                nack.Consumer = consumer;
            }
            claimed.Add(id);
            ctx.Server.Dirty++;
            if (prop is not null) PropagateXClaim(prop, db, ctx.Arg(1), g, id, nack);
            propagateLastId = false;
        }
        if (propagateLastId)
        {
            ctx.Server.Dirty++;
            if (prop is not null) PropagateSetId(prop, db, ctx.Arg(1), g);
        }
        w.WriteArrayHeader(claimed.Count);
        foreach (var id in claimed)
        {
            if (justId) StreamCommands.WriteId(w, id);
            else if (!StreamCommands.WriteOne(w, s!, id)) w.WriteNull();
        }
    }

    private static void XAutoClaim(CommandContext ctx)
    {
        if (!RespNumbers.TryParseInt64(ctx.Arg(4), out long minIdle))
        {
            ctx.Reply.WriteError("ERR Invalid min-idle-time argument for XAUTOCLAIM");
            return;
        }
        if (minIdle < 0) minIdle = 0;
        if (!StreamCommands.ParseRangeBound(ctx, 5, isStart: true, out var start)) return;
        long count = 100;
        bool justId = false;
        for (int j = 6; j < ctx.Count; j++)
        {
            bool more = j + 1 < ctx.Count;
            if (ctx.ArgIs(j, "count"u8) && more)
            {
                const long maxCount = long.MaxValue / 16;
                if (!RespNumbers.TryParseInt64(ctx.Arg(j + 1), out count) || count < 1 || count > maxCount)
                {
                    ctx.Reply.WriteError("ERR COUNT must be > 0");
                    return;
                }
                j++;
            }
            else if (ctx.ArgIs(j, "justid"u8)) justId = true;
            else { ctx.SyntaxError(); return; }
        }
        if (!LookupGroup(ctx, out var s, out var g)) return;
        if (g is null) { ctx.Reply.WriteError(NoGroup(ctx)); return; }

        long attempts = count * 10;
        long now = Database.NowMs;
        var claimed = new List<StreamId>();
        var deleted = new List<StreamId>();
        var prop = Rewrites.Begin(ctx) ? ctx.Propagator : null;
        int db = ctx.Client.DbIndex;
        int pos = StreamGroup.LowerBound(g.Pel, start);
        while (attempts-- > 0 && count > 0 && pos < g.Pel.Count)
        {
            var id = g.Pel.Keys[pos];
            var nack = g.Pel.Values[pos];
            if (!s!.EntryExists(id))
            {
                if (prop is not null) PropagateXClaim(prop, db, ctx.Arg(1), g, id, nack);
                g.Pel.RemoveAt(pos);
                nack.Consumer?.Pel.Remove(id);
                deleted.Add(id);
                count--;
                ctx.Server.Dirty++;
                continue;
            }
            pos++;
            if (minIdle != 0 && now - nack.DeliveryTime < minIdle) continue;
            var consumer = g.LookupOrCreateConsumer(ctx.Arg(3), now, out bool created);
            if (created) Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xgroup-createconsumer", ctx.Arg(1));
            if (nack.Consumer != consumer) nack.Consumer?.Pel.Remove(id);
            nack.DeliveryTime = now;
            if (!justId) nack.DeliveryCount++;
            if (nack.Consumer != consumer)
            {
                consumer.Pel[id] = nack;
                nack.Consumer = consumer;
            }
            claimed.Add(id);
            count--;
            ctx.Server.Dirty++;
            if (prop is not null) PropagateXClaim(prop, db, ctx.Arg(1), g, id, nack);
        }
        var next = pos < g.Pel.Count ? g.Pel.Keys[pos] : StreamId.Zero;
        var w = ctx.Reply;
        w.WriteArrayHeader(3);
        StreamCommands.WriteId(w, next);
        w.WriteArrayHeader(claimed.Count);
        foreach (var id in claimed)
        {
            if (justId) StreamCommands.WriteId(w, id);
            else if (!StreamCommands.WriteOne(w, s!, id)) w.WriteNull();
        }
        w.WriteArrayHeader(deleted.Count);
        foreach (var id in deleted) StreamCommands.WriteId(w, id);
    }
}
