using Basalt.Protocol;
using Basalt.Server.Commands;
using Basalt.Server.Introspection;

namespace Basalt.Server.Replication;

/// <summary>INFO replication, ROLE, REPLICAOF.</summary>
public sealed partial class ReplicationManager
{
    /// <summary>Bytes read from our master (snapshot included) and written to our replicas (INFO total_net_repl_*).</summary>
    public long NetReplInputBytes, NetReplOutputBytes;

    /// <summary>A PSYNC reply line: Redis writes it past the output counters, so it is taken off them.</summary>
    private void UncountOutput(int bytes)
    {
        Interlocked.Add(ref NetReplOutputBytes, -bytes);
        Interlocked.Add(ref _server.Dispatcher.Introspection.NetOutputBytes, -bytes);
    }

    /// <summary>Under the execution lock or not: traffic from our master (both INFO counters, as Redis).</summary>
    internal void CountReplInput(long bytes)
    {
        Interlocked.Add(ref NetReplInputBytes, bytes);
        Interlocked.Add(ref _server.Dispatcher.Introspection.NetInputBytes, bytes);
    }

    /// <summary>A snapshot from our master being loaded (INFO loading / async_loading, -LOADING).</summary>
    public DatasetLoading Loading => _server.Loading;

    /// <summary>INFO memory mem_replication_backlog: the backlog's ring, allocated whole.</summary>
    public long BacklogMemory => _backlog?.Size ?? 0;

    /// <summary>INFO memory mem_total_replication_buffers: the backlog plus what replicas have not received yet.</summary>
    public long ReplicationBuffersMemory()
    {
        long n = BacklogMemory;
        foreach (var r in _replicas) n += (r.Pending?.Length ?? 0) + r.Client.PendingOutputBytes;
        return n;
    }

    private static string StateName(ReplicaSyncState s) => s switch
    {
        ReplicaSyncState.WaitBgsaveStart or ReplicaSyncState.WaitBgsaveEnd => "wait_bgsave",
        ReplicaSyncState.SendBulk => "send_bulk",
        ReplicaSyncState.Online => "online",
        _ => "none",
    };

    /// <summary>The fields of INFO's Replication section, in Redis 7.0's order.</summary>
    public void WriteInfo(InfoBuilder b)
    {
        RefreshConfig();
        long now = Environment.TickCount64;
        var cfg = _server.Config;
        if (Link is { } link)
        {
            b.Field("role", "slave");
            b.Field("master_host", link.Host);
            b.Field("master_port", link.Port);
            b.Field("master_link_status", link.Connected ? "up" : "down");
            b.Field("master_last_io_seconds_ago", link.MasterClient is null ? -1 : (now - link.LastIoMs) / 1000);
            bool syncing = link.State == LinkState.Transfer;
            b.Field("master_sync_in_progress", syncing ? 1 : 0);
            long applied = link.Connected || link.CanPsync ? MasterReplOffset : 1;
            b.Field("slave_read_repl_offset", link.Connected ? link.ReadOffset : applied);
            b.Field("slave_repl_offset", applied);
            if (syncing)
            {
                long total = link.TransferSize, read = link.TransferRead;
                b.Field("master_sync_total_bytes", total);
                b.Field("master_sync_read_bytes", read);
                b.Field("master_sync_left_bytes", total - read);
                b.Field2("master_sync_perc", total > 0 ? read * 100.0 / total : 0);
                b.Field("master_sync_last_io_seconds_ago", (now - link.TransferLastIoMs) / 1000);
            }
            if (!link.Connected) b.Field("master_link_down_since_seconds", link.DownSinceMs == 0 ? -1 : (now - link.DownSinceMs) / 1000);
            b.Field("slave_priority", cfg.GetInt64("replica-priority"));
            b.Field("slave_read_only", _readOnly ? 1 : 0);
            b.Field("replica_announced", cfg.GetBool("replica-announced") ? 1 : 0);
        }
        else
        {
            b.Field("role", "master");
        }
        b.Field("connected_slaves", _replicas.Count);
        if (_minToWrite > 0 && _minMaxLag > 0) b.Field("min_slaves_good_slaves", GoodReplicas());
        int i = 0;
        foreach (var r in _replicas)
        {
            b.Field("slave" + Fmt(i++), $"ip={r.Ip},port={Fmt(r.ListeningPort)},state={StateName(r.State)},offset={Fmt(r.AckOffset)},lag={Fmt((now - r.AckTimeMs) / 1000)}");
        }
        b.Field("master_failover_state", FailoverStateName);
        b.Field("master_replid", ReplId);
        b.Field("master_replid2", ReplId2);
        b.Field("master_repl_offset", MasterReplOffset);
        b.Field("second_repl_offset", SecondReplOffset);
        b.Field("repl_backlog_active", _backlog is null ? 0 : 1);
        b.Field("repl_backlog_size", cfg.GetInt64("repl-backlog-size"));
        b.Field("repl_backlog_first_byte_offset", _backlog?.FirstByteOffset ?? 0);
        b.Field("repl_backlog_histlen", _backlog?.HistLen ?? 0);
    }

    internal void Role(CommandContext ctx)
    {
        var w = ctx.Reply;
        if (Link is { } link)
        {
            w.WriteArrayHeader(5);
            w.WriteBulk("slave"u8);
            w.WriteBulk(link.Host);
            w.WriteInteger(link.Port);
            w.WriteBulk(link.State switch
            {
                LinkState.Connect => "connect",
                LinkState.Connecting => "connecting",
                LinkState.Transfer => "sync",
                LinkState.Connected => "connected",
                _ => "handshake",
            });
            w.WriteInteger(link.MasterClient is null ? -1 : MasterReplOffset);
            return;
        }
        var online = _replicas.Where(r => r.State == ReplicaSyncState.Online).ToList();
        w.WriteArrayHeader(3);
        w.WriteBulk("master"u8);
        w.WriteInteger(MasterReplOffset);
        w.WriteArrayHeader(online.Count);
        foreach (var r in online)
        {
            w.WriteArrayHeader(3);
            w.WriteBulk(r.Ip);
            w.WriteBulk(Fmt(r.ListeningPort));
            w.WriteBulk(Fmt(r.AckOffset));
        }
    }

    internal void ReplicaOf(CommandContext ctx)
    {
        if (ctx.Client.Has(ClientFlags.Replica))
        {
            ctx.Reply.WriteError("ERR Command is not valid when client is a replica.");
            return;
        }
        if (ctx.ArgIs(1, "no"u8) && ctx.ArgIs(2, "one"u8))
        {
            if (IsReplica)
            {
                UnsetMaster();
                Log.Notice($"MASTER MODE enabled (user request from 'id={ctx.Client.Id} addr={ctx.Client.Address}')");
            }
            ctx.Reply.WriteOk();
            return;
        }
        if (!ctx.TryArgInt64(2, out long port) || port < 0 || port > 65535)
        {
            ctx.Reply.WriteError("ERR Invalid master port");
            return;
        }
        string host = ctx.ArgString(1);
        if (Link is { } cur && cur.Host.Equals(host, StringComparison.OrdinalIgnoreCase) && cur.Port == port)
        {
            Log.Notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            ctx.Reply.WriteSimpleString("OK Already connected to specified master");
            return;
        }
        SetMaster(host, (int)port, canPsync: true);
        Log.Notice($"REPLICAOF {host}:{port} enabled (user request from 'id={ctx.Client.Id} addr={ctx.Client.Address}')");
        ctx.Reply.WriteOk();
    }

    /// <summary>Under the lock: becomes (or switches to being) a replica of host:port.</summary>
    public void SetMaster(string host, int port, bool canPsync)
    {
        var old = Link;
        if (old is not null)
        {
            canPsync = old.CanPsync;
            old.Stop();
        }
        else if (canPsync)
        {
            Log.Notice("Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
        }
        Keyspace.Database.ExpireOnRead = false; // the master's DELs expire keys here
        Log.Role = 'S';
        Link = new ReplicaLink(this, _server, host, port, canPsync);
        _server.Config.SetRaw("replicaof", host + " " + Fmt(port)); // CONFIG GET / REWRITE show it, as in Redis
        Link.Start();
    }

    /// <summary>Under the lock: REPLICAOF NO ONE. Our history stays reachable as replid2, so replicas continue partially.</summary>
    public void UnsetMaster()
    {
        var link = Link;
        if (link is null) return;
        link.Stop();
        Link = null;
        _server.Config.SetRaw("replicaof", "");
        ShiftReplicationId(RedisServer.RandomHex(40));
        DisconnectReplicas();
        _selectedDb = -1;
        Keyspace.Database.ExpireOnRead = true;
        Log.Role = 'M';
        if (_replicas.Count == 0) _noReplicasSinceMs = Environment.TickCount64;
    }

    /// <summary>
    /// At startup, after the data was loaded: restores the saved history, runs <paramref name="letClientsIn"/> under
    /// the same lock (before a replica link can begin a sync of its own), applies the replicaof directive, hooks the cron.
    /// </summary>
    public void Start(ServerCron cron, Action letClientsIn)
    {
        cron.Tick += _ => Cron();
        var spec = _server.Config.Get("replicaof");
        var parts = spec.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        bool replica = parts.Length == 2 && int.TryParse(parts[1], out _);
        lock (_server.ExecLock)
        {
            bool resumed = RestoreFromRdb(replica);
            letClientsIn();
            if (!replica) return;
            SetMaster(parts[0], int.Parse(parts[1]), canPsync: resumed);
            if (resumed) Link!.LastMasterDb = _restoredDb;
        }
    }

    internal void EnsureBacklog() => CreateBacklog();
}
