using Basalt.Protocol;
using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>XREAD and XREADGROUP: served at once when a stream has newer entries, else (BLOCK) waiting through <see cref="Keyspace.Blocking"/>.</summary>
public static class StreamReadCommands
{
    /// <summary>What a blocked XREAD/XREADGROUP waits for: per key the ID entries must exceed (group reads use the group's).</summary>
    private sealed class Wait
    {
        public required StreamId[] Ids;
        public long Count;
        public bool NoAck;
        public byte[]? Group;
        public byte[]? Consumer;
    }

    private static readonly BlockedServe ServeDelegate = Serve;
    private static readonly Action<RespWriter> TimeoutReply = static w => w.WriteNullArray();

    public static void Register(CommandTable t)
    {
        // COMMAND INFO reports the keys as starting after STREAMS (movablekeys); the legacy range is 0,0,0 in Redis too.
        t.Add("xread", -4, ReadOnly | CommandFlags.Blocking, 0, 0, 0, ctx => Read(ctx, group: false));
        t.Add("xreadgroup", -7, Write | CommandFlags.Blocking, 0, 0, 0, ctx => Read(ctx, group: true));
    }

    private static void Read(CommandContext ctx, bool group)
    {
        long timeout = -1, count = 0;
        int streamsArg = 0, streamsCount = 0;
        int groupArg = 0;
        bool noAck = false;
        for (int i = 1; i < ctx.Count; i++)
        {
            int more = ctx.Count - i - 1;
            if (ctx.ArgIs(i, "block"u8) && more > 0)
            {
                i++;
                if (!RespNumbers.TryParseInt64(ctx.Arg(i), out timeout))
                {
                    ctx.Reply.WriteError("ERR timeout is not an integer or out of range");
                    return;
                }
                if (timeout < 0) { ctx.Reply.WriteError("ERR timeout is negative"); return; }
            }
            else if (ctx.ArgIs(i, "count"u8) && more > 0)
            {
                i++;
                if (!ctx.GetInt64OrReply(i, out count)) return;
                if (count < 0) count = 0;
            }
            else if (ctx.ArgIs(i, "streams"u8) && more > 0)
            {
                streamsArg = i + 1;
                streamsCount = ctx.Count - streamsArg;
                if (streamsCount % 2 != 0)
                {
                    ctx.Reply.WriteError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
                    return;
                }
                streamsCount /= 2;
                break;
            }
            else if (ctx.ArgIs(i, "group"u8) && more >= 2)
            {
                if (!group) { ctx.Reply.WriteError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."); return; }
                groupArg = i + 1;
                i += 2;
            }
            else if (ctx.ArgIs(i, "noack"u8))
            {
                if (!group) { ctx.Reply.WriteError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."); return; }
                noAck = true;
            }
            else { ctx.SyntaxError(); return; }
        }
        if (streamsArg == 0) { ctx.SyntaxError(); return; }
        if (group && groupArg == 0) { ctx.Reply.WriteError("ERR Missing GROUP option for XREADGROUP"); return; }

        var ids = new StreamId[streamsCount];
        var groups = group ? new StreamGroup?[streamsCount] : null;
        for (int k = 0; k < streamsCount; k++)
        {
            int keyArg = streamsArg + k, idArg = streamsArg + streamsCount + k;
            var obj = ctx.Db.Lookup(ctx.Arg(keyArg));
            if (obj is not null and not RedisStream) { ctx.WrongType(); return; }
            var s = obj as RedisStream;
            if (group)
            {
                var g = s?.LookupGroup(ctx.Arg(groupArg));
                if (g is null)
                {
                    ctx.Reply.WriteError($"NOGROUP No such key '{ctx.ArgString(keyArg)}' or consumer group '{ctx.ArgString(groupArg)}' in XREADGROUP with GROUP option");
                    return;
                }
                groups![k] = g;
            }
            var idSpan = ctx.Arg(idArg);
            if (idSpan.Length == 1 && idSpan[0] == '$')
            {
                if (group)
                {
                    ctx.Reply.WriteError("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
                    return;
                }
                ids[k] = s?.LastId ?? StreamId.Zero;
                continue;
            }
            if (idSpan.Length == 1 && idSpan[0] == '>')
            {
                if (!group)
                {
                    ctx.Reply.WriteError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
                    return;
                }
                ids[k] = StreamId.Max;
                continue;
            }
            if (!StreamCommands.ParseStrictId(ctx, idArg, out ids[k])) return;
        }

        var w = ctx.Reply;
        // Streams are decided one after the other, as serving one (a key listed twice in a group read) changes the next
        // decision; the replies go to a scratch writer until their number is known.
        using var body = new RespWriter(256) { Protocol = w.Protocol };
        int served = 0;
        long now = Database.NowMs;
        // XREADGROUP itself never reaches replicas: new deliveries go as XCLAIM / XGROUP SETID (Redis 7.0).
        var prop = groups is not null && Rewrites.Begin(ctx) ? ctx.Propagator : null;
        for (int k = 0; k < streamsCount; k++)
        {
            if (ctx.Db.Lookup(ctx.Arg(streamsArg + k)) is not RedisStream s) continue;
            var after = ids[k];
            bool history = false;
            if (groups is not null)
            {
                if (after != StreamId.Max) history = true;
                else if (s.Length > 0 && s.EdgeId(first: false) > groups[k]!.LastId) after = groups[k]!.LastId;
                else continue;
            }
            else if (s.Length == 0 || s.EdgeId(first: false) <= after) continue;
            served++;
            if (!body.IsResp3) body.WriteArrayHeader(2);
            body.WriteBulk(ctx.Arg(streamsArg + k));
            // Entries strictly after the given ID.
            after.TryIncrement(out var start);
            if (groups is null)
            {
                StreamCommands.WriteRange(body, s, start, StreamId.Max, count, rev: false);
                continue;
            }
            var g = groups[k]!;
            var consumer = g.LookupOrCreateConsumer(ctx.Arg(groupArg + 1), now, out bool created);
            if (created)
            {
                ctx.Server.Dirty++;
                Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xgroup-createconsumer", ctx.Arg(streamsArg + k));
            }
            if (history) WriteFromConsumerPel(body, s, consumer, start, count, now);
            else DeliverNew(body, s, g, consumer, start, count, noAck, now, prop, ctx.Client.DbIndex, ctx.Arg(streamsArg + k), created);
            ctx.Server.Dirty++;
        }
        if (served > 0)
        {
            if (w.IsResp3) w.WriteMapHeader(served); else w.WriteArrayHeader(served);
            w.WriteRaw(body.WrittenSpan);
            return;
        }
        if (timeout == -1 || !Keyspace.Blocking.CanBlock(ctx)) { w.WriteNullArray(); return; }
        var keys = new byte[streamsCount][];
        for (int k = 0; k < streamsCount; k++) keys[k] = ctx.ArgBytes(streamsArg + k);
        var wait = new Wait
        {
            Ids = ids, Count = count, NoAck = noAck,
            Group = group ? ctx.ArgBytes(groupArg) : null,
            Consumer = group ? ctx.ArgBytes(groupArg + 1) : null,
        };
        // Milliseconds; 0 waits forever. Huge values simply never time out, as in Redis.
        long deadline = timeout == 0 ? 0 : timeout > long.MaxValue / 2 ? long.MaxValue : Environment.TickCount64 + timeout;
        ctx.Server.Blocking.Block(ctx.Client, keys, deadline, ServeDelegate, TimeoutReply, wait);
    }

    /// <summary>
    /// A blocked reader whose key was touched: served when the stream's last generated ID passed the waited one
    /// (for groups, the group's current last ID); a group deleted meanwhile ends the wait with NOGROUP.
    /// </summary>
    private static bool Serve(BlockedClient b, Database db, byte[] key)
    {
        var wait = (Wait)b.State!;
        if (db.Lookup(key, touch: false) is not RedisStream s) return false;
        int k = Array.FindIndex(b.Keys, x => x.AsSpan().SequenceEqual(key));
        if (k < 0) return false;
        var w = b.Client.Out;
        StreamGroup? g = null;
        var gt = wait.Ids[k];
        if (wait.Group is not null)
        {
            g = s.LookupGroup(wait.Group);
            if (g is null)
            {
                w.WriteError("NOGROUP the consumer group this client was blocked on no longer exists");
                return true;
            }
            gt = g.LastId;
        }
        // Redis wakes readers only for XADD; other writes (XSETID moving the last ID) must not serve an empty reply.
        if (s.LastId <= gt || s.Length == 0 || s.EdgeId(first: false) <= gt) return false;
        gt.TryIncrement(out var start);
        if (w.IsResp3) w.WriteMapHeader(1);
        else
        {
            w.WriteArrayHeader(1);
            w.WriteArrayHeader(2);
        }
        w.WriteBulk(key);
        if (g is null)
        {
            StreamCommands.WriteRange(w, s, start, StreamId.Max, wait.Count, rev: false);
            return true;
        }
        long now = Database.NowMs;
        var consumer = g.LookupOrCreateConsumer(wait.Consumer, now, out bool created);
        var server = b.Client.Server;
        if (created)
        {
            server.Dirty++;
            Notifications.KeyspaceEvents.Notify(server, Notifications.KeyspaceEvents.Stream, "xgroup-createconsumer", db.Index, key);
        }
        var p = server.Propagator;
        if (!p.Active) DeliverNew(w, s, g, consumer, start, wait.Count, wait.NoAck, now, null, 0, key, created);
        else
        {
            // The ops of one served read form a unit (MULTI/EXEC when several).
            p.BeginUnit();
            try { DeliverNew(w, s, g, consumer, start, wait.Count, wait.NoAck, now, p, db.Index, key, created); }
            finally { p.EndUnit(); }
        }
        server.Dirty++;
        return true;
    }

    /// <summary>Delivers entries after the group's last ID: advances it and records them as pending (unless NOACK).</summary>
    private static void DeliverNew(RespWriter w, RedisStream s, StreamGroup g, StreamConsumer consumer, StreamId start, long count, bool noAck, long now,
        Replication.Propagator? prop, int db, ReadOnlySpan<byte> key, bool consumerCreated)
    {
        var delivered = new List<(StreamNode Node, int Index)>();
        foreach (var e in s.Range(start, StreamId.Max, rev: false))
        {
            if (count > 0 && delivered.Count == count) break;
            delivered.Add(e);
        }
        w.WriteArrayHeader(delivered.Count);
        foreach (var (node, i) in delivered)
        {
            var id = node.Ids[i];
            s.AdvanceGroup(g, id);
            node.WriteEntry(w, i);
            if (noAck) continue;
            if (g.Pel.TryGetValue(id, out var nack))
            {
                // Already pending (the group was moved back with SETID): it now belongs to this consumer.
                nack.Consumer?.Pel.Remove(id);
                nack.Consumer = consumer;
                nack.DeliveryTime = now;
                nack.DeliveryCount = 1;
                consumer.Pel[id] = nack;
            }
            else
            {
                nack = new StreamNack(consumer, now);
                g.Pel.Add(id, nack);
                consumer.Pel.Add(id, nack);
            }
            if (prop is not null) StreamGroupCommands.PropagateXClaim(prop, db, key, g, id, nack);
        }
        if (prop is not null && noAck && delivered.Count > 0)
        {
            // Nothing pending to carry the consumer and the group position: say them explicitly.
            if (consumerCreated) prop.Begin(db, 5).Arg("XGROUP"u8).Arg("CREATECONSUMER"u8).Arg(key).Arg(g.Name).Arg(consumer.Name).End();
            StreamGroupCommands.PropagateSetId(prop, db, key, g);
        }
    }

    /// <summary>Re-reads the consumer's own pending entries from <paramref name="start"/>; deleted ones come back with a null body.</summary>
    private static void WriteFromConsumerPel(RespWriter w, RedisStream s, StreamConsumer consumer, StreamId start, long count, long now)
    {
        var pel = consumer.Pel;
        int from = StreamGroup.LowerBound(pel, start);
        int n = pel.Count - from;
        if (count > 0 && n > count) n = (int)count;
        w.WriteArrayHeader(n);
        for (int j = from; j < from + n; j++)
        {
            var id = pel.Keys[j];
            if (!StreamCommands.WriteOne(w, s, id))
            {
                w.WriteArrayHeader(2);
                StreamCommands.WriteId(w, id);
                w.WriteNullArray();
            }
            else
            {
                var nack = pel.Values[j];
                nack.DeliveryTime = now;
                nack.DeliveryCount++;
            }
        }
    }
}
