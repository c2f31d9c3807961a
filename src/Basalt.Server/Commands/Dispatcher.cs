using System.Diagnostics;
using System.Text;
using Basalt.Protocol;

namespace Basalt.Server.Commands;

/// <summary>
/// Runs one parsed request: looks the command up, checks arity and authentication, calls the handler,
/// and keeps the statistics (commandstats, errorstats, slowlog, monitor feed). Called under the execution lock.
/// </summary>
public sealed class Dispatcher
{
    private readonly RedisServer _server;

    public Dispatcher(RedisServer server)
    {
        _server = server;
        Introspection = new Introspection.IntrospectionState(server, this);
        Evictor = new Eviction.Evictor(server);
        // Before Transactions: CLIENT LIST flags chain in Redis's order (t R B before d).
        Tracking = new Tracking.TrackingTable(server);
        Transactions = new Transactions.TransactionState(server);
        _execDef = server.Commands.Find("exec");
        _notQueued = [_execDef, server.Commands.Find("discard"), server.Commands.Find("multi"),
            server.Commands.Find("watch"), server.Commands.Find("quit"), server.Commands.Find("reset")];
    }

    /// <summary>maxmemory enforcement (runs before every command, like Redis's performEvictions).</summary>
    public Eviction.Evictor Evictor { get; }

    /// <summary>Client-side caching (CLIENT TRACKING); idle while no client tracks.</summary>
    public Tracking.TrackingTable Tracking { get; }

    /// <summary>MULTI queues and WATCHed keys.</summary>
    public Transactions.TransactionState Transactions { get; }

    // Commands that run at once inside MULTI instead of being queued.
    private readonly CommandDef? _execDef;
    private readonly CommandDef?[] _notQueued;
    private bool _inExec;       // running the queued commands of an EXEC
    private bool _restoreArgs;  // the handler ran stored commands: the context must get its own arguments back
    private bool _suppressPropagation; // the running handler propagated its own rewritten form
    private byte[] _storedBuf = new byte[256];
    private ArgRef[] _storedRefs = new ArgRef[8];

    /// <summary>Slow log, latency monitor, MONITOR feed, output limits and INFO metrics; sets the hooks below.</summary>
    public Introspection.IntrospectionState Introspection { get; }

    /// <summary>Hook for the MONITOR feed and the slow log; set by the introspection commands.</summary>
    public Action<Client, CommandContext>? OnMonitor;
    public Action<Client, CommandContext, CommandDef, long>? OnSlowlog;

    /// <summary>Number of clients in MONITOR mode; the feed is built only when non-zero.</summary>
    public int MonitorCount;

    public void Execute(Client client, byte[] buf, ArgRef[] args, int start, int count)
    {
        var ctx = client.Context;
        ctx.SetArgs(buf, args, start, count);
        client.LastInteractionMs = Environment.TickCount64;
        client.CommandsProcessed++;
        var reply = client.Out;
        int replyStart = reply.Length;

        var def = _server.Commands.Find(ctx.Arg(0));
        if (def is null)
        {
            Reject(client, Errors.UnknownCommand(Truncate(ctx.Arg(0), 128), ArgsPreview(ctx)));
            FinishReply(client, replyStart);
            return;
        }
        // A container with its own handler (COMMAND) runs it when called without a subcommand.
        if (def.Subcommands is not null && (count >= 2 || def.Handler is null))
        {
            if (count < 2)
            {
                Reject(client, Errors.WrongArity(def.FullName), def);
                FinishReply(client, replyStart);
                return;
            }
            var sub = CommandTable.FindSub(def, ctx.Arg(1));
            if (sub is null)
            {
                Reject(client, Errors.UnknownSubcommand(Truncate(ctx.Arg(1), 128), def.Name), def);
                FinishReply(client, replyStart);
                return;
            }
            def = sub;
        }
        if (!def.CheckArity(count))
        {
            Reject(client, Errors.WrongArity(def.FullName), def);
            FinishReply(client, replyStart);
            return;
        }
        if (!client.Authenticated && (def.Flags & CommandFlags.NoAuth) == 0)
        {
            Reject(client, Errors.NoAuth, def);
            FinishReply(client, replyStart);
            return;
        }

        // RESP2 subscribed mode: replies and messages share one stream, so only the subscription commands make sense.
        if ((client.Flags & ClientFlags.PubSub) != 0 && client.Protocol == 2 && !Messaging.PubSubRegistry.AllowedWhileSubscribed(def))
        {
            Reject(client, $"ERR Can't execute '{def.FullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", def);
            FinishReply(client, replyStart);
            return;
        }

        // Replicas and monitors may not touch the keyspace.
        if ((client.Flags & (ClientFlags.Monitor | ClientFlags.Replica)) != 0 && (def.Flags & (CommandFlags.Write | CommandFlags.ReadOnly | CommandFlags.MayReplicate)) != 0)
        {
            Reject(client, "ERR Replica can't interact with the keyspace", def);
            FinishReply(client, replyStart);
            return;
        }

        // Evict under maxmemory; deny-oom commands are refused when nothing more can be freed.
        if (!_inExec && Evictor.Perform() == Eviction.EvictionResult.Fail && (def.Flags & CommandFlags.DenyOom) != 0)
        {
            Reject(client, Eviction.Evictor.OomError, def);
            FinishReply(client, replyStart);
            return;
        }

        if ((_server.Rdb.DenyWrites || !_server.Aof.LastWriteOk && _server.Config.AppendOnly)
            && ((def.Flags & CommandFlags.Write) != 0 || def.Name == "ping") && (client.Flags & ClientFlags.Master) == 0)
        {
            // As Redis's writeCommandsDeniedByDiskError: RDB save errors first, then AOF write errors.
            Reject(client, _server.Rdb.DenyWrites ? Persistence.RdbPersistence.MisconfError : "MISCONF Errors writing to the AOF file: " + _server.Aof.LastWriteError, def);
            FinishReply(client, replyStart);
            return;
        }

        // READONLY / MASTERDOWN on replicas, NOREPLICAS under min-replicas-to-write.
        if (_server.Replicator.CheckCommand(client, def) is { } replError)
        {
            Reject(client, replError, def);
            FinishReply(client, replyStart);
            return;
        }

        // Loading a dataset (startup or a replica's sync): -LOADING for commands not flagged to run meanwhile.
        // The AOF loader's own client replays the file through here and is exempt.
        if (_server.Loading.Any && (client.Flags & ClientFlags.Internal) == 0 && _server.Loading.Check(def) is { } loadingError)
        {
            Reject(client, loadingError, def);
            FinishReply(client, replyStart);
            return;
        }

        if ((client.Flags & ClientFlags.Multi) != 0 && !_inExec)
        {
            if ((def.Flags & CommandFlags.NoMulti) != 0)
            {
                Reject(client, "ERR Command not allowed inside a transaction", def);
                FinishReply(client, replyStart);
                return;
            }
            if (Array.IndexOf(_notQueued, def) < 0)
            {
                client.LastCommand = def.FullName;
                Transactions.Enqueue(client, ctx, def);
                reply.WriteSimpleString("QUEUED"u8);
                FinishReply(client, replyStart);
                return;
            }
        }

        // Inside EXEC, CLIENT LIST keeps showing cmd=exec.
        if (!_inExec) client.LastCommand = def.FullName;
        ctx.Command = def;

        var tracking = Tracking;
        if (tracking.Active != 0) tracking.Current = client;
        var propagator = _server.Propagator;
        bool propagating = propagator.Active;
        long dirtyBefore = _server.Dirty;
        bool outerSuppress = _suppressPropagation;
        _suppressPropagation = false;
        _restoreArgs = false;
        if (propagating) propagator.BeginUnit();
        if (_server.Snapshot.Active && (def.Flags & (CommandFlags.Write | CommandFlags.MayReplicate)) != 0) _server.Snapshot.BeforeCommand(ctx, def);
        long t0 = Stopwatch.GetTimestamp();
        try
        {
            def.Handler!(ctx);
        }
        catch (Exception ex)
        {
            // A handler bug must not take the connection or the server down: report it like Redis reports internal errors.
            Log.Warning($"Internal error executing '{def.FullName}': {ex}");
            reply.Truncate(replyStart);
            reply.WriteError("ERR internal error: " + ex.GetType().Name + ": " + ex.Message);
        }
        bool ranNested = _restoreArgs;
        if (_restoreArgs)
        {
            _restoreArgs = false;
            ctx.SetArgs(buf, args, start, count);
            ctx.Command = def;
        }
        bool suppressed = _suppressPropagation;
        _suppressPropagation = outerSuppress;
        if (propagating)
        {
            // A command that ran others (EXEC, scripts) is represented by them; a rewritten one by its own ops.
            if (!ranNested && !suppressed && _server.Dirty != dirtyBefore) propagator.PropagateAsReceived(ctx);
            propagator.EndUnit();
        }
        long elapsedTicks = Stopwatch.GetTimestamp() - t0;
        long micros = elapsedTicks * 1_000_000 / Stopwatch.Frequency;

        def.Calls++;
        def.Microseconds += micros;
        _server.Stats.TotalCommandsProcessed++;
        if (reply.Length > replyStart && reply.Buffer[replyStart] == (byte)'-')
        {
            def.FailedCalls++;
            CountError(reply.Buffer.AsSpan(replyStart + 1, Math.Min(reply.Length - replyStart - 1, 64)));
        }
        if ((def.Flags & CommandFlags.SkipSlowlog) == 0) OnSlowlog?.Invoke(client, ctx, def, micros);
        FinishReply(client, replyStart);
        if (tracking.Active != 0)
        {
            if ((def.Flags & CommandFlags.ReadOnly) != 0) tracking.RememberKeys(client, def, ctx);
            if (!_inExec) tracking.AfterCommand(client, def);
        }
        // Fed after execution, as Redis does: SELECT shows its new db, MONITOR/RESET of the monitor itself are not echoed.
        if (MonitorCount > 0 && (def.Flags & (CommandFlags.SkipMonitor | CommandFlags.Admin)) == 0) OnMonitor?.Invoke(client, ctx);
    }

    /// <summary>
    /// Runs a stored command (EXEC's queue) through the normal path: lookup, arity, stats, slowlog, monitor.
    /// Only from inside a handler; the calling command's arguments are restored when that handler returns.
    /// </summary>
    public void ExecuteStored(Client client, byte[] buf, ArgRef[] args, int count)
    {
        bool outer = _inExec;
        _inExec = true;
        try { Execute(client, buf, args, 0, count); }
        finally { _inExec = outer; }
        _restoreArgs = true;
    }

    /// <summary>Runs a command given as separate arguments (copied into a reused scratch buffer).</summary>
    public void ExecuteStored(Client client, byte[][] argv)
    {
        int total = 0;
        foreach (var a in argv) total += a.Length;
        byte[] buf;
        ArgRef[] refs;
        if (_inExec)
        {
            // Nested (a stored command running stored commands): the scratch buffer may be in use.
            buf = new byte[total];
            refs = new ArgRef[argv.Length];
        }
        else
        {
            if (_storedBuf.Length < total) _storedBuf = new byte[Math.Max(total, _storedBuf.Length * 2)];
            if (_storedRefs.Length < argv.Length) _storedRefs = new ArgRef[Math.Max(argv.Length, _storedRefs.Length * 2)];
            buf = _storedBuf;
            refs = _storedRefs;
        }
        int pos = 0;
        for (int i = 0; i < argv.Length; i++)
        {
            argv[i].CopyTo(buf, pos);
            refs[i] = new ArgRef { Offset = pos, Length = argv[i].Length };
            pos += argv[i].Length;
        }
        ExecuteStored(client, buf, refs, argv.Length);
    }

    /// <summary>
    /// Called by a handler that propagates a rewritten form of itself (EXPIRE as PEXPIREAT, SPOP as SREM...)
    /// through <see cref="Replication.Propagator"/>: the command as received is then not propagated.
    /// </summary>
    public void SuppressPropagation() => _suppressPropagation = true;

    /// <summary>Applies CLIENT REPLY OFF/SKIP by dropping what the command wrote.</summary>
    private static void FinishReply(Client client, int replyStart)
    {
        switch (client.ReplyMode)
        {
            case ReplyMode.On: return;
            case ReplyMode.Off: client.Out.Truncate(replyStart); return;
            case ReplyMode.Skip: client.Out.Truncate(replyStart); client.ReplyMode = ReplyMode.On; return;
            case ReplyMode.SkipNext: client.ReplyMode = ReplyMode.Skip; return;
        }
    }

    private void Reject(Client client, string error, CommandDef? def = null)
    {
        if (def is not null && ReferenceEquals(def, _execDef))
        {
            // A rejected EXEC ends the transaction (with or without MULTI) and names the reason; monitors still see it.
            error = "EXECABORT Transaction discarded because of: " + (error.StartsWith("ERR ", StringComparison.Ordinal) ? error[4..] : error);
            Transactions.Discard(client);
            if (MonitorCount > 0) OnMonitor?.Invoke(client, client.Context);
        }
        else if ((client.Flags & ClientFlags.Multi) != 0)
        {
            Transactions.FlagExecAbort(client);
        }
        client.Out.WriteError(error);
        if (def is not null) def.RejectedCalls++;
        // A rejected command still ends a CLIENT CACHING window, as in Redis.
        if (Tracking.Active != 0 && !_inExec) Tracking.AfterCommand(client, def);
        CountError(Encoding.UTF8.GetBytes(error));
    }

    /// <summary>INFO errorstats counts error replies by their first word (ERR, WRONGTYPE, ...).</summary>
    private void CountError(ReadOnlySpan<byte> message)
    {
        var stats = _server.Stats;
        stats.TotalErrorReplies++;
        int sp = message.IndexOf((byte)' ');
        var prefix = sp > 0 ? message[..sp] : message;
        var lookup = stats.ErrorCounts.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> chars = stackalloc char[prefix.Length];
        for (int i = 0; i < prefix.Length; i++) chars[i] = (char)prefix[i];
        if (lookup.TryGetValue(chars, out long n)) lookup[chars] = n + 1;
        else if (stats.ErrorCounts.Count < 128) stats.ErrorCounts[new string(chars)] = 1;
    }

    private static string Truncate(ReadOnlySpan<byte> s, int max) => Encoding.UTF8.GetString(s.Length > max ? s[..max] : s);

    /// <summary>Redis quotes up to 128 characters of the arguments: 'a' 'b' .</summary>
    private static string ArgsPreview(CommandContext ctx)
    {
        var sb = new StringBuilder();
        for (int i = 1; i < ctx.Count && sb.Length < 128; i++)
        {
            var a = ctx.Arg(i);
            int room = 128 - sb.Length;
            sb.Append('\'').Append(Encoding.UTF8.GetString(a.Length > room ? a[..room] : a)).Append("' ");
        }
        return sb.ToString();
    }
}
