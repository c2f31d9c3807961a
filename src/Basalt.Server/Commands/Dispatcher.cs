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
    }

    /// <summary>maxmemory enforcement (runs before every command, like Redis's performEvictions).</summary>
    public Eviction.Evictor Evictor { get; }

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
        if (Evictor.Perform() == Eviction.EvictionResult.Fail && (def.Flags & CommandFlags.DenyOom) != 0)
        {
            Reject(client, Eviction.Evictor.OomError, def);
            FinishReply(client, replyStart);
            return;
        }

        client.LastCommand = def.FullName;
        ctx.Command = def;

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
        // Fed after execution, as Redis does: SELECT shows its new db, MONITOR/RESET of the monitor itself are not echoed.
        if (MonitorCount > 0 && (def.Flags & (CommandFlags.SkipMonitor | CommandFlags.Admin)) == 0) OnMonitor?.Invoke(client, ctx);
    }

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
        client.Out.WriteError(error);
        if (def is not null) def.RejectedCalls++;
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
