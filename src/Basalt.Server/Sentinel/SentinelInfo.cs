using Basalt.Protocol;

namespace Basalt.Server.SentinelMode;

/// <summary>INFO replies from masters and replicas: roles, replicas, link status, priority, offsets, promotion.</summary>
public sealed partial class Sentinel
{
    private void InfoReply(SentinelInstance ri, RespValue r)
    {
        if (r.IsError || r.Bytes is null) return;
        RefreshInstanceInfo(ri, r.Text!);
    }

    private void RefreshInstanceInfo(SentinelInstance ri, string info)
    {
        long now = Now;
        ri.InfoText = info;
        ri.MasterLinkDownSinceTime = 0;
        SriFlags role = SriFlags.None;
        bool slavesChanged = false;
        foreach (var raw in info.Split('\n'))
        {
            string l = raw.TrimEnd('\r');
            if (l.StartsWith("run_id:") && l.Length >= 47)
            {
                string id = l.Substring(7, 40);
                if (ri.RunId is null || ri.RunId != id)
                {
                    if (ri.RunId is not null)
                    {
                        Event(LogLevel.Notice, "+reboot", ri, "%@");
                        if (ri.IsMaster && ri.MasterRebootDownAfterPeriod != 0) ri.MasterRebootSinceTime = now;
                    }
                    ri.RunId = id;
                }
            }
            else if (ri.IsMaster && l.StartsWith("slave") && l.Length > 5 && char.IsDigit(l[5]) && l.Contains(':'))
            {
                // slaveN:ip=...,port=...,state=...,offset=...,lag=...
                string body = l[(l.IndexOf(':') + 1)..];
                string? ip = null;
                int port = 0;
                foreach (var kv in body.Split(','))
                {
                    if (kv.StartsWith("ip=")) ip = kv[3..];
                    else if (kv.StartsWith("port=")) int.TryParse(kv[5..], out port);
                }
                if (ip is null || port == 0) continue;
                string key = ip + ":" + port;
                if (!ri.Slaves.ContainsKey(key))
                {
                    var s = new SentinelInstance(SriFlags.Slave, key, ip, port, ri);
                    ri.Slaves[key] = s;
                    Event(LogLevel.Notice, "+slave", s, "%@");
                    slavesChanged = true;
                }
            }
            else if (l.StartsWith("master_link_down_since_seconds:") && long.TryParse(l[31..], out long secs))
            {
                ri.MasterLinkDownSinceTime = secs == -1 ? 0 : now - secs * 1000;
                ri.MasterLinkDownTime = secs == -1 ? 0 : secs * 1000;
            }
            else if (l == "role:master") role = SriFlags.Master;
            else if (l == "role:slave") role = SriFlags.Slave;
            else if (role == SriFlags.Slave)
            {
                if (l.StartsWith("master_host:")) { string h = l[12..]; if (ri.SlaveMasterHost != h) { ri.SlaveMasterHost = h; ri.SlaveConfChangeTime = now; } }
                else if (l.StartsWith("master_port:") && int.TryParse(l[12..], out int mp)) { if (ri.SlaveMasterPort != mp) { ri.SlaveMasterPort = mp; ri.SlaveConfChangeTime = now; } }
                else if (l.StartsWith("master_link_status:")) ri.SlaveMasterLinkUp = l[19..] == "up";
                else if (l.StartsWith("slave_priority:") && int.TryParse(l[15..], out int pr)) ri.SlavePriority = pr;
                else if (l.StartsWith("slave_repl_offset:") && long.TryParse(l[18..], out long off)) ri.SlaveReplOffset = off;
                else if (l.StartsWith("replica_announced:") && int.TryParse(l[18..], out int ann)) ri.ReplicaAnnounced = ann;
            }
        }
        if (ri.MasterLinkDownSinceTime == 0) ri.MasterLinkDownTime = 0;
        ri.InfoRefresh = now;
        if (slavesChanged) FlushConfig();

        if (role != SriFlags.None && role != ri.RoleReported)
        {
            ri.RoleReportedTime = now;
            ri.RoleReported = role;
            if (role == SriFlags.Slave) ri.SlaveConfChangeTime = now;
            bool matches = (ri.Flags & role) != 0;
            Event(LogLevel.Verbose, matches ? "+role-change" : "-role-change", ri,
                "%@ new reported role is " + (role == SriFlags.Master ? "master" : "slave"));
        }
        if (role == SriFlags.None || Tilt) return;

        var master = ri.Master;
        // A replica turned master: ours (promotion in progress) or someone else's doing (convert it back).
        if (ri.IsSlave && role == SriFlags.Master && master is not null)
        {
            if ((ri.Flags & SriFlags.Promoted) != 0 && (master.Flags & SriFlags.FailoverInProgress) != 0
                && master.FailoverState == FailoverState.WaitPromotion)
            {
                master.ConfigEpoch = master.FailoverEpoch;
                master.FailoverState = FailoverState.ReconfSlaves;
                master.FailoverStateChangeTime = now;
                FlushConfig();
                Event(LogLevel.Warning, "+promoted-slave", ri, "%@");
                if ((SimFailure & SimFailureCrashAfterPromotion) != 0) CrashSimulated();
                Event(LogLevel.Warning, "+failover-state-reconf-slaves", master, "%@");
                CallClientReconfScript(master, "leader", "start", master.Ip, master.Port, ri.Ip, ri.Port);
                ForceHelloUpdate(master);
            }
            else
            {
                long wait = PublishPeriod * 4;
                if ((ri.Flags & SriFlags.Promoted) == 0 && MasterLooksSane(master) && NoDownFor(ri, wait)
                    && now - ri.RoleReportedTime > wait)
                {
                    if (SendSlaveOf(ri, master.Ip, master.Port)) Event(LogLevel.Notice, "+convert-to-slave", ri, "%@");
                }
            }
        }

        // A replica following the wrong master is pointed back at ours.
        if (ri.IsSlave && role == SriFlags.Slave && master is not null
            && (ri.SlaveMasterPort != master.Port || !SameHost(ri.SlaveMasterHost, master.Ip)))
        {
            long wait = master.FailoverTimeout;
            if (MasterLooksSane(master) && NoDownFor(ri, wait) && now - ri.SlaveConfChangeTime > wait)
            {
                if (SendSlaveOf(ri, master.Ip, master.Port)) Event(LogLevel.Notice, "+fix-slave-config", ri, "%@");
            }
        }

        // Progress of replicas we reconfigured during a failover.
        if (ri.IsSlave && role == SriFlags.Slave && (ri.Flags & (SriFlags.ReconfSent | SriFlags.ReconfInprog)) != 0
            && master?.PromotedSlave is { } promoted)
        {
            if ((ri.Flags & SriFlags.ReconfSent) != 0 && ri.SlaveMasterPort == promoted.Port && SameHost(ri.SlaveMasterHost, promoted.Ip))
            {
                ri.Flags &= ~SriFlags.ReconfSent;
                ri.Flags |= SriFlags.ReconfInprog;
                Event(LogLevel.Notice, "+slave-reconf-inprog", ri, "%@");
            }
            if ((ri.Flags & SriFlags.ReconfInprog) != 0 && ri.SlaveMasterLinkUp)
            {
                ri.Flags &= ~SriFlags.ReconfInprog;
                ri.Flags |= SriFlags.ReconfDone;
                Event(LogLevel.Notice, "+slave-reconf-done", ri, "%@");
            }
        }
    }

    private static bool SameHost(string? a, string b) =>
        a is not null && (a == b || (IsLocal(a) && IsLocal(b)));

    private static bool IsLocal(string h) => h is "127.0.0.1" or "localhost" or "::1";

    private static bool MasterLooksSane(SentinelInstance m) =>
        m.IsMaster && m.RoleReported == SriFlags.Master && (m.Flags & (SriFlags.SDown | SriFlags.ODown)) == 0
        && Now - m.InfoRefresh < InfoPeriod * 2;

    private static bool NoDownFor(SentinelInstance ri, long ms)
    {
        long mostRecent = Math.Max(ri.SDownSinceTime, ri.ODownSinceTime);
        return mostRecent == 0 || Now - mostRecent > ms;
    }

    private void CrashSimulated()
    {
        Log.Warning("Sentinel CRASH because of SENTINEL simulate-failure");
        Environment.Exit(99);
    }
}
