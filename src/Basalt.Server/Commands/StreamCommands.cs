using Basalt.Protocol;
using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>Stream commands on entries: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID.</summary>
public static class StreamCommands
{
    public const string InvalidId = "ERR Invalid stream ID specified as stream command argument";

    public static void Register(CommandTable t)
    {
        t.Add("xadd", -5, Write | DenyOom | Fast, 1, 1, 1, XAdd);
        t.Add("xrange", -4, ReadOnly, 1, 1, 1, ctx => XRange(ctx, rev: false));
        t.Add("xrevrange", -4, ReadOnly, 1, 1, 1, ctx => XRange(ctx, rev: true));
        t.Add("xlen", 2, ReadOnly | Fast, 1, 1, 1, XLen);
        t.Add("xdel", -3, Write | Fast, 1, 1, 1, XDel);
        t.Add("xtrim", -4, Write, 1, 1, 1, XTrim);
        t.Add("xsetid", -3, Write | DenyOom | Fast, 1, 1, 1, XSetId);
        StreamReadCommands.Register(t);
        StreamGroupCommands.Register(t);
        StreamInfoCommands.Register(t);
    }

    // --- shared helpers ---

    /// <summary>Strict ID ("-"/"+" not allowed), seq 0 when missing.</summary>
    internal static bool ParseStrictId(CommandContext ctx, int arg, out StreamId id)
    {
        if (StreamId.TryParse(ctx.Arg(arg), 0, strict: true, allowSeqStar: false, out id, out _)) return true;
        ctx.Reply.WriteError(InvalidId);
        return false;
    }

    internal static bool ParseId(CommandContext ctx, int arg, ulong missingSeq, out StreamId id)
    {
        if (StreamId.TryParse(ctx.Arg(arg), missingSeq, strict: false, allowSeqStar: false, out id, out _)) return true;
        ctx.Reply.WriteError(InvalidId);
        return false;
    }

    /// <summary>A range bound: "(" makes it exclusive (then applied, with Redis's errors at the ID space's ends).</summary>
    internal static bool ParseRangeBound(CommandContext ctx, int arg, bool isStart, out StreamId id)
    {
        var s = ctx.Arg(arg);
        bool exclusive = s.Length > 1 && s[0] == '(';
        ulong missing = isStart ? 0 : ulong.MaxValue;
        bool ok = exclusive
            ? StreamId.TryParse(s[1..], missing, strict: true, allowSeqStar: false, out id, out _)
            : StreamId.TryParse(s, missing, strict: false, allowSeqStar: false, out id, out _);
        if (!ok) { ctx.Reply.WriteError(InvalidId); return false; }
        if (!exclusive) return true;
        if (isStart ? id.TryIncrement(out id) : id.TryDecrement(out id)) return true;
        ctx.Reply.WriteError(isStart ? "ERR invalid start ID for the interval" : "ERR invalid end ID for the interval");
        return false;
    }

    /// <summary>Writes the entries of a range as an array, returning how many (count 0 = all).</summary>
    internal static long WriteRange(RespWriter w, RedisStream s, StreamId start, StreamId end, long count, bool rev)
    {
        long n = 0;
        foreach (var (node, i) in s.Range(start, end, rev))
        {
            if (count > 0 && n == count) break;
            n++;
        }
        w.WriteArrayHeader(n);
        long k = 0;
        foreach (var (node, i) in s.Range(start, end, rev))
        {
            if (k == n) break;
            node.WriteEntry(w, i);
            k++;
        }
        return n;
    }

    /// <summary>Writes the single entry with this ID as [id, fields]; false (nothing written) when it is gone.</summary>
    internal static bool WriteOne(RespWriter w, RedisStream s, StreamId id)
    {
        foreach (var (node, i) in s.Range(id, id, false))
        {
            node.WriteEntry(w, i);
            return true;
        }
        return false;
    }

    internal static void WriteId(RespWriter w, StreamId id) => StreamNode.WriteId(w, id);

    internal static void Modified(CommandContext ctx, int keyArg) => ctx.Db.KeyModified?.Invoke(ctx.Db, ctx.Arg(keyArg));

    // --- trimming arguments shared by XADD and XTRIM ---

    private struct TrimArgs
    {
        public bool Given, ByMaxLen, Approx, NoMkStream, IdGiven, SeqGiven;
        public int ThresholdArg, IdArg; // argument positions, for the propagated rewrite
        public long MaxLen, Limit;
        public StreamId MinId, Id;
    }

    /// <summary>Parses options from argument 2; for XADD returns the index of the ID argument, else the end. -1 after replying.</summary>
    private static int ParseTrimArgs(CommandContext ctx, bool xadd, out TrimArgs a)
    {
        a = default;
        bool limitGiven = false;
        int i = 2;
        for (; i < ctx.Count; i++)
        {
            int more = ctx.Count - 1 - i;
            var opt = ctx.Arg(i);
            if (xadd && opt.Length == 1 && opt[0] == '*') break;
            bool maxlen = ctx.ArgIs(i, "maxlen"u8);
            if ((maxlen || ctx.ArgIs(i, "minid"u8)) && more > 0)
            {
                if (a.Given)
                {
                    ctx.Reply.WriteError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                    return -1;
                }
                a.Approx = false;
                var next = ctx.Arg(i + 1);
                if (more >= 2 && next.Length == 1 && next[0] == '~') { a.Approx = true; i++; }
                else if (more >= 2 && next.Length == 1 && next[0] == '=') i++;
                a.ThresholdArg = i + 1;
                if (maxlen)
                {
                    if (!ctx.GetInt64OrReply(i + 1, out a.MaxLen)) return -1;
                    if (a.MaxLen < 0) { ctx.Reply.WriteError("ERR The MAXLEN argument must be >= 0."); return -1; }
                }
                else if (!ParseStrictId(ctx, i + 1, out a.MinId)) return -1;
                i++;
                a.Given = true;
                a.ByMaxLen = maxlen;
            }
            else if (ctx.ArgIs(i, "limit"u8) && more > 0)
            {
                if (!ctx.GetInt64OrReply(i + 1, out a.Limit)) return -1;
                if (a.Limit < 0) { ctx.Reply.WriteError("ERR The LIMIT argument must be >= 0."); return -1; }
                limitGiven = true;
                i++;
            }
            else if (xadd && ctx.ArgIs(i, "nomkstream"u8)) a.NoMkStream = true;
            else if (xadd)
            {
                if (!StreamId.TryParse(opt, 0, strict: true, allowSeqStar: true, out a.Id, out a.SeqGiven))
                {
                    ctx.Reply.WriteError(InvalidId);
                    return -1;
                }
                a.IdGiven = true;
                break;
            }
            else { ctx.SyntaxError(); return -1; }
        }
        if (a.Limit != 0 && !a.Given)
        {
            ctx.Reply.WriteError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
            return -1;
        }
        if (!xadd && !a.Given)
        {
            ctx.Reply.WriteError("ERR syntax error, XTRIM must be called with a trimming strategy");
            return -1;
        }
        if (limitGiven)
        {
            if (!a.Approx)
            {
                ctx.Reply.WriteError("ERR syntax error, LIMIT cannot be used without the special ~ option");
                return -1;
            }
        }
        else if (a.Approx)
        {
            a.Limit = 100 * ctx.Server.Config.StreamNodeMaxEntries;
            if (a.Limit <= 0 || a.Limit > 10000) a.Limit = 10000;
        }
        else a.Limit = 0;
        return i;
    }

    // --- commands ---

    private static void XAdd(CommandContext ctx)
    {
        int idPos = ParseTrimArgs(ctx, xadd: true, out var a);
        if (idPos < 0) return;
        a.IdArg = idPos;
        int fieldPos = idPos + 1;
        int nfields = ctx.Count - fieldPos;
        if (nfields < 2 || nfields % 2 == 1)
        {
            ctx.Reply.WriteError(Errors.WrongArity("xadd"));
            return;
        }
        if (a.IdGiven && a.SeqGiven && a.Id.IsZero)
        {
            ctx.Reply.WriteError("ERR The ID specified in XADD must be greater than 0-0");
            return;
        }
        if (!ctx.TryLookupForWrite<RedisStream>(ctx.Arg(1), out var s)) return;
        bool created = false;
        if (s is null)
        {
            if (a.NoMkStream) { ctx.Reply.WriteNull(); return; }
            s = new RedisStream();
            created = true;
        }
        if (s.LastId == StreamId.Max)
        {
            ctx.Reply.WriteError("ERR The stream has exhausted the last possible ID, unable to add more items");
            return;
        }
        StreamId id;
        if (a.IdGiven)
        {
            if (a.SeqGiven) id = a.Id;
            else if (s.LastId.Ms == a.Id.Ms)
            {
                if (s.LastId.Seq == ulong.MaxValue) { EqualOrSmaller(ctx, s, created); return; }
                id = new StreamId(s.LastId.Ms, s.LastId.Seq + 1);
            }
            else id = a.Id;
        }
        else
        {
            ulong now = (ulong)Database.NowMs;
            if (now > s.LastId.Ms) id = new StreamId(now, 0);
            else s.LastId.TryIncrement(out id);
        }
        if (id <= s.LastId) { EqualOrSmaller(ctx, s, created); return; }
        if (created) ctx.Db.Add(ctx.ArgBytes(1), s);
        var cfg = ctx.Server.Config;
        s.Append(id, new FieldReader(ctx, fieldPos, nfields), cfg.StreamNodeMaxBytes, cfg.StreamNodeMaxEntries);
        WriteId(ctx.Reply, id);
        ctx.Server.Dirty++;
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xadd", ctx.Arg(1));
        if (a.Given && s.Trim(a.ByMaxLen, a.MaxLen, a.MinId, a.Approx, a.Limit) > 0)
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xtrim", ctx.Arg(1));
        if (!created) Modified(ctx, 1);
        // Replicas get the generated ID and, for ~, the exact trim that happened.
        if ((!a.IdGiven || !a.SeqGiven || a.Approx) && Rewrites.Begin(ctx)) PropagateRewritten(ctx, s, a, id);
    }

    /// <summary>
    /// The command as received with the ID argument replaced by <paramref name="id"/> (XADD) and an approximate
    /// trim made exact: "~" becomes "=" and the threshold the resulting length (MAXLEN) or the first stored ID,
    /// deleted entries included (MINID), as Redis does.
    /// </summary>
    private static void PropagateRewritten(CommandContext ctx, RedisStream s, in TrimArgs a, StreamId id)
    {
        var tmp = IdScratch; // under the execution lock
        var op = ctx.Propagator.Begin(ctx.Client.DbIndex, ctx.Count);
        for (int i = 0; i < ctx.Count; i++)
        {
            if (a.Approx && i == a.ThresholdArg - 1) op = op.Arg("="u8);
            else if (a.Approx && i == a.ThresholdArg)
            {
                if (a.ByMaxLen) op = op.Arg(s.Length);
                else op = op.Arg(tmp.AsSpan(0, FirstStoredId(s).Format(tmp)));
            }
            else if (i == a.IdArg && a.IdArg > 0 && (!a.IdGiven || !a.SeqGiven)) op = op.Arg(tmp.AsSpan(0, id.Format(tmp)));
            else op = op.Arg(ctx.Arg(i));
        }
        op.End();
    }

    // Per thread rather than per lock: several in-process servers (tests) may run at once.
    [ThreadStatic] private static byte[]? t_idScratch;
    internal static byte[] IdScratch => t_idScratch ??= new byte[44];

    private static StreamId FirstStoredId(RedisStream s)
    {
        foreach (var node in s.Nodes) if (node.Count > 0) return node.Ids[0];
        return StreamId.Max;
    }

    private static void EqualOrSmaller(CommandContext ctx, RedisStream s, bool created)
    {
        // Redis creates the key before the append fails, leaving an empty stream.
        if (created) ctx.Db.Add(ctx.ArgBytes(1), s);
        ctx.Reply.WriteError("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    }

    private static void XRange(CommandContext ctx, bool rev)
    {
        int startArg = rev ? 3 : 2, endArg = rev ? 2 : 3;
        if (!ParseRangeBound(ctx, startArg, isStart: true, out var start)) return;
        if (!ParseRangeBound(ctx, endArg, isStart: false, out var end)) return;
        long count = -1;
        for (int j = 4; j < ctx.Count; j++)
        {
            if (ctx.ArgIs(j, "count"u8) && j + 1 < ctx.Count)
            {
                if (!ctx.GetInt64OrReply(j + 1, out count)) return;
                if (count < 0) count = 0;
                j++;
            }
            else { ctx.SyntaxError(); return; }
        }
        if (!ctx.TryLookup<RedisStream>(ctx.Arg(1), out var s)) return;
        if (s is null) { ctx.Reply.WriteArrayHeader(0); return; }
        if (count == 0) { ctx.Reply.WriteNullArray(); return; }
        WriteRange(ctx.Reply, s, start, end, count < 0 ? 0 : count, rev);
    }

    private static void XLen(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisStream>(ctx.Arg(1), out var s)) return;
        ctx.Reply.WriteInteger(s?.Length ?? 0);
    }

    private static void XDel(CommandContext ctx)
    {
        if (!ctx.TryLookupForWrite<RedisStream>(ctx.Arg(1), out var s)) return;
        if (s is null) { ctx.Reply.WriteInteger(0); return; }
        var ids = new StreamId[ctx.Count - 2];
        for (int j = 2; j < ctx.Count; j++)
            if (!ParseStrictId(ctx, j, out ids[j - 2])) return;
        long deleted = 0;
        bool first = false;
        foreach (var id in ids)
        {
            if (!s.Delete(id)) continue;
            if (id == s.FirstId) first = true;
            if (id > s.MaxDeletedId) s.MaxDeletedId = id;
            deleted++;
        }
        if (deleted > 0)
        {
            if (s.Length == 0) s.FirstId = StreamId.Zero;
            else if (first) s.RefreshFirstId();
            ctx.Server.Dirty += deleted;
            Modified(ctx, 1);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xdel", ctx.Arg(1));
        }
        ctx.Reply.WriteInteger(deleted);
    }

    private static void XTrim(CommandContext ctx)
    {
        if (ParseTrimArgs(ctx, xadd: false, out var a) < 0) return;
        if (!ctx.TryLookupForWrite<RedisStream>(ctx.Arg(1), out var s)) return;
        if (s is null) { ctx.Reply.WriteInteger(0); return; }
        long deleted = s.Trim(a.ByMaxLen, a.MaxLen, a.MinId, a.Approx, a.Limit);
        if (deleted > 0)
        {
            ctx.Server.Dirty += deleted;
            Modified(ctx, 1);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xtrim", ctx.Arg(1));
            if (a.Approx && Rewrites.Begin(ctx)) PropagateRewritten(ctx, s, a, default);
        }
        ctx.Reply.WriteInteger(deleted);
    }

    private static void XSetId(CommandContext ctx)
    {
        if (!ParseStrictId(ctx, 2, out var id)) return;
        long entriesAdded = -1;
        var maxDeleted = StreamId.Zero;
        for (int i = 3; i < ctx.Count; i++)
        {
            bool more = i + 1 < ctx.Count;
            if (ctx.ArgIs(i, "entriesadded"u8) && more)
            {
                if (!ctx.GetInt64OrReply(i + 1, out entriesAdded)) return;
                if (entriesAdded < 0) { ctx.Reply.WriteError("ERR entries_added must be positive"); return; }
                i++;
            }
            else if (ctx.ArgIs(i, "maxdeletedid"u8) && more)
            {
                if (!ParseStrictId(ctx, i + 1, out maxDeleted)) return;
                if (id < maxDeleted)
                {
                    ctx.Reply.WriteError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                    return;
                }
                i++;
            }
            else { ctx.SyntaxError(); return; }
        }
        if (!ctx.TryLookupForWrite<RedisStream>(ctx.Arg(1), out var s)) return;
        if (s is null) { ctx.Reply.WriteError(Errors.NoSuchKey); return; }
        if (s.Length > 0)
        {
            if (id < s.EdgeId(first: false))
            {
                ctx.Reply.WriteError("ERR The ID specified in XSETID is smaller than the target stream top item");
                return;
            }
            if (entriesAdded != -1 && s.Length > entriesAdded)
            {
                ctx.Reply.WriteError("ERR The entries_added specified in XSETID is smaller than the target stream length");
                return;
            }
        }
        s.LastId = id;
        if (entriesAdded != -1) s.EntriesAdded = entriesAdded;
        if (!maxDeleted.IsZero) s.MaxDeletedId = maxDeleted;
        // Redis 7.0.15 does not signal the key here: WATCH survives an XSETID.
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Stream, "xsetid", ctx.Arg(1));
        ctx.Server.Dirty++;
        ctx.Reply.WriteOk();
    }
}
