using Basalt.Server.Commands;

namespace Basalt.Server.Replication;

public enum FailoverState { None, WaitForSync, InProgress }

/// <summary>
/// FAILOVER (coordinated, Redis 6.2+): writes pause, a replica catches up to our offset, then we become its replica
/// and our handshake sends PSYNC replid offset FAILOVER, which makes it promote itself and answer +CONTINUE.
/// </summary>
public sealed partial class ReplicationManager
{
    public FailoverState Failover { get; private set; }
    private string? _foHost;
    private int _foPort;
    private long _foEndMs;   // 0: no timeout
    private bool _foForce;
    private long _savedPauseUntil;
    private bool _savedPauseWritesOnly;

    public bool FailoverInProgress => Failover == FailoverState.InProgress;

    private string FailoverStateName => Failover switch
    {
        FailoverState.WaitForSync => "waiting-for-sync",
        FailoverState.InProgress => "failover-in-progress",
        _ => "no-failover",
    };

    /// <summary>FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms].</summary>
    internal void FailoverCommand(CommandContext ctx)
    {
        if (ctx.Count == 2 && ctx.ArgIs(1, "abort"u8))
        {
            if (Failover == FailoverState.None) { ctx.Reply.WriteError("ERR No failover in progress."); return; }
            AbortFailover("Failover manually aborted");
            ctx.Reply.WriteOk();
            return;
        }
        long timeout = 0, port = 0;
        bool force = false;
        string? host = null;
        for (int j = 1; j < ctx.Count; j++)
        {
            if (ctx.ArgIs(j, "timeout"u8) && j + 1 < ctx.Count && timeout == 0)
            {
                if (!ctx.GetInt64OrReply(j + 1, out timeout)) return;
                if (timeout <= 0) { ctx.Reply.WriteError("ERR FAILOVER timeout must be greater than 0"); return; }
                j++;
            }
            else if (ctx.ArgIs(j, "to"u8) && j + 2 < ctx.Count && host is null)
            {
                if (!ctx.GetInt64OrReply(j + 2, out port)) return;
                host = ctx.ArgString(j + 1);
                j += 2;
            }
            else if (ctx.ArgIs(j, "force"u8) && !force) force = true;
            else { ctx.SyntaxError(); return; }
        }
        if (Failover != FailoverState.None) { ctx.Reply.WriteError("ERR FAILOVER already in progress."); return; }
        if (IsReplica) { ctx.Reply.WriteError("ERR FAILOVER is not valid when server is a replica."); return; }
        if (_replicas.Count == 0) { ctx.Reply.WriteError("ERR FAILOVER requires connected replicas."); return; }
        if (force && (timeout == 0 || host is null))
        {
            ctx.Reply.WriteError("ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
            return;
        }
        if (host is not null)
        {
            var target = FindReplica(host, port);
            if (target is null) { ctx.Reply.WriteError("ERR FAILOVER target HOST and PORT is not a replica."); return; }
            if (target.State != ReplicaSyncState.Online) { ctx.Reply.WriteError("ERR FAILOVER target replica is not online."); return; }
            Log.Notice($"FAILOVER requested to {host}:{port}.");
        }
        else
        {
            Log.Notice("FAILOVER requested to any replica.");
        }
        _foHost = host;
        _foPort = (int)port;
        _foEndMs = timeout > 0 ? Environment.TickCount64 + timeout : 0;
        _foForce = force;
        Failover = FailoverState.WaitForSync;
        PauseWritesForFailover();
        ctx.Reply.WriteOk();
    }

    private ReplicaState? FindReplica(string host, long port)
    {
        foreach (var r in _replicas)
            if (r.ListeningPort == port && r.Ip.Equals(host, StringComparison.OrdinalIgnoreCase)) return r;
        return null;
    }

    /// <summary>Writes wait (as with CLIENT PAUSE WRITE) until the failover ends; a CLIENT PAUSE already running is restored then.</summary>
    private void PauseWritesForFailover()
    {
        _savedPauseUntil = _server.PausedUntilMs;
        _savedPauseWritesOnly = _server.PauseWritesOnly;
        bool allPaused = _server.PausedUntilMs != 0 && Environment.TickCount64 < _server.PausedUntilMs && !_server.PauseWritesOnly;
        _server.PauseWritesOnly = !allPaused;
        _server.PausedUntilMs = long.MaxValue;
    }

    private void UnpauseAfterFailover()
    {
        if (_savedPauseUntil != 0 && Environment.TickCount64 < _savedPauseUntil)
        {
            _server.PausedUntilMs = _savedPauseUntil;
            _server.PauseWritesOnly = _savedPauseWritesOnly;
        }
        else
        {
            _server.PausedUntilMs = 0;
            _server.PauseWritesOnly = false;
        }
        _savedPauseUntil = 0;
    }

    /// <summary>Under the lock (cron, ACKs): the timeout, or a caught-up replica that starts the switch.</summary>
    private void UpdateFailover()
    {
        if (Failover != FailoverState.WaitForSync) return;
        if (_foEndMs != 0 && Environment.TickCount64 >= _foEndMs)
        {
            if (_foForce)
            {
                Log.Notice($"FAILOVER to {_foHost}:{_foPort} time out exceeded, failing over.");
                StartFailoverSwitch();
            }
            else
            {
                AbortFailover("Replica never caught up before timeout");
            }
            return;
        }
        long offset = MasterReplOffset;
        ReplicaState? synced = null;
        if (_foHost is not null)
        {
            var t = FindReplica(_foHost, _foPort);
            if (t is not null && t.AckOffset == offset) synced = t;
        }
        else
        {
            foreach (var r in _replicas)
                if (r.AckOffset == offset) { synced = r; break; }
            if (synced is not null) { _foHost = synced.Ip; _foPort = synced.ListeningPort; }
        }
        if (synced is null) return;
        Log.Notice($"Failover target {_foHost}:{_foPort} is synced, failing over.");
        StartFailoverSwitch();
    }

    private void StartFailoverSwitch()
    {
        Failover = FailoverState.InProgress;
        SetMaster(_foHost!, _foPort, canPsync: true);
    }

    /// <summary>Under the lock: the target answered our PSYNC ... FAILOVER (true) or refused it.</summary>
    internal void FailoverPsyncAnswered(bool accepted)
    {
        if (Failover != FailoverState.InProgress) return;
        if (accepted) ClearFailover();
        else AbortFailover("Failover target rejected psync request");
    }

    /// <summary>Under the lock: back to a plain master (after the switch started, we stop replicating the target).</summary>
    internal void AbortFailover(string reason)
    {
        if (Failover == FailoverState.None) return;
        Log.Notice(_foHost is not null ? $"FAILOVER to {_foHost}:{_foPort} aborted: {reason}" : $"FAILOVER to any replica aborted: {reason}");
        if (Failover == FailoverState.InProgress) UnsetMaster();
        ClearFailover();
    }

    private void ClearFailover()
    {
        Failover = FailoverState.None;
        _foHost = null;
        _foPort = 0;
        _foEndMs = 0;
        _foForce = false;
        UnpauseAfterFailover();
    }

    /// <summary>
    /// PSYNC replid offset FAILOVER from our master: when it continues our history we become a master now, and the
    /// ordinary PSYNC that follows continues it under our replid2. False when the request was answered with an error.
    /// </summary>
    private bool HandleFailoverPsync(CommandContext ctx)
    {
        if (ctx.Count <= 3 || !ctx.ArgIs(3, "failover"u8)) return true;
        if (!ctx.ArgString(1).Equals(ReplId, StringComparison.OrdinalIgnoreCase))
        {
            ctx.Reply.WriteError("ERR PSYNC FAILOVER replid must match my replid.");
            return false;
        }
        if (IsReplica)
        {
            UnsetMaster();
            Log.Notice($"MASTER MODE enabled (failover request from 'id={ctx.Client.Id} addr={ctx.Client.Address}')");
        }
        return true;
    }
}
