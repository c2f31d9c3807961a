namespace Basalt.Server.SentinelMode;

[Flags]
public enum SriFlags
{
    None = 0,
    Master = 1 << 0,
    Slave = 1 << 1,
    Sentinel = 1 << 2,
    SDown = 1 << 3,
    ODown = 1 << 4,
    /// <summary>On a sentinel instance: it said the master is down.</summary>
    MasterDown = 1 << 5,
    FailoverInProgress = 1 << 6,
    Promoted = 1 << 7,
    ReconfSent = 1 << 8,
    ReconfInprog = 1 << 9,
    ReconfDone = 1 << 10,
    ForceFailover = 1 << 11,
    ScriptKillSent = 1 << 12,
}

public enum FailoverState { None, WaitStart, SelectSlave, SendSlaveofNoone, WaitPromotion, ReconfSlaves, UpdateConfig }

/// <summary>
/// A monitored master, one of its replicas, or another sentinel watching it (Redis's sentinelRedisInstance).
/// Times are wall-clock milliseconds as in Redis; every field is touched only under the execution lock.
/// </summary>
public sealed class SentinelInstance
{
    public SriFlags Flags;
    public string Name;
    public string? RunId;
    public string Ip;
    /// <summary>The host name a master was configured with (resolve-hostnames yes); <see cref="Ip"/> is its address.</summary>
    public string? Hostname;
    public int Port;
    public SentinelInstance? Master;

    public SentinelLink? Cmd;
    public SentinelLink? PubSub;
    public long LastReconnectTime;
    /// <summary>Time of the oldest PING still unanswered (0 once answered); set when a link is created.</summary>
    public long ActPingTime;
    public long LastPingTime, LastPongTime, LastAvailTime, LastPubTime, LastHelloTime;
    public long LastMasterDownReplyTime;
    public long SDownSinceTime, ODownSinceTime;
    public long DownAfterPeriod = Sentinel.DefaultDownAfter;
    public long MasterRebootDownAfterPeriod;
    public long MasterRebootSinceTime;
    public long InfoRefresh;
    public string? InfoText;
    public SriFlags RoleReported;
    public long RoleReportedTime;
    public long SlaveConfChangeTime;

    // Master only.
    public readonly Dictionary<string, SentinelInstance> Sentinels = new();
    public readonly Dictionary<string, SentinelInstance> Slaves = new();
    public int Quorum;
    public int ParallelSyncs = 1;
    public string? AuthPass, AuthUser;
    public string? NotificationScript, ClientReconfigScript;
    public readonly Dictionary<string, string> RenamedCommands = new(StringComparer.OrdinalIgnoreCase);

    // Replica only.
    public long MasterLinkDownSinceTime;
    public long MasterLinkDownTime;
    public int SlavePriority = 100;
    public int ReplicaAnnounced = 1;
    public long SlaveReconfSentTime;
    public string? SlaveMasterHost;
    public int SlaveMasterPort;
    public bool SlaveMasterLinkUp;
    public long SlaveReplOffset;

    // Election and failover.
    public string? Leader;
    public long LeaderEpoch;
    public long ConfigEpoch;
    public long FailoverEpoch;
    public FailoverState FailoverState;
    public long FailoverStateChangeTime;
    public long FailoverStartTime;
    public long FailoverTimeout = Sentinel.DefaultFailoverTimeout;
    public long FailoverDelayLogged;
    public SentinelInstance? PromotedSlave;

    public SentinelInstance(SriFlags kind, string name, string ip, int port, SentinelInstance? master)
    {
        Flags = kind;
        Name = name;
        Ip = ip;
        Port = port;
        Master = master;
        long now = Sentinel.Now;
        ActPingTime = now;
        LastPongTime = now;
        LastAvailTime = now;
        RoleReported = kind & (SriFlags.Master | SriFlags.Slave);
        RoleReportedTime = now;
        SlaveConfChangeTime = now;
        if (master is not null)
        {
            DownAfterPeriod = master.DownAfterPeriod;
            Quorum = master.Quorum;
        }
    }

    public bool IsMaster => (Flags & SriFlags.Master) != 0;
    public bool IsSlave => (Flags & SriFlags.Slave) != 0;
    public bool IsSentinel => (Flags & SriFlags.Sentinel) != 0;
    public bool CmdConnected => Cmd is { Connected: true };
    public bool Disconnected => !CmdConnected || (!IsSentinel && PubSub is not { Connected: true });
    public SentinelInstance OwnerMaster => Master ?? this;
    public string Addr => Ip + ":" + Port;

    /// <summary>The address shown to clients and other sentinels: the host name when announce-hostnames is yes.</summary>
    public string AnnouncedIp => Hostname is not null && Sentinel.Instance is { AnnounceHostnames: true } ? Hostname : Ip;

    /// <summary>The address written to the config file: the host name as configured, as Redis does.</summary>
    public string ConfigIp => Hostname ?? Ip;

    /// <summary>The address clients should use: the promoted replica once the failover reconfigures replicas.</summary>
    public SentinelInstance CurrentAddress =>
        FailoverState >= FailoverState.ReconfSlaves && PromotedSlave is not null ? PromotedSlave : this;

    public string TypeName => IsMaster ? "master" : IsSlave ? "slave" : "sentinel";

    /// <summary>"%@" in Redis's event formats.</summary>
    public string Describe()
    {
        if (IsMaster) return $"master {Name} {AnnouncedIp} {Port}";
        var m = Master!;
        return $"{TypeName} {Name} {Ip} {Port} @ {m.Name} {m.AnnouncedIp} {m.Port}";
    }

    public void CloseLinks()
    {
        Cmd?.Close();
        PubSub?.Close();
        Cmd = null;
        PubSub = null;
    }
}
