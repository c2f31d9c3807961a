using System.Text;
using Basalt.Protocol;
using SriFlags = Basalt.Server.SentinelMode.SriFlags;
using SentinelInstance = Basalt.Server.SentinelMode.SentinelInstance;
using FailoverState = Basalt.Server.SentinelMode.FailoverState;
using static Basalt.Server.Commands.CommandFlags;
using S = Basalt.Server.SentinelMode.Sentinel;

namespace Basalt.Server.Commands;

/// <summary>
/// Sentinel mode's command set: SENTINEL and its subcommands, and the sentinel variants of INFO, ROLE and PUBLISH.
/// Every other command is removed from the table, so it is refused as unknown, as Redis Sentinel does.
/// </summary>
public static class SentinelCommands
{
    private static readonly string[] Kept =
        ["ping", "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "client", "shutdown", "auth", "hello", "acl", "command"];

    public static void Install(CommandTable t)
    {
        foreach (var def in t.All.ToList())
            if (!Kept.Contains(def.Name)) t.Remove(def.Name);
        t.Add("info", -1, Loading | Stale | Sentinel, 0, 0, 0, Info);
        t.Add("role", 1, NoScript | Loading | Stale | Fast | Sentinel, 0, 0, 0, Role);
        t.Add("publish", 3, PubSub | Loading | Stale | Fast | MayReplicate | Sentinel, 0, 0, 0, Publish);
        var c = t.AddContainer("sentinel", -2, Admin | Sentinel | OnlySentinel);
        var f = Admin | Sentinel | OnlySentinel;
        CommandTable.AddSub(c, "masters", 2, f, 0, 0, 0, Masters);
        CommandTable.AddSub(c, "master", 3, f, 0, 0, 0, Master);
        CommandTable.AddSub(c, "replicas", 3, f, 0, 0, 0, Replicas);
        CommandTable.AddSub(c, "slaves", 3, f, 0, 0, 0, Replicas);
        CommandTable.AddSub(c, "sentinels", 3, f, 0, 0, 0, Sentinels);
        CommandTable.AddSub(c, "get-master-addr-by-name", 3, f, 0, 0, 0, GetMasterAddr);
        CommandTable.AddSub(c, "is-master-down-by-addr", 6, f, 0, 0, 0, IsMasterDown);
        CommandTable.AddSub(c, "reset", 3, f, 0, 0, 0, Reset);
        CommandTable.AddSub(c, "failover", 3, f, 0, 0, 0, Failover);
        CommandTable.AddSub(c, "ckquorum", 3, f, 0, 0, 0, CkQuorum);
        CommandTable.AddSub(c, "flushconfig", 2, f, 0, 0, 0, FlushConfig);
        CommandTable.AddSub(c, "monitor", 6, f, 0, 0, 0, Monitor);
        CommandTable.AddSub(c, "remove", 3, f, 0, 0, 0, Remove);
        CommandTable.AddSub(c, "set", -5, f, 0, 0, 0, Set);
        CommandTable.AddSub(c, "config", -3, f, 0, 0, 0, ConfigCmd);
        CommandTable.AddSub(c, "myid", 2, f, 0, 0, 0, ctx => ctx.Reply.WriteBulk(Sn.MyId));
        CommandTable.AddSub(c, "info-cache", -3, f, 0, 0, 0, InfoCache);
        CommandTable.AddSub(c, "simulate-failure", -3, f, 0, 0, 0, SimulateFailure);
        CommandTable.AddSub(c, "pending-scripts", 2, f, 0, 0, 0, PendingScripts);
        CommandTable.AddSub(c, "debug", -2, f, 0, 0, 0, Debug);
        CommandTable.AddSub(c, "help", 2, f, 0, 0, 0, Help);
    }

    private static S Sn => S.Instance!;

    private static SentinelInstance? MasterOrReply(CommandContext ctx, int i)
    {
        if (Sn.Masters.TryGetValue(ctx.ArgString(i), out var m)) return m;
        ctx.Reply.WriteError("ERR No such master with that name");
        return null;
    }

    // ---- instance reports ----

    private static string FlagsText(SentinelInstance ri)
    {
        var parts = new List<string>();
        var f = ri.Flags;
        if ((f & SriFlags.SDown) != 0) parts.Add("s_down");
        if ((f & SriFlags.ODown) != 0) parts.Add("o_down");
        if ((f & SriFlags.Master) != 0) parts.Add("master");
        if ((f & SriFlags.Slave) != 0) parts.Add("slave");
        if ((f & SriFlags.Sentinel) != 0) parts.Add("sentinel");
        if (ri.Disconnected) parts.Add("disconnected");
        if ((f & SriFlags.MasterDown) != 0) parts.Add("master_down");
        if ((f & SriFlags.FailoverInProgress) != 0) parts.Add("failover_in_progress");
        if ((f & SriFlags.Promoted) != 0) parts.Add("promoted");
        if ((f & SriFlags.ReconfSent) != 0) parts.Add("reconf_sent");
        if ((f & SriFlags.ReconfInprog) != 0) parts.Add("reconf_inprog");
        if ((f & SriFlags.ReconfDone) != 0) parts.Add("reconf_done");
        if ((f & SriFlags.ForceFailover) != 0) parts.Add("force_failover");
        if ((f & SriFlags.ScriptKillSent) != 0) parts.Add("script_kill_sent");
        return string.Join(',', parts);
    }

    private static string StateName(FailoverState s) => s switch
    {
        FailoverState.None => "none",
        FailoverState.WaitStart => "wait_start",
        FailoverState.SelectSlave => "select_slave",
        FailoverState.SendSlaveofNoone => "send_slaveof_noone",
        FailoverState.WaitPromotion => "wait_promotion",
        FailoverState.ReconfSlaves => "reconf_slaves",
        _ => "update_config",
    };

    /// <summary>Field/value pairs of SENTINEL MASTER/REPLICAS/SENTINELS, in Redis's order.</summary>
    public static List<(string, string)> Fields(SentinelInstance ri)
    {
        long now = S.Now;
        var r = new List<(string, string)>
        {
            ("name", ri.Name), ("ip", ri.AnnouncedIp), ("port", ri.Port.ToString()), ("runid", ri.RunId ?? ""),
            ("flags", FlagsText(ri)), ("link-pending-commands", (ri.Cmd?.Pending ?? 0).ToString()), ("link-refcount", "1"),
        };
        if (ri.FailoverState != FailoverState.None) r.Add(("failover-state", StateName(ri.FailoverState)));
        r.Add(("last-ping-sent", (ri.ActPingTime != 0 ? now - ri.ActPingTime : 0).ToString()));
        r.Add(("last-ok-ping-reply", (now - ri.LastAvailTime).ToString()));
        r.Add(("last-ping-reply", (now - ri.LastPongTime).ToString()));
        if ((ri.Flags & SriFlags.SDown) != 0) r.Add(("s-down-time", (now - ri.SDownSinceTime).ToString()));
        if ((ri.Flags & SriFlags.ODown) != 0) r.Add(("o-down-time", (now - ri.ODownSinceTime).ToString()));
        r.Add(("down-after-milliseconds", ri.DownAfterPeriod.ToString()));
        if (!ri.IsSentinel)
        {
            r.Add(("info-refresh", (ri.InfoRefresh != 0 ? now - ri.InfoRefresh : 0).ToString()));
            r.Add(("role-reported", ri.RoleReported == SriFlags.Master ? "master" : "slave"));
            r.Add(("role-reported-time", (now - ri.RoleReportedTime).ToString()));
        }
        if (ri.IsMaster)
        {
            r.Add(("config-epoch", ri.ConfigEpoch.ToString()));
            r.Add(("num-slaves", ri.Slaves.Count.ToString()));
            r.Add(("num-other-sentinels", ri.Sentinels.Count.ToString()));
            r.Add(("quorum", ri.Quorum.ToString()));
            r.Add(("failover-timeout", ri.FailoverTimeout.ToString()));
            r.Add(("parallel-syncs", ri.ParallelSyncs.ToString()));
            if (ri.NotificationScript is not null) r.Add(("notification-script", ri.NotificationScript));
            if (ri.ClientReconfigScript is not null) r.Add(("client-reconfig-script", ri.ClientReconfigScript));
        }
        if (ri.IsSlave)
        {
            r.Add(("master-link-down-time", ri.MasterLinkDownTime.ToString()));
            r.Add(("master-link-status", ri.SlaveMasterLinkUp ? "ok" : "err"));
            r.Add(("master-host", ri.SlaveMasterHost ?? "?"));
            r.Add(("master-port", ri.SlaveMasterPort.ToString()));
            r.Add(("slave-priority", ri.SlavePriority.ToString()));
            r.Add(("slave-repl-offset", ri.SlaveReplOffset.ToString()));
            r.Add(("replica-announced", ri.ReplicaAnnounced.ToString()));
        }
        if (ri.IsSentinel)
        {
            r.Add(("last-hello-message", (now - ri.LastHelloTime).ToString()));
            r.Add(("voted-leader", ri.Leader ?? "?"));
            r.Add(("voted-leader-epoch", ri.LeaderEpoch.ToString()));
        }
        return r;
    }

    private static void WriteInstance(RespWriter w, SentinelInstance ri)
    {
        var fields = Fields(ri);
        w.WriteMapHeader(fields.Count);
        foreach (var (k, v) in fields) { w.WriteBulk(k); w.WriteBulk(v); }
    }

    private static void WriteInstances(RespWriter w, IEnumerable<SentinelInstance> list)
    {
        var items = list.ToList();
        w.WriteArrayHeader(items.Count);
        foreach (var ri in items) WriteInstance(w, ri);
    }

    private static void Masters(CommandContext ctx) => WriteInstances(ctx.Reply, Sn.Masters.Values);

    private static void Master(CommandContext ctx)
    {
        if (MasterOrReply(ctx, 2) is { } m) WriteInstance(ctx.Reply, m);
    }

    private static void Replicas(CommandContext ctx)
    {
        // Replicas configured with replica-announced no are monitored (and counted in num-slaves) but not listed.
        if (MasterOrReply(ctx, 2) is { } m) WriteInstances(ctx.Reply, m.Slaves.Values.Where(s => s.ReplicaAnnounced != 0));
    }

    private static void Sentinels(CommandContext ctx)
    {
        if (MasterOrReply(ctx, 2) is { } m) WriteInstances(ctx.Reply, m.Sentinels.Values);
    }

    private static void GetMasterAddr(CommandContext ctx)
    {
        if (!Sn.Masters.TryGetValue(ctx.ArgString(2), out var m)) { ctx.Reply.WriteNullArray(); return; }
        var addr = m.CurrentAddress;
        ctx.Reply.WriteArrayHeader(2);
        ctx.Reply.WriteBulk(addr.AnnouncedIp);
        ctx.Reply.WriteBulk(addr.Port.ToString());
    }

    private static void IsMasterDown(CommandContext ctx)
    {
        if (!RespNumbers.TryParseInt64(ctx.Arg(3), out long port) || !RespNumbers.TryParseInt64(ctx.Arg(4), out long epoch))
        {
            ctx.Reply.WriteError("ERR value is not an integer or out of range");
            return;
        }
        string ip = ctx.ArgString(2), runid = ctx.ArgString(5);
        var s = Sn;
        var ri = s.Masters.Values.FirstOrDefault(m => (m.Ip == ip || m.Hostname == ip) && m.Port == port);
        bool down = !s.Tilt && ri is not null && (ri.Flags & SriFlags.SDown) != 0;
        string? leader = null;
        long leaderEpoch = 0;
        if (ri is not null && runid != "*") leader = s.VoteLeader(ri, epoch, runid, out leaderEpoch);
        ctx.Reply.WriteArrayHeader(3);
        ctx.Reply.WriteInteger(down ? 1 : 0);
        ctx.Reply.WriteBulk(leader ?? "*");
        ctx.Reply.WriteInteger(leader is not null ? leaderEpoch : 0);
    }

    private static void Reset(CommandContext ctx)
    {
        var pattern = ctx.ArgBytes(2);
        int n = 0;
        foreach (var m in Sn.Masters.Values.ToList())
        {
            if (!Keyspace.Glob.Match(pattern, Encoding.UTF8.GetBytes(m.Name), false)) continue;
            Sn.ResetMaster(m, resetSentinels: true, generateEvent: true);
            n++;
        }
        if (n > 0) Sn.FlushConfig();
        ctx.Reply.WriteInteger(n);
    }

    private static void Failover(CommandContext ctx)
    {
        if (MasterOrReply(ctx, 2) is not { } m) return;
        if ((m.Flags & SriFlags.FailoverInProgress) != 0) { ctx.Reply.WriteError("INPROG Failover already in progress"); return; }
        if (Sn.SelectSlave(m) is null) { ctx.Reply.WriteError("NOGOODSLAVE No suitable replica to promote"); return; }
        Log.Warning($"Executing user requested FAILOVER of '{m.Name}'");
        Sn.StartFailover(m);
        m.Flags |= SriFlags.ForceFailover;
        ctx.Reply.WriteOk();
    }

    private static void CkQuorum(CommandContext ctx)
    {
        if (MasterOrReply(ctx, 2) is not { } m) return;
        int voters = m.Sentinels.Count + 1;
        int usable = 1 + m.Sentinels.Values.Count(s => (s.Flags & (SriFlags.SDown | SriFlags.ODown)) == 0);
        bool noQuorum = usable < m.Quorum, noAuth = usable < voters / 2 + 1;
        if (!noQuorum && !noAuth)
        {
            ctx.Reply.WriteSimpleString($"OK {usable} usable Sentinels. Quorum and failover authorization can be reached");
            return;
        }
        var e = new StringBuilder($"NOQUORUM {usable} usable Sentinels. ");
        if (noQuorum) e.Append("Not enough available Sentinels to reach the specified quorum for this master");
        if (noAuth)
        {
            if (noQuorum) e.Append(". ");
            e.Append("Not enough available Sentinels to reach the majority and authorize a failover");
        }
        ctx.Reply.WriteError(e.ToString());
    }

    private static void FlushConfig(CommandContext ctx)
    {
        if (Sn.FlushConfig()) ctx.Reply.WriteOk();
        else ctx.Reply.WriteError("ERR Failed to save config");
    }

    private static void Monitor(CommandContext ctx)
    {
        if (!RespNumbers.TryParseInt64(ctx.Arg(5), out long quorum))
        {
            ctx.Reply.WriteError("ERR value is not an integer or out of range");
            return;
        }
        if (quorum <= 0) { ctx.Reply.WriteError("ERR Quorum must be 1 or greater."); return; }
        if (!RespNumbers.TryParseInt64(ctx.Arg(4), out long port) || port <= 0 || port > 65535)
        {
            ctx.Reply.WriteError("ERR Invalid port");
            return;
        }
        string name = ctx.ArgString(2), ip = ctx.ArgString(3);
        if (!System.Net.IPAddress.TryParse(ip, out _) && Sn.ResolveAddress(ip).Hostname is null)
        {
            ctx.Reply.WriteError("ERR Invalid IP address or hostname specified");
            return;
        }
        if (Sn.Masters.ContainsKey(name)) { ctx.Reply.WriteError("ERR Duplicate master name."); return; }
        var m = Sn.CreateMaster(name, ip, (int)port, (int)quorum);
        Sn.FlushConfig();
        Sn.Event(LogLevel.Warning, "+monitor", m, "%@ quorum " + m.Quorum);
        ctx.Reply.WriteOk();
    }

    private static void Remove(CommandContext ctx)
    {
        if (MasterOrReply(ctx, 2) is not { } m) return;
        Sn.Event(LogLevel.Warning, "-monitor", m, "%@");
        foreach (var s in m.Slaves.Values) s.CloseLinks();
        foreach (var s in m.Sentinels.Values) s.CloseLinks();
        m.CloseLinks();
        Sn.Masters.Remove(m.Name);
        Sn.FlushConfig();
        ctx.Reply.WriteOk();
    }

    private static void Set(CommandContext ctx)
    {
        if (MasterOrReply(ctx, 2) is not { } m) return;
        int changes = 0;
        string? error = null;
        for (int i = 3; i < ctx.Count; i++)
        {
            string opt = ctx.ArgString(i).ToLowerInvariant();
            int remaining = ctx.Count - i - 1;
            string Invalid(string v) => $"ERR Invalid argument '{v}' for SENTINEL SET '{opt}'";
            if (opt == "rename-command" && remaining >= 2)
            {
                string from = ctx.ArgString(i + 1), to = ctx.ArgString(i + 2);
                if (from.Equals(to, StringComparison.OrdinalIgnoreCase)) m.RenamedCommands.Remove(from);
                else m.RenamedCommands[from] = to;
                Sn.Event(LogLevel.Warning, "+set", m, $"%@ {opt} {from} {to}");
                changes++;
                i += 2;
                continue;
            }
            if (remaining < 1 || opt is not ("down-after-milliseconds" or "failover-timeout" or "parallel-syncs" or "notification-script"
                or "client-reconfig-script" or "auth-pass" or "auth-user" or "quorum" or "master-reboot-down-after-period"))
            {
                error = $"ERR Unknown option or number of arguments for SENTINEL SET '{opt}'";
                break;
            }
            string val = ctx.ArgString(++i);
            bool okNum = long.TryParse(val, out long n);
            switch (opt)
            {
                case "down-after-milliseconds":
                    if (!okNum || n <= 0) error = Invalid(val);
                    else
                    {
                        m.DownAfterPeriod = n;
                        foreach (var s in m.Slaves.Values) s.DownAfterPeriod = n;
                        foreach (var s in m.Sentinels.Values) s.DownAfterPeriod = n;
                    }
                    break;
                case "failover-timeout": if (!okNum || n <= 0) error = Invalid(val); else m.FailoverTimeout = n; break;
                case "parallel-syncs": if (!okNum || n <= 0) error = Invalid(val); else m.ParallelSyncs = (int)n; break;
                case "quorum": if (!okNum || n <= 0) error = Invalid(val); else m.Quorum = (int)n; break;
                case "master-reboot-down-after-period": if (!okNum || n < 0) error = Invalid(val); else m.MasterRebootDownAfterPeriod = n; break;
                case "auth-pass": m.AuthPass = val.Length == 0 ? null : val; break;
                case "auth-user": m.AuthUser = val.Length == 0 ? null : val; break;
                case "notification-script" or "client-reconfig-script":
                    if (Sn.DenyScriptsReconfig)
                    {
                        error = "ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration";
                        break;
                    }
                    if (val.Length > 0 && !S.IsExecutable(val))
                    {
                        error = opt == "notification-script" ? "ERR Notification script seems non existing or non executable"
                            : "ERR Client reconfiguration script seems non existing or non executable";
                        break;
                    }
                    if (opt == "notification-script") m.NotificationScript = val.Length == 0 ? null : val;
                    else m.ClientReconfigScript = val.Length == 0 ? null : val;
                    break;
            }
            if (error is not null) break;
            Sn.Event(LogLevel.Warning, "+set", m, $"%@ {opt} {(opt == "auth-pass" ? "********" : val)}");
            changes++;
        }
        if (changes > 0) Sn.FlushConfig();
        if (error is not null) ctx.Reply.WriteError(error);
        else ctx.Reply.WriteOk();
    }

    private static readonly string[] ConfigNames =
        ["resolve-hostnames", "announce-hostnames", "announce-ip", "announce-port", "sentinel-user", "sentinel-pass"];

    private static string ConfigValue(string name) => name switch
    {
        "resolve-hostnames" => Sn.ResolveHostnames ? "yes" : "no",
        "announce-hostnames" => Sn.AnnounceHostnames ? "yes" : "no",
        "announce-ip" => Sn.AnnounceIp ?? "",
        "announce-port" => Sn.AnnouncePort.ToString(),
        "sentinel-user" => Sn.SentinelUser ?? "",
        _ => Sn.SentinelPass ?? "",
    };

    private static void ConfigCmd(CommandContext ctx)
    {
        if (ctx.ArgIs(2, "get"u8) && ctx.Count == 4)
        {
            var pattern = ctx.ArgBytes(3);
            var hits = ConfigNames.Where(n => Keyspace.Glob.Match(pattern, Encoding.UTF8.GetBytes(n), true)).ToList();
            ctx.Reply.WriteMapHeader(hits.Count);
            foreach (var n in hits) { ctx.Reply.WriteBulk(n); ctx.Reply.WriteBulk(ConfigValue(n)); }
            return;
        }
        if (ctx.ArgIs(2, "set"u8) && ctx.Count >= 5 && (ctx.Count - 3) % 2 == 0)
        {
            // Validate everything first, then apply: a bad pair changes nothing.
            var pairs = new List<(string, string)>();
            for (int i = 3; i < ctx.Count; i += 2)
            {
                string name = ctx.ArgString(i).ToLowerInvariant(), val = ctx.ArgString(i + 1);
                bool ok = name switch
                {
                    "resolve-hostnames" or "announce-hostnames" => val.ToLowerInvariant() is "yes" or "no",
                    "announce-port" => int.TryParse(val, out int p) && p >= 0 && p <= 65535,
                    "announce-ip" or "sentinel-user" or "sentinel-pass" => true,
                    _ => false,
                };
                if (!ok)
                {
                    ctx.Reply.WriteError($"ERR Invalid argument '{(ConfigNames.Contains(name) ? val : ctx.ArgString(i))}' to SENTINEL CONFIG SET");
                    return;
                }
                pairs.Add((name, val));
            }
            foreach (var (name, val) in pairs)
            {
                switch (name)
                {
                    case "resolve-hostnames": Sn.ResolveHostnames = val.Equals("yes", StringComparison.OrdinalIgnoreCase); break;
                    case "announce-hostnames": Sn.AnnounceHostnames = val.Equals("yes", StringComparison.OrdinalIgnoreCase); break;
                    case "announce-port": Sn.AnnouncePort = int.Parse(val); break;
                    case "announce-ip": Sn.AnnounceIp = val.Length == 0 ? null : val; break;
                    case "sentinel-user": Sn.SentinelUser = val.Length == 0 ? null : val; break;
                    case "sentinel-pass": Sn.SentinelPass = val.Length == 0 ? null : val; break;
                }
            }
            Sn.FlushConfig();
            ctx.Reply.WriteOk();
            return;
        }
        ctx.Reply.WriteError("ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.");
    }

    private static void InfoCache(CommandContext ctx)
    {
        var masters = new List<SentinelInstance>();
        for (int i = 2; i < ctx.Count; i++)
            if (Sn.Masters.TryGetValue(ctx.ArgString(i), out var m) && !masters.Contains(m)) masters.Add(m);
        long now = S.Now;
        var w = ctx.Reply;
        w.WriteMapHeader(masters.Count);
        foreach (var m in masters)
        {
            w.WriteBulk(m.Name);
            var all = new List<SentinelInstance> { m };
            all.AddRange(m.Slaves.Values);
            w.WriteArrayHeader(all.Count);
            foreach (var ri in all)
            {
                w.WriteArrayHeader(2);
                w.WriteInteger(ri.InfoRefresh != 0 ? now - ri.InfoRefresh : 0);
                if (ri.InfoText is null) w.WriteNull(); else w.WriteBulk(ri.InfoText);
            }
        }
    }

    private static void SimulateFailure(CommandContext ctx)
    {
        // As Redis: the flags are cleared first, so HELP or an unknown name (after earlier valid ones) also changes them.
        Sn.SimFailure = 0;
        for (int i = 2; i < ctx.Count; i++)
        {
            if (ctx.ArgIs(i, "crash-after-election"u8)) Sn.SimFailure |= S.SimFailureCrashAfterElection;
            else if (ctx.ArgIs(i, "crash-after-promotion"u8)) Sn.SimFailure |= S.SimFailureCrashAfterPromotion;
            else if (ctx.ArgIs(i, "help"u8))
            {
                ctx.Reply.WriteArrayHeader(2);
                ctx.Reply.WriteBulk("crash-after-election");
                ctx.Reply.WriteBulk("crash-after-promotion");
                return;
            }
            else { ctx.Reply.WriteError("ERR Unknown failure simulation specified"); return; }
        }
        ctx.Reply.WriteOk();
    }

    private static void PendingScripts(CommandContext ctx)
    {
        long now = S.Now;
        var w = ctx.Reply;
        w.WriteArrayHeader(Sn.Scripts.Count);
        foreach (var j in Sn.Scripts)
        {
            w.WriteMapHeader(5);
            w.WriteBulk("argv");
            w.WriteArrayHeader(j.Args.Length + 1);
            w.WriteBulk(j.Path);
            foreach (var a in j.Args) w.WriteBulk(a);
            w.WriteBulk("flags");
            w.WriteBulk(j.Process is not null ? "running" : "scheduled");
            w.WriteBulk("pid");
            w.WriteBulk((j.Process?.Id ?? 0).ToString());
            if (j.Process is not null) { w.WriteBulk("run-time"); w.WriteBulk((now - j.StartTime).ToString()); }
            else { w.WriteBulk("run-delay"); w.WriteBulk((j.StartTime > now ? j.StartTime - now : 0).ToString()); }
            w.WriteBulk("retry-num");
            w.WriteBulk(j.Retry.ToString());
        }
    }

    /// <summary>SENTINEL DEBUG's parameters, in Redis 7.0's order (names as listed; set with lower case too).</summary>
    private static readonly (string Name, Func<long> Get, Action<long> Set)[] DebugParams =
    [
        ("INFO-PERIOD", () => S.InfoPeriod, v => S.InfoPeriod = v),
        ("PING-PERIOD", () => S.PingPeriod, v => S.PingPeriod = v),
        ("ASK-PERIOD", () => S.AskPeriod, v => S.AskPeriod = v),
        ("PUBLISH-PERIOD", () => S.PublishPeriod, v => S.PublishPeriod = v),
        ("DEFAULT-DOWN-AFTER", () => S.DefaultDownAfter, v => S.DefaultDownAfter = v),
        ("DEFAULT-FAILOVER-TIMEOUT", () => S.DefaultFailoverTimeout, v => S.DefaultFailoverTimeout = v),
        ("TILT-TRIGGER", () => S.TiltTrigger, v => S.TiltTrigger = v),
        ("TILT-PERIOD", () => S.TiltPeriod, v => S.TiltPeriod = v),
        ("SLAVE-RECONF-TIMEOUT", () => S.SlaveReconfTimeout, v => S.SlaveReconfTimeout = v),
        ("MIN-LINK-RECONNECT-PERIOD", () => S.MinLinkReconnectPeriod, v => S.MinLinkReconnectPeriod = v),
        ("ELECTION-TIMEOUT", () => S.ElectionTimeout, v => S.ElectionTimeout = v),
        ("SCRIPT-MAX-RUNTIME", () => S.ScriptMaxRuntime, v => S.ScriptMaxRuntime = v),
        ("SCRIPT-RETRY-DELAY", () => S.ScriptRetryDelay, v => S.ScriptRetryDelay = v),
    ];

    /// <summary>
    /// SENTINEL DEBUG lists the timing parameters (bulk values); SENTINEL DEBUG name value ... sets them (positive
    /// integers). As in Redis, pairs before a bad one stay applied.
    /// </summary>
    private static void Debug(CommandContext ctx)
    {
        if (ctx.Count == 2)
        {
            ctx.Reply.WriteMapHeader(DebugParams.Length);
            foreach (var (name, get, _) in DebugParams) { ctx.Reply.WriteBulk(name); ctx.Reply.WriteBulk(get().ToString()); }
            return;
        }
        for (int i = 2; i < ctx.Count; i++)
        {
            string opt = ctx.ArgString(i);
            int p = ctx.Count - 1 > i ? Array.FindIndex(DebugParams, d => d.Name.Equals(opt, StringComparison.OrdinalIgnoreCase)) : -1;
            if (p < 0)
            {
                ctx.Reply.WriteError($"ERR Unknown option or number of arguments for SENTINEL DEBUG '{opt}'");
                return;
            }
            i++;
            if (!RespNumbers.TryParseInt64(ctx.Arg(i), out long v) || v <= 0)
            {
                ctx.Reply.WriteError($"ERR Invalid argument '{ctx.ArgString(i)}' for SENTINEL DEBUG '{opt}'");
                return;
            }
            DebugParams[p].Set(v);
        }
        ctx.Reply.WriteOk();
    }

    private static void Help(CommandContext ctx)
    {
        string[] lines =
        [
            "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CKQUORUM <master-name>", "CONFIG SET <param> <value>", "CONFIG GET <param>", "DEBUG [<param> <value> ...]",
            "GET-MASTER-ADDR-BY-NAME <master-name>", "FAILOVER <master-name>", "FLUSHCONFIG",
            "INFO-CACHE <master-name>", "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
            "MASTER <master-name>", "MASTERS", "MONITOR <name> <ip> <port> <quorum>", "MYID", "PENDING-SCRIPTS",
            "REMOVE <master-name>", "REPLICAS <master-name>", "RESET <pattern>", "SENTINELS <master-name>",
            "SET <master-name> <option> <value> [<option> <value> ...]", "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
            "HELP",
        ];
        ctx.Reply.WriteArrayHeader(lines.Length);
        foreach (var l in lines) ctx.Reply.WriteSimpleString(l);
    }

    // ---- INFO / ROLE / PUBLISH ----

    private static void Info(CommandContext ctx)
    {
        var names = new List<string>();
        for (int i = 1; i < ctx.Count; i++) names.Add(ctx.ArgString(i).ToLowerInvariant());
        bool all = names.Count == 0 || names.Any(n => n is "default" or "all" or "everything");
        var sections = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var n in new[] { "server", "clients", "stats", "cpu" }) if (all || names.Contains(n)) sections.Add(n);
        string text = sections.Count > 0 ? new Introspection.InfoBuilder(ctx.Server).Build(sections) : "";
        text = text.Replace("redis_mode:standalone", "redis_mode:sentinel");
        if (all || names.Contains("sentinel"))
        {
            var s = Sn;
            var sb = new StringBuilder(text);
            if (sb.Length > 0) sb.Append("\r\n");
            sb.Append("# Sentinel\r\n");
            sb.Append("sentinel_masters:").Append(s.Masters.Count).Append("\r\n");
            sb.Append("sentinel_tilt:").Append(s.Tilt ? 1 : 0).Append("\r\n");
            sb.Append("sentinel_tilt_since_seconds:").Append(s.Tilt ? (S.Now - s.TiltStartTime) / 1000 : -1).Append("\r\n");
            sb.Append("sentinel_running_scripts:").Append(s.RunningScripts).Append("\r\n");
            sb.Append("sentinel_scripts_queue_length:").Append(s.Scripts.Count).Append("\r\n");
            sb.Append("sentinel_simulate_failure_flags:").Append(s.SimFailure).Append("\r\n");
            int i = 0;
            foreach (var m in s.Masters.Values)
            {
                string status = (m.Flags & SriFlags.ODown) != 0 ? "odown" : (m.Flags & SriFlags.SDown) != 0 ? "sdown" : "ok";
                sb.Append($"master{i++}:name={m.Name},status={status},address={m.AnnouncedIp}:{m.Port},slaves={m.Slaves.Count},sentinels={m.Sentinels.Count + 1}\r\n");
            }
            text = sb.ToString();
        }
        ctx.Reply.WriteVerbatim(text);
    }

    private static void Role(CommandContext ctx)
    {
        ctx.Reply.WriteArrayHeader(2);
        ctx.Reply.WriteBulk("sentinel");
        ctx.Reply.WriteArrayHeader(Sn.Masters.Count);
        foreach (var m in Sn.Masters.Values) ctx.Reply.WriteBulk(m.Name);
    }

    private static void Publish(CommandContext ctx)
    {
        if (ctx.ArgString(1) != S.HelloChannel)
        {
            ctx.Reply.WriteError("ERR Only HELLO messages are accepted by Sentinel instances.");
            return;
        }
        Sn.ProcessHello(ctx.ArgString(2));
        ctx.Reply.WriteInteger(1);
    }
}
