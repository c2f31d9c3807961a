using System.Globalization;
using Basalt.Protocol;
using Basalt.Server.Commands;

namespace Basalt.Server.Replication;

public enum ReplicaSyncState { None, WaitBgsaveStart, WaitBgsaveEnd, SendBulk, Online }

/// <summary>Master-side state of one connected replica (or of a client that sent REPLCONF before PSYNC).</summary>
public sealed class ReplicaState
{
    public required Client Client { get; init; }
    public ReplicaSyncState State;
    public int ListeningPort;
    public string? AnnouncedIp;
    public bool CapaEof, CapaPsync2;
    /// <summary>Attached with the old SYNC: no +FULLRESYNC line, no ACKs expected.</summary>
    public bool PrePsync;
    public long AckOffset;
    public long AckTimeMs = Environment.TickCount64;
    /// <summary>Stream bytes produced after its snapshot point, held until the snapshot is delivered.</summary>
    public RespWriter? Pending;
    /// <summary>After an EOF-marked transfer the stream starts at the replica's first ACK (it may still be loading).</summary>
    public bool StartStreamOnAck;
    /// <summary>The snapshot goes to it EOF-marked straight from memory (diskless) rather than from a file.</summary>
    public bool EofTransfer;
    /// <summary>When its output went over the soft limit (0: it is not).</summary>
    public long SoftLimitSinceMs;
    /// <summary>When it started waiting for a snapshot (repl-diskless-sync-delay).</summary>
    public long WaitSinceMs;

    public string Ip
    {
        get
        {
            if (!string.IsNullOrEmpty(AnnouncedIp)) return AnnouncedIp;
            var a = Client.Address;
            int colon = a.LastIndexOf(':');
            return colon > 0 ? a[..colon] : a;
        }
    }
}

/// <summary>
/// Replication (PSYNC2): the master side (backlog, replicas, partial/full resync, ACKs, WAIT, min-replicas) and,
/// through <see cref="ReplicaLink"/>, the replica side. All state is used under the execution lock.
/// </summary>
public sealed partial class ReplicationManager : IPropagationSink
{
    public const string ZeroId = "0000000000000000000000000000000000000000";

    private readonly RedisServer _server;
    private ReplicationBacklog? _backlog;
    private long _offsetWithoutBacklog;
    private readonly List<ReplicaState> _replicas = new();
    private readonly Dictionary<long, ReplicaState> _byClient = new();
    private readonly RespWriter _scratch = new(4096);
    private readonly PropagationFrames.Writer _writeScratch;
    private int _selectedDb = -1;            // db of the last SELECT sent to replicas (Redis's slaveseldb)
    private long _noReplicasSinceMs = Environment.TickCount64;
    private long _lastPingMs = Environment.TickCount64;
    private long _lastSecondMs = Environment.TickCount64;
    private readonly List<(Keyspace.BlockedClient Blocked, long Offset, long Needed)> _waiters = new();

    public ReplicationManager(RedisServer server)
    {
        _server = server;
        _writeScratch = b => _scratch.WriteRaw(b);
        ReplId = RedisServer.RandomHex(40);
        server.ClientClosed += OnClientClosed;
    }

    public string ReplId { get; private set; }
    public string ReplId2 { get; private set; } = ZeroId;
    public long SecondReplOffset { get; private set; } = -1;

    /// <summary>Bytes of replication stream produced (master) or applied (replica).</summary>
    public long MasterReplOffset => _backlog?.Offset ?? _offsetWithoutBacklog;

    public ReplicationBacklog? Backlog => _backlog;
    public IReadOnlyList<ReplicaState> Replicas => _replicas;

    public long SyncFull, SyncPartialOk, SyncPartialErr;

    /// <summary>The link to our master while we are a replica (REPLICAOF host port).</summary>
    public ReplicaLink? Link
    {
        get => _link;
        private set
        {
            _link = value;
            SyncSink();
        }
    }

    private ReplicaLink? _link;
    private bool _sinkAttached;

    /// <summary>
    /// The propagator feeds us only while we are a master with a backlog: a replica forwards its master's bytes, and
    /// without any sink (no AOF either) the dispatcher skips building the stream for every applied command.
    /// </summary>
    private void SyncSink()
    {
        bool want = _backlog is not null && _link is null;
        if (want == _sinkAttached) return;
        _sinkAttached = want;
        if (want) _server.Propagator.AddSink(this);
        else _server.Propagator.RemoveSink(this);
    }

    public bool IsReplica => Link is not null;

    // --- stream production -------------------------------------------------------------------------

    /// <summary>The propagator's ordered units: SELECT where the db changes, MULTI/EXEC around transactions.</summary>
    public void Feed(PropagationUnit unit)
    {
        if (_backlog is null || IsReplica) return; // a replica forwards its master's bytes instead
        // The common unit (one command in the current db) goes out as the propagator encoded it.
        if (unit.Count == 1 && unit.Db(0) == _selectedDb)
        {
            if ((unit.Targets(0) & PropagateTargets.Replicas) != 0) FeedStream(unit.Command(0));
            return;
        }
        _scratch.Reset();
        PropagationFrames.Emit(unit, PropagateTargets.Replicas, ref _selectedDb, _writeScratch);
        if (_scratch.Length > 0) FeedStream(_scratch.WrittenSpan);
    }

    private bool _batching;    // a client's command batch is executing: replicas are woken at its end at the earliest
    private bool _wakePending; // stream bytes were queued to replicas and not sent yet
    private bool _urgent;      // something waits on the replicas (WAIT's GETACK): send at the end of this batch
    private long _unsentBytes; // queued since the last send
    private long _lastSend;    // Stopwatch ticks of the last send to replicas
    private Thread? _flusher;
    private readonly AutoResetEvent _flushSignal = new(false);
    private bool _flushArmed;

    // Replicas are written to at the end of a batch when this much is queued or the last send is this old (so an
    // isolated write goes at once): one send per batch made a send() and a replica wake-up per 16 commands under
    // pipelined load, where Redis writes once per event-loop iteration. The window is short (50 µs): what waits in it
    // is what a crash of the master loses beyond Redis's own window (at 200 µs, bench/sentinel.sh lost a few acked writes).
    private const long CoalesceBytes = 16 * 1024;
    private static readonly long CoalesceTicks = System.Diagnostics.Stopwatch.Frequency / 20000; // 50 µs

    /// <summary>
    /// Under the lock, when a client's command batch starts: stream bytes are queued to replicas but not sent
    /// before <see cref="EndBatch"/>.
    /// </summary>
    public void BeginBatch() => _batching = true;

    /// <summary>
    /// Under the lock, when the batch ends: sends what replicas queued if enough is queued or the last send is old
    /// enough; otherwise the flush thread sends it about 1 ms later unless a later batch does first.
    /// </summary>
    public void EndBatch()
    {
        _batching = false;
        if (!_wakePending) return;
        if (_urgent || _unsentBytes >= CoalesceBytes || System.Diagnostics.Stopwatch.GetTimestamp() - _lastSend >= CoalesceTicks)
        {
            WakeReplicas();
            return;
        }
        if (_flushArmed) return;
        _flushArmed = true;
        if (_flusher is null)
        {
            _flusher = new Thread(FlushLoop) { IsBackground = true, Name = "replica-flush" };
            _flusher.Start();
        }
        _flushSignal.Set();
    }

    /// <summary>
    /// Sends what a quiet period left queued. A plain thread rather than a timer: thread-pool workers spin
    /// (sched_yield) after each callback, which cost more than the sends saved.
    /// </summary>
    private void FlushLoop()
    {
        while (true)
        {
            _flushSignal.WaitOne();
            do Thread.Sleep(1); while (!_server.ExecLock.TryEnter()); // no spinning on a busy lock
            try
            {
                _flushArmed = false;
                if (_wakePending && !_batching) WakeReplicas();
            }
            finally { _server.ExecLock.Exit(); }
        }
    }

    /// <summary>Appends stream bytes to the backlog and queues them to every replica that is past its snapshot point.</summary>
    internal void FeedStream(ReadOnlySpan<byte> data)
    {
        if (_backlog is null) return;
        _backlog.Append(data);
        bool any = false;
        for (int i = 0; i < _replicas.Count; i++)
        {
            var r = _replicas[i];
            if (r.Pending is not null) r.Pending.WriteRaw(data);
            else if (r.State != ReplicaSyncState.Online) continue; // waiting for a snapshot taken later
            else r.Client.Out.WriteRaw(data);
            any = true;
        }
        if (!any) return;
        if (!_batching)
        {
            WakeReplicas();
            return;
        }
        _wakePending = true;
        _unsentBytes += data.Length;
        if (_unsentBytes >= 64 * CoalesceBytes) WakeReplicas(); // a huge batch does not pile up its whole stream
    }

    /// <summary>
    /// Sends what online replicas have queued, on this thread (no thread-pool hop per wake: with the master on one
    /// core each hop was a context switch); closes those over their output limit.
    /// </summary>
    private void WakeReplicas()
    {
        _wakePending = _urgent = false;
        _unsentBytes = 0;
        _lastSend = System.Diagnostics.Stopwatch.GetTimestamp();
        _server.BeforeRepliesSent?.Invoke(); // as Client.WakeWriter: the AOF has the writes before a replica does
        var limits = _server.Dispatcher.Introspection.OutputLimits;
        List<ReplicaState>? over = null;
        for (int i = 0; i < _replicas.Count; i++)
        {
            var r = _replicas[i];
            if (r.Pending is null)
            {
                if (r.State != ReplicaSyncState.Online) continue;
                var c = r.Client;
                if (c.Out.Length > 0 && c.Connection is { } conn && !limits.Check(c) && c.TryBeginSend()) conn.SendNow();
            }
            if (OverOutputLimit(r)) (over ??= new()).Add(r);
        }
        if (over is not null) foreach (var r in over) CloseForOutputLimit(r);
    }

    /// <summary>
    /// client-output-buffer-limit replica: unsent stream bytes (held ones included) above the hard limit, or above
    /// the soft limit for longer than its seconds.
    /// </summary>
    private bool OverOutputLimit(ReplicaState r)
    {
        var limit = _server.Config.OutputBufferLimits.Replica;
        if (limit.Hard == 0 && limit.Soft == 0) return false;
        // While a snapshot is on its way the output holds RDB bytes, which do not count (only the held stream does).
        long used = r.Pending?.Length ?? (r.State == ReplicaSyncState.Online ? r.Client.PendingOutputBytes : 0);
        if (limit.Hard > 0 && used >= limit.Hard) return true;
        if (limit.Soft > 0 && used >= limit.Soft)
        {
            long now = Environment.TickCount64;
            if (r.SoftLimitSinceMs == 0) { r.SoftLimitSinceMs = now; return false; }
            return now - r.SoftLimitSinceMs > limit.SoftSeconds * 1000;
        }
        r.SoftLimitSinceMs = 0;
        return false;
    }

    private void CloseForOutputLimit(ReplicaState r)
    {
        if (r.Client.Has(ClientFlags.CloseAsap)) return;
        var sb = new System.Text.StringBuilder();
        Introspection.ClientInfo.Append(sb, r.Client, null);
        Log.Warning($"Client {sb} scheduled to be closed ASAP for overcoming of output buffer limits.");
        Close(r);
    }

    private static readonly byte[] PingFrame = "*1\r\n$4\r\nping\r\n"u8.ToArray();
    private static readonly byte[] GetAckFrame = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"u8.ToArray();

    private void CreateBacklog()
    {
        if (_backlog is not null) return;
        _backlog = new ReplicationBacklog(_server.Config.GetInt64("repl-backlog-size"), _offsetWithoutBacklog);
        SyncSink();
    }

    private void FreeBacklog()
    {
        if (_backlog is null) return;
        _offsetWithoutBacklog = _backlog.Offset;
        _backlog = null;
        SyncSink();
    }

    /// <summary>A replica that resynced fully from its master starts a new history: fresh backlog at the master's offset.</summary>
    internal void ResetHistory(string replId, long offset)
    {
        FreeBacklog();
        ReplId = replId;
        ClearReplId2();
        _offsetWithoutBacklog = offset;
        CreateBacklog();
    }

    private void ClearReplId2()
    {
        ReplId2 = ZeroId;
        SecondReplOffset = -1;
    }

    /// <summary>Keeps the current history reachable under the old id (promotion, master id change) and takes a new id.</summary>
    internal void ShiftReplicationId(string newId)
    {
        ReplId2 = ReplId;
        SecondReplOffset = MasterReplOffset + 1;
        ReplId = newId;
        Log.Notice($"Setting secondary replication ID to {ReplId2}, valid up to offset: {SecondReplOffset}. New replication ID is {ReplId}");
    }

    // --- replicas --------------------------------------------------------------------------------

    private ReplicaState GetOrAdd(Client c)
    {
        if (!_byClient.TryGetValue(c.Id, out var r)) _byClient[c.Id] = r = new ReplicaState { Client = c };
        return r;
    }

    private void OnClientClosed(Client c)
    {
        if (_byClient.Remove(c.Id, out var r) && _replicas.Remove(r))
        {
            Log.Notice($"Connection with replica {r.Ip}:{r.ListeningPort} lost.");
            if (_replicas.Count == 0) _noReplicasSinceMs = Environment.TickCount64;
        }
        if (Link is not null && ReferenceEquals(Link.MasterClient, c)) Link.Drop("master client closed");
    }

    /// <summary>Closes every replica connection (they reconnect and PSYNC again, e.g. after an id change).</summary>
    internal void DisconnectReplicas()
    {
        foreach (var r in _replicas.ToArray())
        {
            r.Client.Flags |= ClientFlags.CloseAsap;
            r.Client.Connection?.Shutdown();
        }
    }

    private static void Close(ReplicaState r)
    {
        r.Client.Flags |= ClientFlags.CloseAsap;
        r.Client.Connection?.Shutdown();
    }

    /// <summary>REPLCONF from a (future) replica.</summary>
    internal void ReplConf(CommandContext ctx)
    {
        if (ctx.Count % 2 == 0) { ctx.SyntaxError(); return; }
        var c = ctx.Client;
        for (int j = 1; j < ctx.Count; j += 2)
        {
            if (ctx.ArgIs(j, "listening-port"u8))
            {
                if (!ctx.GetInt64OrReply(j + 1, out long port)) return;
                GetOrAdd(c).ListeningPort = (int)port;
            }
            else if (ctx.ArgIs(j, "ip-address"u8))
            {
                var ip = ctx.ArgString(j + 1);
                if (ip.Length >= 46) { ctx.Reply.WriteError("ERR REPLCONF ip-address provided by replica instance is too long: " + ip.Length + " bytes"); return; }
                GetOrAdd(c).AnnouncedIp = ip;
            }
            else if (ctx.ArgIs(j, "capa"u8))
            {
                var r = GetOrAdd(c);
                if (ctx.ArgIs(j + 1, "eof"u8)) r.CapaEof = true;
                else if (ctx.ArgIs(j + 1, "psync2"u8)) r.CapaPsync2 = true;
            }
            else if (ctx.ArgIs(j, "ack"u8))
            {
                // Only replicas ACK; nobody gets a reply.
                if (!c.Has(ClientFlags.Replica) || !_byClient.TryGetValue(c.Id, out var r)) return;
                if (!RespNumbers.TryParseInt64(ctx.Arg(j + 1), out long off)) return;
                if (off > r.AckOffset) r.AckOffset = off;
                r.AckTimeMs = Environment.TickCount64;
                if (r.StartStreamOnAck && r.State == ReplicaSyncState.Online) StartStream(r);
                ServeWaiters();
                UpdateFailover();
                return;
            }
            else if (ctx.ArgIs(j, "getack"u8))
            {
                if (c.Has(ClientFlags.Master) && Link is not null) Link.SendAck();
                return;
            }
            else if (ctx.ArgIs(j, "rdb-only"u8) || ctx.ArgIs(j, "rdb-filter-only"u8))
            {
                // Accepted for compatibility (redis-cli --rdb); the full dataset is always sent.
            }
            else
            {
                ctx.Reply.WriteError("ERR Unrecognized REPLCONF option: " + ctx.ArgString(j));
                return;
            }
        }
        ctx.Reply.WriteOk();
    }

    /// <summary>SYNC / PSYNC replid offset.</summary>
    internal void Sync(CommandContext ctx, bool psync)
    {
        var c = ctx.Client;
        if (c.Has(ClientFlags.Replica)) return;
        if (psync && !HandleFailoverPsync(ctx)) return;
        if (Failover != FailoverState.None)
        {
            ctx.Reply.WriteError("NOMASTERLINK Can't SYNC while failing over");
            return;
        }
        if (IsReplica && !Link!.Connected)
        {
            ctx.Reply.WriteError("NOMASTERLINK Can't SYNC while not connected with my master");
            return;
        }
        if (c.Out.Length > 0)
        {
            ctx.Reply.WriteError("ERR SYNC and PSYNC are invalid with pending output");
            return;
        }
        var r = GetOrAdd(c);
        Log.Notice($"Replica {r.Ip}:{r.ListeningPort} asks for synchronization");
        if (psync)
        {
            string id = ctx.ArgString(1);
            if (!ctx.TryArgInt64(2, out long offset))
            {
                ctx.Reply.WriteError(Errors.NotInteger);
                return;
            }
            if (TryPartialResync(r, id, offset))
            {
                SyncPartialOk++;
                return;
            }
            if (id != "?") SyncPartialErr++;
        }
        else
        {
            r.PrePsync = true;
        }
        SyncFull++;
        c.Flags |= ClientFlags.Replica;
        r.State = ReplicaSyncState.WaitBgsaveStart;
        r.AckTimeMs = r.WaitSinceMs = Environment.TickCount64;
        _replicas.Add(r);
        if (_replicas.Count == 1 && _backlog is null)
        {
            // A new history begins: nobody can continue the old one.
            ReplId = RedisServer.RandomHex(40);
            ClearReplId2();
            CreateBacklog();
            Log.Notice($"Replication backlog created, my new replication IDs are '{ReplId}' and '{ReplId2}'");
        }
        if (!_syncInProgress && !ReplicationSnapshot.Busy(_server) && (!DisklessSync || _server.Config.GetInt64("repl-diskless-sync-delay") == 0)) StartFullSync();
    }

    private bool TryPartialResync(ReplicaState r, string id, long offset)
    {
        if (_backlog is null) return false;
        bool idOk = id.Equals(ReplId, StringComparison.OrdinalIgnoreCase)
            || (id.Equals(ReplId2, StringComparison.OrdinalIgnoreCase) && offset <= SecondReplOffset);
        if (!idOk)
        {
            if (id != "?") Log.Notice($"Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{id}', my replication IDs are '{ReplId}' and '{ReplId2}')");
            return false;
        }
        if (!_backlog.CanServe(offset))
        {
            Log.Notice($"Unable to partial resync with replica {r.Ip}:{r.ListeningPort} for lack of backlog (Replica request was: {offset}).");
            return false;
        }
        var c = r.Client;
        c.Flags |= ClientFlags.Replica;
        r.State = ReplicaSyncState.Online;
        r.AckTimeMs = Environment.TickCount64;
        _replicas.Add(r);
        string line = r.CapaPsync2 ? "+CONTINUE " + ReplId + "\r\n" : "+CONTINUE\r\n";
        c.Out.WriteRaw(line);
        UncountOutput(line.Length); // not traffic in Redis's counts

        long sent = MasterReplOffset + 1 - offset;
        _backlog.CopyFrom(offset, m => c.Out.WriteRaw(m.Span));
        Log.Notice($"Partial resynchronization request from {r.Ip}:{r.ListeningPort} accepted. Sending {sent} bytes of backlog starting from offset {offset}.");
        return true;
    }

    // --- checks for the dispatcher ----------------------------------------------------------------

    private int _cfgVersion = -1;
    private bool _readOnly, _serveStale;
    private long _minToWrite, _minMaxLag;

    private void RefreshConfig()
    {
        var cfg = _server.Config;
        if (_cfgVersion == cfg.Version) return;
        _cfgVersion = cfg.Version;
        _readOnly = cfg.GetBool("replica-read-only");
        _serveStale = cfg.GetBool("replica-serve-stale-data");
        _minToWrite = cfg.GetInt64("min-replicas-to-write");
        _minMaxLag = cfg.GetInt64("min-replicas-max-lag");
    }

    /// <summary>The error refusing a command for replication reasons (READONLY, MASTERDOWN, NOREPLICAS), or null.</summary>
    public string? CheckCommand(Client c, CommandDef def)
    {
        if (c.Has(ClientFlags.Master) || c.Has(ClientFlags.Internal)) return null;
        RefreshConfig();
        if (IsReplica)
        {
            if (_readOnly && (def.Flags & CommandFlags.Write) != 0) return "READONLY You can't write against a read only replica.";
            if (!_serveStale && !Link!.Connected && (def.Flags & CommandFlags.Stale) == 0)
                return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
            return null;
        }
        if (_minToWrite > 0 && _minMaxLag > 0 && (def.Flags & CommandFlags.Write) != 0 && GoodReplicas() < _minToWrite)
            return "NOREPLICAS Not enough good replicas to write.";
        return null;
    }

    /// <summary>Online replicas whose last ACK is at most min-replicas-max-lag seconds old.</summary>
    public int GoodReplicas()
    {
        RefreshConfig();
        long now = Environment.TickCount64;
        int n = 0;
        foreach (var r in _replicas)
            if (r.State == ReplicaSyncState.Online && (now - r.AckTimeMs) / 1000 <= _minMaxLag) n++;
        return n;
    }

    // --- WAIT --------------------------------------------------------------------------------------

    private int CountAcked(long offset)
    {
        int n = 0;
        foreach (var r in _replicas) if (r.State == ReplicaSyncState.Online && r.AckOffset >= offset) n++;
        return n;
    }

    internal void Wait(CommandContext ctx)
    {
        if (IsReplica)
        {
            ctx.Reply.WriteError("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
            return;
        }
        if (!ctx.GetInt64OrReply(1, out long needed)) return;
        if (!ctx.TryArgInt64(2, out long timeout)) { ctx.Reply.WriteError("ERR timeout is not an integer or out of range"); return; }
        if (timeout < 0) { ctx.Reply.WriteError("ERR timeout is negative"); return; }
        long offset = MasterReplOffset;
        int acked = CountAcked(offset);
        if (acked >= needed || !Keyspace.Blocking.CanBlock(ctx))
        {
            ctx.Reply.WriteInteger(acked);
            return;
        }
        long deadline = timeout == 0 ? 0 : Environment.TickCount64 + timeout;
        var b = _server.Blocking.Block(ctx.Client, [], deadline, static (_, _, _) => false, w => w.WriteInteger(CountAcked(offset)));
        _waiters.Add((b, offset, needed));
        // Ask for ACKs now rather than waiting for the next periodic one.
        FeedStream(GetAckFrame);
        _urgent = true;
    }

    private void ServeWaiters()
    {
        if (_waiters.Count == 0) return;
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            var (b, offset, needed) = _waiters[i];
            if (b.Done) { _waiters.RemoveAt(i); continue; }
            if (CountAcked(offset) < needed) continue;
            _waiters.RemoveAt(i);
            Keyspace.Blocking.Unblock(b.Client, error: false);
        }
    }

    // --- cron ---------------------------------------------------------------------------------------

    /// <summary>Called from the server cron (hz times a second); per-second work runs once a second.</summary>
    public void Cron()
    {
        lock (_server.ExecLock)
        {
            Link?.CronCheck();
            MaybeStartDelayedSync();
            UpdateFailover();
            long now = Environment.TickCount64;
            if (now - _lastSecondMs < 1000) return;
            _lastSecondMs = now;
            Link?.SendAck();
            if (!IsReplica && _replicas.Count > 0 && Failover == FailoverState.None && (now - _lastPingMs) / 1000 >= _server.Config.GetInt64("repl-ping-replica-period"))
            {
                _lastPingMs = now;
                FeedStream(PingFrame);
            }
            long timeoutMs = _server.Config.GetInt64("repl-timeout") * 1000;
            foreach (var r in _replicas.ToArray())
            {
                // Keep replicas waiting for a snapshot alive with newlines (not part of the stream).
                if (r.State == ReplicaSyncState.WaitBgsaveStart || (r.State == ReplicaSyncState.WaitBgsaveEnd && !r.EofTransfer))
                {
                    r.Client.Out.WriteRaw("\n"u8);
                    r.Client.WakeWriter();
                }
                if (OverOutputLimit(r)) { CloseForOutputLimit(r); continue; }
                if (r.State == ReplicaSyncState.Online && !r.PrePsync && now - r.AckTimeMs > timeoutMs)
                {
                    Log.Warning($"Disconnecting timedout replica (streaming sync): {r.Ip}:{r.ListeningPort}");
                    Close(r);
                }
            }
            if (_backlog is not null && !IsReplica && _replicas.Count == 0)
            {
                long ttl = _server.Config.GetInt64("repl-backlog-ttl");
                if (ttl > 0 && now - _noReplicasSinceMs > ttl * 1000)
                {
                    // Nobody can continue from this history any more: forget it under a new id.
                    ReplId = RedisServer.RandomHex(40);
                    ClearReplId2();
                    FreeBacklog();
                    Log.Notice($"Replication backlog freed after {ttl} seconds without connected replicas.");
                }
            }
            if (_backlog is not null && _backlog.Size != Math.Max(16 * 1024, _server.Config.GetInt64("repl-backlog-size")))
                _backlog.Resize(_server.Config.GetInt64("repl-backlog-size"));
            ServeWaiters();
        }
    }

    internal static string Fmt(long v) => v.ToString(CultureInfo.InvariantCulture);
}
