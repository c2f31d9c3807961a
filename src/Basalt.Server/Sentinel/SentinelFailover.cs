namespace Basalt.Server.SentinelMode;

/// <summary>Leader election (one vote per epoch) and the failover state machine, as Redis Sentinel runs them.</summary>
public sealed partial class Sentinel
{
    /// <summary>Votes for <paramref name="reqRunId"/> in <paramref name="reqEpoch"/> unless we already voted in it.</summary>
    public string? VoteLeader(SentinelInstance master, long reqEpoch, string reqRunId, out long leaderEpoch)
    {
        if (reqEpoch > CurrentEpoch)
        {
            CurrentEpoch = reqEpoch;
            FlushConfig();
            Event(LogLevel.Warning, "+new-epoch", master, CurrentEpoch.ToString());
        }
        if (master.LeaderEpoch < reqEpoch && CurrentEpoch <= reqEpoch)
        {
            master.Leader = reqRunId;
            master.LeaderEpoch = CurrentEpoch;
            FlushConfig();
            Event(LogLevel.Warning, "+vote-for-leader", master, $"{master.Leader} {master.LeaderEpoch}");
            // Voting for someone else: do not start our own failover too soon.
            if (reqRunId != MyId) master.FailoverStartTime = Now + _rng.Next((int)MaxDesync);
        }
        leaderEpoch = master.LeaderEpoch;
        return master.Leader;
    }

    private string? GetLeader(SentinelInstance master, long epoch)
    {
        var counters = new Dictionary<string, int>();
        int voters = master.Sentinels.Count + 1;
        foreach (var ri in master.Sentinels.Values)
            if (ri.Leader is not null && ri.LeaderEpoch == CurrentEpoch)
                counters[ri.Leader] = counters.GetValueOrDefault(ri.Leader) + 1;
        string? winner = null;
        int maxVotes = 0;
        foreach (var (id, votes) in counters)
            if (votes > maxVotes) { maxVotes = votes; winner = id; }
        // Our own vote goes to the current winner, or to ourselves when nobody has votes yet.
        string? myVote = VoteLeader(master, epoch, winner ?? MyId, out long leaderEpoch);
        if (myVote is not null && leaderEpoch == epoch)
        {
            int votes = counters.GetValueOrDefault(myVote) + 1;
            counters[myVote] = votes;
            if (votes > maxVotes) { maxVotes = votes; winner = myVote; }
        }
        int votersQuorum = voters / 2 + 1;
        if (winner is not null && (maxVotes < votersQuorum || maxVotes < master.Quorum)) winner = null;
        return winner;
    }

    private bool StartFailoverIfNeeded(SentinelInstance master)
    {
        if ((master.Flags & SriFlags.ODown) == 0) return false;
        if ((master.Flags & SriFlags.FailoverInProgress) != 0) return false;
        long now = Now;
        if (now - master.FailoverStartTime < master.FailoverTimeout * 2)
        {
            if (master.FailoverDelayLogged != master.FailoverStartTime)
            {
                var when = DateTimeOffset.FromUnixTimeMilliseconds(master.FailoverStartTime + master.FailoverTimeout * 2).ToLocalTime();
                master.FailoverDelayLogged = master.FailoverStartTime;
                Log.Warning($"Next failover delay: I will not start a failover before {when:ddd MMM d HH:mm:ss yyyy}");
            }
            return false;
        }
        StartFailover(master);
        return true;
    }

    public void StartFailover(SentinelInstance master)
    {
        master.FailoverState = FailoverState.WaitStart;
        master.Flags |= SriFlags.FailoverInProgress;
        master.FailoverEpoch = ++CurrentEpoch;
        Event(LogLevel.Warning, "+new-epoch", master, CurrentEpoch.ToString());
        Event(LogLevel.Warning, "+try-failover", master, "%@");
        master.FailoverStartTime = Now + _rng.Next((int)MaxDesync);
        master.FailoverStateChangeTime = Now;
    }

    private void FailoverStateMachine(SentinelInstance m)
    {
        if ((m.Flags & SriFlags.FailoverInProgress) == 0) return;
        switch (m.FailoverState)
        {
            case FailoverState.WaitStart: FailoverWaitStart(m); break;
            case FailoverState.SelectSlave: FailoverSelectSlave(m); break;
            case FailoverState.SendSlaveofNoone: FailoverSendSlaveOfNoOne(m); break;
            case FailoverState.WaitPromotion: FailoverWaitPromotion(m); break;
            case FailoverState.ReconfSlaves: FailoverReconfNextSlave(m); break;
        }
    }

    private void FailoverWaitStart(SentinelInstance m)
    {
        string? leader = GetLeader(m, m.FailoverEpoch);
        bool isLeader = leader == MyId;
        if (!isLeader && (m.Flags & SriFlags.ForceFailover) == 0)
        {
            long electionTimeout = Math.Min(ElectionTimeout, m.FailoverTimeout);
            if (Now - m.FailoverStartTime > electionTimeout)
            {
                Event(LogLevel.Warning, "-failover-abort-not-elected", m, "%@");
                AbortFailover(m);
            }
            return;
        }
        Event(LogLevel.Warning, "+elected-leader", m, "%@");
        if ((SimFailure & SimFailureCrashAfterElection) != 0) CrashSimulated();
        m.FailoverState = FailoverState.SelectSlave;
        m.FailoverStateChangeTime = Now;
        Event(LogLevel.Warning, "+failover-state-select-slave", m, "%@");
    }

    /// <summary>The best replica to promote, or null (see the rules in the issue / Redis docs).</summary>
    public SentinelInstance? SelectSlave(SentinelInstance master)
    {
        long now = Now;
        long maxMasterDownTime = 0;
        if ((master.Flags & SriFlags.SDown) != 0) maxMasterDownTime += now - master.SDownSinceTime;
        maxMasterDownTime += master.DownAfterPeriod * 10;
        var candidates = new List<SentinelInstance>();
        foreach (var s in master.Slaves.Values)
        {
            if ((s.Flags & (SriFlags.SDown | SriFlags.ODown)) != 0) continue;
            if (s.Disconnected) continue;
            if (now - s.LastAvailTime > PingPeriod * 5) continue;
            if (s.SlavePriority == 0) continue;
            long infoValidity = (master.Flags & SriFlags.SDown) != 0 ? PingPeriod * 5 : InfoPeriod * 3;
            if (now - s.InfoRefresh > infoValidity) continue;
            if (s.MasterLinkDownTime > maxMasterDownTime) continue;
            candidates.Add(s);
        }
        if (candidates.Count == 0) return null;
        candidates.Sort((a, b) =>
        {
            if (a.SlavePriority != b.SlavePriority) return a.SlavePriority.CompareTo(b.SlavePriority);
            if (a.SlaveReplOffset != b.SlaveReplOffset) return b.SlaveReplOffset.CompareTo(a.SlaveReplOffset);
            if (a.RunId is null) return b.RunId is null ? 0 : 1;
            if (b.RunId is null) return -1;
            return string.CompareOrdinal(a.RunId, b.RunId);
        });
        return candidates[0];
    }

    private void FailoverSelectSlave(SentinelInstance m)
    {
        var slave = SelectSlave(m);
        if (slave is null)
        {
            Event(LogLevel.Warning, "-failover-abort-no-good-slave", m, "%@");
            AbortFailover(m);
            return;
        }
        Event(LogLevel.Warning, "+selected-slave", slave, "%@");
        slave.Flags |= SriFlags.Promoted;
        m.PromotedSlave = slave;
        m.FailoverState = FailoverState.SendSlaveofNoone;
        m.FailoverStateChangeTime = Now;
        Event(LogLevel.Notice, "+failover-state-send-slaveof-noone", slave, "%@");
    }

    private void FailoverSendSlaveOfNoOne(SentinelInstance m)
    {
        var p = m.PromotedSlave!;
        if (!p.CmdConnected)
        {
            if (Now - m.FailoverStateChangeTime > m.FailoverTimeout)
            {
                Event(LogLevel.Warning, "-failover-abort-slave-timeout", m, "%@");
                AbortFailover(m);
            }
            return;
        }
        if (!SendSlaveOf(p, null, 0)) return;
        Event(LogLevel.Notice, "+failover-state-wait-promotion", p, "%@");
        m.FailoverState = FailoverState.WaitPromotion;
        m.FailoverStateChangeTime = Now;
    }

    private void FailoverWaitPromotion(SentinelInstance m)
    {
        if (Now - m.FailoverStateChangeTime > m.FailoverTimeout)
        {
            Event(LogLevel.Warning, "-failover-abort-slave-timeout", m, "%@");
            AbortFailover(m);
        }
    }

    private void FailoverReconfNextSlave(SentinelInstance m)
    {
        long now = Now;
        int inProgress = m.Slaves.Values.Count(s => (s.Flags & (SriFlags.ReconfSent | SriFlags.ReconfInprog)) != 0);
        foreach (var s in m.Slaves.Values)
        {
            if (inProgress >= m.ParallelSyncs) break;
            if ((s.Flags & (SriFlags.Promoted | SriFlags.ReconfDone)) != 0) continue;
            if ((s.Flags & SriFlags.ReconfSent) != 0 && now - s.SlaveReconfSentTime > SlaveReconfTimeout)
            {
                Event(LogLevel.Notice, "-slave-reconf-sent-timeout", s, "%@");
                s.Flags &= ~SriFlags.ReconfSent;
                s.Flags |= SriFlags.ReconfDone;
                continue;
            }
            if ((s.Flags & (SriFlags.ReconfSent | SriFlags.ReconfInprog)) != 0) continue;
            if (!s.CmdConnected) continue;
            if (SendSlaveOf(s, m.PromotedSlave!.Ip, m.PromotedSlave.Port))
            {
                s.Flags |= SriFlags.ReconfSent;
                s.SlaveReconfSentTime = now;
                Event(LogLevel.Notice, "+slave-reconf-sent", s, "%@");
                inProgress++;
            }
        }
        FailoverDetectEnd(m);
    }

    private void FailoverDetectEnd(SentinelInstance m)
    {
        var p = m.PromotedSlave;
        if (p is null || (p.Flags & SriFlags.SDown) != 0) return;
        int notReconfigured = m.Slaves.Values.Count(s =>
            (s.Flags & (SriFlags.Promoted | SriFlags.ReconfDone)) == 0 && (s.Flags & SriFlags.SDown) == 0);
        bool timeout = false;
        if (Now - m.FailoverStateChangeTime > m.FailoverTimeout)
        {
            notReconfigured = 0;
            timeout = true;
            Event(LogLevel.Warning, "+failover-end-for-timeout", m, "%@");
        }
        if (notReconfigured == 0)
        {
            Event(LogLevel.Warning, "+failover-end", m, "%@");
            m.FailoverState = FailoverState.UpdateConfig;
            m.FailoverStateChangeTime = Now;
        }
        if (timeout)
        {
            foreach (var s in m.Slaves.Values)
            {
                if ((s.Flags & (SriFlags.ReconfDone | SriFlags.ReconfSent | SriFlags.Promoted)) != 0) continue;
                if (!s.CmdConnected) continue;
                if (SendSlaveOf(s, p.Ip, p.Port))
                {
                    Event(LogLevel.Notice, "+slave-reconf-sent-be", s, "%@");
                    s.Flags |= SriFlags.ReconfSent;
                }
            }
        }
    }

    private void AbortFailover(SentinelInstance m)
    {
        m.Flags &= ~(SriFlags.FailoverInProgress | SriFlags.ForceFailover);
        m.FailoverState = FailoverState.None;
        m.FailoverStateChangeTime = Now;
        if (m.PromotedSlave is not null)
        {
            m.PromotedSlave.Flags &= ~SriFlags.Promoted;
            m.PromotedSlave = null;
        }
    }

    /// <summary>
    /// REPLICAOF host port (or NO ONE) inside MULTI with CONFIG REWRITE and CLIENT KILL TYPE normal, so the
    /// instance persists its role and clients reconnect and notice it.
    /// </summary>
    private bool SendSlaveOf(SentinelInstance ri, string? host, int port)
    {
        var l = ri.Cmd;
        if (l is null || !l.Connected) return false;
        var m = ri.OwnerMaster;
        if (!l.Send(null, Rename(m, "MULTI"))) return false;
        if (host is null) l.Send(null, Rename(m, "SLAVEOF"), "NO", "ONE");
        else l.Send(null, Rename(m, "SLAVEOF"), host, port.ToString());
        l.Send(null, Rename(m, "CONFIG"), "REWRITE");
        l.Send(null, Rename(m, "CLIENT"), "KILL", "TYPE", "normal");
        l.Send(null, Rename(m, "EXEC"));
        return true;
    }

    private void SwitchToPromotedSlave(SentinelInstance m)
    {
        var target = m.PromotedSlave ?? m;
        Event(LogLevel.Warning, "+switch-master", m, $"{m.Name} {m.Ip} {m.Port} {target.Ip} {target.Port}");
        ResetMasterAndChangeAddress(m, target.Ip, target.Port);
    }

    /// <summary>Points the master at a new address; the old master and the other replicas become its replicas.</summary>
    public void ResetMasterAndChangeAddress(SentinelInstance m, string ip, int port)
    {
        var slaves = new List<(string Ip, int Port)>();
        foreach (var s in m.Slaves.Values)
            if (!(s.Ip == ip && s.Port == port)) slaves.Add((s.Ip, s.Port));
        if (!(m.Ip == ip && m.Port == port)) slaves.Add((m.Ip, m.Port));
        ResetMaster(m, resetSentinels: false, generateEvent: false);
        (m.Ip, m.Hostname) = ResolveAddress(ip);
        m.Port = port;
        foreach (var (sip, sport) in slaves)
        {
            var s = new SentinelInstance(SriFlags.Slave, sip + ":" + sport, sip, sport, m);
            m.Slaves[s.Name] = s;
            Event(LogLevel.Notice, "+slave", s, "%@");
        }
        FlushConfig();
    }

    public void ResetMaster(SentinelInstance m, bool resetSentinels, bool generateEvent)
    {
        foreach (var s in m.Slaves.Values) s.CloseLinks();
        m.Slaves.Clear();
        if (resetSentinels)
        {
            foreach (var s in m.Sentinels.Values) s.CloseLinks();
            m.Sentinels.Clear();
        }
        m.CloseLinks();
        m.Flags &= SriFlags.Master;
        m.Leader = null;
        m.FailoverState = FailoverState.None;
        m.FailoverStateChangeTime = 0;
        m.FailoverStartTime = 0;
        m.PromotedSlave = null;
        m.RunId = null;
        m.InfoText = null;
        m.RoleReported = SriFlags.Master;
        long now = Now;
        m.RoleReportedTime = now;
        m.ActPingTime = now;
        m.LastAvailTime = now;
        m.LastPongTime = now;
        m.LastReconnectTime = 0;
        m.InfoRefresh = 0;
        m.SDownSinceTime = m.ODownSinceTime = 0;
        m.MasterRebootSinceTime = 0;
        if (generateEvent) Event(LogLevel.Warning, "+reset-master", m, "%@");
    }
}
