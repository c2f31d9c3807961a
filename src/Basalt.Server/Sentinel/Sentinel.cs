using Basalt.Protocol;

namespace Basalt.Server.SentinelMode;

/// <summary>
/// Sentinel mode: monitors masters, their replicas and the other sentinels, agrees on failure, elects a leader and
/// fails over. All state lives here and is touched only under the server's execution lock; the timer runs on its
/// own thread (~10 Hz, randomized like Redis's) and network I/O happens in <see cref="SentinelLink"/> tasks.
/// </summary>
public sealed partial class Sentinel
{
    // Timing parameters; SENTINEL DEBUG changes them at run time (for tests), as in Redis 7.0. One sentinel per process.
    public static long InfoPeriod = 10_000, PingPeriod = 1000, AskPeriod = 1000, PublishPeriod = 2000;
    public static long DefaultDownAfter = 30_000, DefaultFailoverTimeout = 180_000;
    public static long TiltTrigger = 2000, TiltPeriod = 30_000, SlaveReconfTimeout = 10_000;
    public static long MinLinkReconnectPeriod = 15_000, ElectionTimeout = 10_000;
    public const long MaxDesync = 1000;
    public const int MaxPendingCommands = 100;
    public const string HelloChannel = "__sentinel__:hello";

    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private readonly RedisServer _server;
    public RedisServer Server => _server;
    public string MyId = "";
    public long CurrentEpoch;
    public readonly Dictionary<string, SentinelInstance> Masters = new();
    public bool Tilt;
    public long TiltStartTime;
    private long _previousTime = Now;
    public string? AnnounceIp;
    public int AnnouncePort;
    public bool DenyScriptsReconfig = true;
    public bool ResolveHostnames, AnnounceHostnames;
    public string? SentinelUser, SentinelPass;
    public const int SimFailureCrashAfterElection = 1, SimFailureCrashAfterPromotion = 2;
    public int SimFailure;
    private volatile bool _stopped;
    private readonly Random _rng = new();

    /// <summary>The running sentinel (sentinel mode only).</summary>
    public static Sentinel? Instance { get; private set; }

    public Sentinel(RedisServer server) => _server = server;

    /// <summary>Applies the queued "sentinel" directives, writes the config and starts the timer. False: exit 1.</summary>
    public static bool Start(RedisServer server)
    {
        var s = new Sentinel(server);
        var cfg = server.Config;
        if (string.IsNullOrEmpty(cfg.ConfigFile))
        {
            Log.Warning("Sentinel needs config file on disk to save state. Exiting...");
            return false;
        }
        foreach (var (line, text, args) in cfg.SentinelDirectives)
        {
            string? err = s.ApplyDirective(args);
            if (err is not null)
            {
                Console.Error.WriteLine($"\n*** FATAL CONFIG FILE ERROR (Redis {ServerMain.RedisVersion}) ***\n" +
                    $"Reading the configuration file, at line {line}\n>>> '{text}'\n{err}");
                return false;
            }
        }
        if (s.MyId.Length == 0) s.MyId = RedisServer.RandomHex(40);
        try
        {
            s.WriteConfig();
        }
        catch (Exception ex)
        {
            Log.Warning($"Sentinel config file {cfg.ConfigFile} is not writable: {ex.Message}. Exiting...");
            return false;
        }
        Instance = s;
        Log.Warning("Sentinel ID is " + s.MyId);
        lock (server.ExecLock)
            foreach (var m in s.Masters.Values) s.Event(LogLevel.Warning, "+monitor", m, "%@ quorum " + m.Quorum);
        var t = new Thread(s.TimerLoop) { IsBackground = true, Name = "sentinel-timer" };
        t.Start();
        return true;
    }

    public void Stop() => _stopped = true;

    private void TimerLoop()
    {
        while (!_stopped)
        {
            // Redis randomizes its hz (10..19) so sentinels desynchronize; same here with the period.
            Thread.Sleep(50 + _rng.Next(50));
            try
            {
                lock (_server.ExecLock) Timer();
            }
            catch (Exception ex) { Log.Warning("Sentinel timer: " + ex); }
        }
    }

    private void Timer()
    {
        CheckTilt();
        HandleInstances();
        RunScripts();
    }

    private void CheckTilt()
    {
        long now = Now;
        long delta = now - _previousTime;
        if (delta < 0 || delta > TiltTrigger)
        {
            Tilt = true;
            TiltStartTime = now;
            Event(LogLevel.Warning, "+tilt", null, "#tilt mode entered");
        }
        _previousTime = now;
    }

    private void HandleInstances()
    {
        SentinelInstance? switchTo = null;
        foreach (var m in Masters.Values.ToList())
        {
            HandleInstance(m);
            foreach (var s in m.Slaves.Values.ToList()) HandleInstance(s);
            foreach (var s in m.Sentinels.Values.ToList()) HandleInstance(s);
            if (m.FailoverState == FailoverState.UpdateConfig) switchTo = m;
        }
        if (switchTo is not null) SwitchToPromotedSlave(switchTo);
    }

    private void HandleInstance(SentinelInstance ri)
    {
        Reconnect(ri);
        SendPeriodicCommands(ri);
        if (Tilt)
        {
            if (Now - TiltStartTime < TiltPeriod) return;
            Tilt = false;
            Event(LogLevel.Warning, "-tilt", null, "#tilt mode exited");
        }
        CheckSubjectivelyDown(ri);
        if (ri.IsMaster)
        {
            CheckObjectivelyDown(ri);
            if (StartFailoverIfNeeded(ri)) AskMasterStateToOtherSentinels(ri, forced: true);
            FailoverStateMachine(ri);
            AskMasterStateToOtherSentinels(ri, forced: false);
        }
    }

    // ---- links ----

    private void Reconnect(SentinelInstance ri)
    {
        bool needCmd = ri.Cmd is null;
        bool needPubSub = !ri.IsSentinel && ri.PubSub is null;
        if (!needCmd && !needPubSub) return;
        long now = Now;
        if (now - ri.LastReconnectTime < PingPeriod) return;
        ri.LastReconnectTime = now;
        var master = ri.OwnerMaster;
        if (needCmd)
        {
            var link = new SentinelLink(_server);
            ri.Cmd = link;
            link.OnClosed = l => { if (ri.Cmd == l) ri.Cmd = null; };
            link.Start(ri.Ip, ri.Port, l =>
            {
                Authenticate(ri, l);
                l.Send(null, Rename(master, "CLIENT"), "SETNAME", "sentinel-" + MyId[..8] + "-cmd");
                SendPing(ri);
            });
        }
        if (needPubSub)
        {
            var link = new SentinelLink(_server);
            ri.PubSub = link;
            link.OnClosed = l => { if (ri.PubSub == l) ri.PubSub = null; };
            link.OnMessage = msg => ReceiveHello(ri, msg);
            link.Start(ri.Ip, ri.Port, l =>
            {
                Authenticate(ri, l);
                l.Send(null, Rename(master, "CLIENT"), "SETNAME", "sentinel-" + MyId[..8] + "-pubsub");
                l.Send(null, Rename(master, "SUBSCRIBE"), HelloChannel);
            });
        }
    }

    private void Authenticate(SentinelInstance ri, SentinelLink l)
    {
        string? user, pass;
        if (ri.IsSentinel) { user = SentinelUser; pass = SentinelPass; }
        else { var m = ri.OwnerMaster; user = m.AuthUser; pass = m.AuthPass; }
        if (pass is null) return;
        if (user is null) l.Send(null, Rename(ri.OwnerMaster, "AUTH"), pass);
        else l.Send(null, Rename(ri.OwnerMaster, "AUTH"), user, pass);
    }

    private static string Rename(SentinelInstance master, string cmd) =>
        master.RenamedCommands.TryGetValue(cmd, out var r) ? r : cmd;

    private void SendPeriodicCommands(SentinelInstance ri)
    {
        if (!ri.CmdConnected) return;
        long now = Now;
        long infoPeriod = InfoPeriod;
        if (ri.IsSlave && ((ri.Master!.Flags & (SriFlags.ODown | SriFlags.FailoverInProgress)) != 0 || ri.MasterLinkDownSinceTime != 0))
            infoPeriod = 1000;
        if (ri.IsMaster && (ri.Flags & (SriFlags.ODown | SriFlags.FailoverInProgress)) != 0) infoPeriod = 1000;
        // Beyond Redis (which keeps 1 s here): the replica being promoted, and those told to follow the new master,
        // are polled every 200 ms while the failover waits on their INFO, so each failover step is seen ~0.8 s sooner.
        if (ri.IsSlave && (ri.Master!.Flags & SriFlags.FailoverInProgress) != 0
            && (ri.Master.PromotedSlave == ri || (ri.Flags & (SriFlags.ReconfSent | SriFlags.ReconfInprog)) != 0))
            infoPeriod = Math.Min(infoPeriod, 200);
        long pingPeriod = Math.Min(ri.DownAfterPeriod, PingPeriod);
        if (ri.Cmd!.Pending >= MaxPendingCommands) return;
        if (!ri.IsSentinel && (ri.InfoRefresh == 0 || now - ri.InfoRefresh > infoPeriod))
        {
            ri.Cmd.Send(r => InfoReply(ri, r), Rename(ri.OwnerMaster, "INFO"));
        }
        if (now - ri.LastPongTime > pingPeriod && now - ri.LastPingTime > pingPeriod / 2) SendPing(ri);
        if (now - ri.LastPubTime > PublishPeriod) SendHello(ri);
    }

    private void SendPing(SentinelInstance ri)
    {
        if (ri.Cmd is null) return;
        if (!ri.Cmd.Send(r => PingReply(ri, r), Rename(ri.OwnerMaster, "PING"))) return;
        long now = Now;
        ri.LastPingTime = now;
        if (ri.ActPingTime == 0) ri.ActPingTime = now;
    }

    private void PingReply(SentinelInstance ri, RespValue r)
    {
        string text = r.Text ?? "";
        long now = Now;
        if (r.Type is RespType.SimpleString or RespType.Error)
        {
            if (text == "PONG" || text.StartsWith("LOADING") || text.StartsWith("MASTERDOWN"))
            {
                ri.LastAvailTime = now;
                ri.ActPingTime = 0;
                // A rebooted master counts as back only once it answers PONG (not while it is still loading).
                if (text.StartsWith("PONG")) ri.MasterRebootSinceTime = 0;
            }
            else if (text.StartsWith("BUSY") && (ri.Flags & SriFlags.SDown) != 0 && (ri.Flags & SriFlags.ScriptKillSent) == 0)
            {
                if (ri.Cmd?.Send(null, Rename(ri.OwnerMaster, "SCRIPT"), "KILL") == true) ri.Flags |= SriFlags.ScriptKillSent;
            }
        }
        ri.LastPongTime = now;
    }

    // ---- hello ----

    private string? AnnounceAddress(SentinelInstance ri) => AnnounceIp ?? ri.Cmd?.LocalIp;

    private void SendHello(SentinelInstance ri)
    {
        var m = ri.OwnerMaster;
        string? ip = AnnounceAddress(ri);
        if (ip is null || ri.Cmd is null) return;
        int port = AnnouncePort != 0 ? AnnouncePort : _server.Config.Port;
        var addr = m.CurrentAddress;
        string payload = $"{ip},{port},{MyId},{CurrentEpoch},{m.Name},{addr.AnnouncedIp},{addr.Port},{m.ConfigEpoch}";
        if (ri.Cmd.Send(r => { if (!r.IsError) ri.LastPubTime = Now; }, Rename(m, "PUBLISH"), HelloChannel, payload))
            ri.LastPubTime = Now;
    }

    private void ReceiveHello(SentinelInstance ri, RespValue msg)
    {
        var items = msg.Items!;
        string? payload = items[^1].Text;
        if (payload is null || items[^2].Text != HelloChannel) return;
        if (payload.Contains(MyId)) return;
        ProcessHello(payload);
    }

    /// <summary>Handles a hello message (pub/sub or PUBLISH to us): discover sentinels, epochs, config updates.</summary>
    public void ProcessHello(string payload)
    {
        var t = payload.Split(',');
        if (t.Length != 8) return;
        if (!int.TryParse(t[1], out int port) || !long.TryParse(t[3], out long epoch)
            || !int.TryParse(t[6], out int masterPort) || !long.TryParse(t[7], out long masterConfigEpoch)) return;
        string ip = t[0], runid = t[2];
        if (runid == MyId) return;
        if (!Masters.TryGetValue(t[4], out var master)) return;
        master.Sentinels.TryGetValue(runid, out var si);
        if (si is not null && (si.Ip != ip || si.Port != port))
        {
            // Same sentinel at a new address.
            si.CloseLinks();
            si.Ip = ip;
            si.Port = port;
            Event(LogLevel.Notice, "+sentinel-address-switch", master, $"%@ ip {ip} port {port} for {runid}");
            FlushConfig();
        }
        if (si is null)
        {
            // Another runid at the same address replaces the old one (a restarted sentinel with a new id).
            foreach (var other in master.Sentinels.Values.Where(x => x.Ip == ip && x.Port == port).ToList())
            {
                other.CloseLinks();
                master.Sentinels.Remove(other.Name);
                Event(LogLevel.Notice, "-dup-sentinel", master, "%@ #duplicate of " + ip + ":" + port + " or " + runid);
            }
            si = new SentinelInstance(SriFlags.Sentinel, runid, ip, port, master) { RunId = runid };
            master.Sentinels[runid] = si;
            Event(LogLevel.Notice, "+sentinel", si, "%@");
            FlushConfig();
        }
        if (epoch > CurrentEpoch)
        {
            CurrentEpoch = epoch;
            FlushConfig();
            Event(LogLevel.Warning, "+new-epoch", master, CurrentEpoch.ToString());
        }
        if (master.ConfigEpoch < masterConfigEpoch)
        {
            master.ConfigEpoch = masterConfigEpoch;
            if (masterPort != master.Port || (t[5] != master.Ip && t[5] != master.Hostname))
            {
                string oldIp = master.Ip;
                int oldPort = master.Port;
                Event(LogLevel.Warning, "+config-update-from", si, "%@");
                Event(LogLevel.Warning, "+switch-master", master, $"{master.Name} {oldIp} {oldPort} {t[5]} {masterPort}");
                ResetMasterAndChangeAddress(master, t[5], masterPort);
                CallClientReconfScript(master, "observer", "start", oldIp, oldPort, t[5], masterPort);
            }
            FlushConfig();
        }
        si.LastHelloTime = Now;
    }

    public void ForceHelloUpdate(SentinelInstance master)
    {
        long when = Now - PublishPeriod - 1;
        master.LastPubTime = when;
        foreach (var s in master.Slaves.Values) s.LastPubTime = when;
        foreach (var s in master.Sentinels.Values) s.LastPubTime = when;
    }

    // ---- SDOWN / ODOWN ----

    private void CheckSubjectivelyDown(SentinelInstance ri)
    {
        long now = Now;
        long elapsed = 0;
        if (ri.ActPingTime != 0) elapsed = now - ri.ActPingTime;
        else if (!ri.CmdConnected) elapsed = now - ri.LastAvailTime;

        // A link that stopped answering is recreated (the instance may be fine, the connection not).
        if (ri.Cmd is { Connected: true } cmd && now - cmd.ConnectedTime > MinLinkReconnectPeriod && ri.ActPingTime != 0
            && now - ri.ActPingTime > ri.DownAfterPeriod / 2 && now - ri.LastPongTime > ri.DownAfterPeriod / 2)
            cmd.Close();
        if (ri.PubSub is { Connected: true } ps && now - ps.ConnectedTime > MinLinkReconnectPeriod
            && now - ps.LastActivity > PublishPeriod * 3)
            ps.Close();

        bool down = elapsed > ri.DownAfterPeriod
            || (ri.IsMaster && ri.RoleReported == SriFlags.Slave && now - ri.RoleReportedTime > ri.DownAfterPeriod + InfoPeriod * 2)
            || (ri.MasterRebootSinceTime != 0 && ri.MasterRebootDownAfterPeriod > 0 && now - ri.MasterRebootSinceTime > ri.MasterRebootDownAfterPeriod);
        if (down)
        {
            if ((ri.Flags & SriFlags.SDown) == 0)
            {
                Event(LogLevel.Warning, "+sdown", ri, "%@");
                ri.SDownSinceTime = now;
                ri.Flags |= SriFlags.SDown;
            }
        }
        else if ((ri.Flags & SriFlags.SDown) != 0)
        {
            Event(LogLevel.Warning, "-sdown", ri, "%@");
            ri.Flags &= ~(SriFlags.SDown | SriFlags.ScriptKillSent);
        }
    }

    private void CheckObjectivelyDown(SentinelInstance master)
    {
        int quorum = 0;
        bool odown = false;
        if ((master.Flags & SriFlags.SDown) != 0)
        {
            quorum = 1;
            foreach (var s in master.Sentinels.Values) if ((s.Flags & SriFlags.MasterDown) != 0) quorum++;
            if (quorum >= master.Quorum) odown = true;
        }
        if (odown)
        {
            if ((master.Flags & SriFlags.ODown) == 0)
            {
                Event(LogLevel.Warning, "+odown", master, $"%@ #quorum {quorum}/{master.Quorum}");
                master.Flags |= SriFlags.ODown;
                master.ODownSinceTime = Now;
            }
        }
        else if ((master.Flags & SriFlags.ODown) != 0)
        {
            Event(LogLevel.Warning, "-odown", master, "%@");
            master.Flags &= ~SriFlags.ODown;
        }
    }

    private void AskMasterStateToOtherSentinels(SentinelInstance master, bool forced)
    {
        long now = Now;
        foreach (var ri in master.Sentinels.Values)
        {
            long elapsed = now - ri.LastMasterDownReplyTime;
            if (elapsed > AskPeriod * 5)
            {
                ri.Flags &= ~SriFlags.MasterDown;
                ri.Leader = null;
            }
            if ((master.Flags & SriFlags.SDown) == 0) continue;
            if (!ri.CmdConnected) continue;
            // Redis re-asks once per ask-period. A peer that said "not down" while we see SDOWN and no ODOWN yet is
            // usually just a little behind us (its own ping phase), so it is asked again sooner: ODOWN then follows
            // within ~200 ms of the quorum agreeing instead of up to a second later. The query is cheap.
            long period = (master.Flags & SriFlags.ODown) == 0 && (ri.Flags & SriFlags.MasterDown) == 0
                ? Math.Max(AskPeriod / 5, 50) : AskPeriod;
            if (!forced && now - ri.LastMasterDownReplyTime < period) continue;
            string runid = master.FailoverState > FailoverState.None ? MyId : "*";
            ri.Cmd!.Send(r => IsMasterDownReply(ri, r), Rename(master, "SENTINEL"), "is-master-down-by-addr",
                master.Ip, master.Port.ToString(), CurrentEpoch.ToString(), runid);
        }
    }

    private void IsMasterDownReply(SentinelInstance ri, RespValue r)
    {
        if (r.Type != RespType.Array || r.Items is not { Length: 3 } it) return;
        if (it[0].Type != RespType.Integer || it[1].Bytes is null || it[2].Type != RespType.Integer) return;
        ri.LastMasterDownReplyTime = Now;
        if (it[0].Integer == 1) ri.Flags |= SriFlags.MasterDown;
        else ri.Flags &= ~SriFlags.MasterDown;
        if (it[1].Text != "*")
        {
            ri.Leader = it[1].Text;
            ri.LeaderEpoch = it[2].Integer;
        }
    }

    // ---- events ----

    public void Event(LogLevel level, string type, SentinelInstance? ri, string fmt)
    {
        string msg = fmt.StartsWith("%@") && ri is not null ? ri.Describe() + fmt[2..] : fmt;
        string line = type + " " + msg;
        switch (level)
        {
            case LogLevel.Warning: Log.Warning(line); break;
            case LogLevel.Notice: Log.Notice(line); break;
            default: Log.Verbose(line); break;
        }
        if (level != LogLevel.Debug)
            _server.PubSub.Publish(System.Text.Encoding.UTF8.GetBytes(type), System.Text.Encoding.UTF8.GetBytes(msg), null);
        if (level == LogLevel.Warning && ri is not null)
        {
            var m = ri.OwnerMaster;
            if (m.NotificationScript is not null) ScheduleScript(m.NotificationScript, [type, msg]);
        }
    }
}
