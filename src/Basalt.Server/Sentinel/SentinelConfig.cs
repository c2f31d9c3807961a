using System.Globalization;
using System.Text;
using Basalt.Server.Config;

namespace Basalt.Server.SentinelMode;

/// <summary>"sentinel ..." directives of the config file, and the rewrite (atomic, fsynced) after every state change.</summary>
public sealed partial class Sentinel
{
    private static bool TryLong(string s, out long v) => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v);

    /// <summary>Applies one config line's arguments (after "sentinel"); returns Redis's error text or null.</summary>
    public string? ApplyDirective(string[] a)
    {
        if (a.Length == 0) return "Unrecognized sentinel configuration statement.";
        string cmd = a[0].ToLowerInvariant();
        SentinelInstance? M(int i) => a.Length > i && Masters.TryGetValue(a[i], out var m) ? m : null;
        const string noMaster = "No such master with specified name.";
        switch (cmd)
        {
            case "monitor" when a.Length == 5:
            {
                if (!int.TryParse(a[4], out int quorum) || quorum <= 0) return "Quorum must be 1 or greater.";
                if (!int.TryParse(a[3], out int port) || port <= 0 || port > 65535) return "Invalid port number";
                if (Masters.ContainsKey(a[1])) return "Duplicate master name.";
                CreateMaster(a[1], a[2], port, quorum);
                return null;
            }
            case "down-after-milliseconds" when a.Length == 3:
            {
                var m = M(1); if (m is null) return noMaster;
                if (!TryLong(a[2], out long v) || v <= 0) return "negative or zero time parameter.";
                m.DownAfterPeriod = v;
                foreach (var s in m.Slaves.Values) s.DownAfterPeriod = v;
                foreach (var s in m.Sentinels.Values) s.DownAfterPeriod = v;
                return null;
            }
            case "failover-timeout" when a.Length == 3:
            {
                var m = M(1); if (m is null) return noMaster;
                if (!TryLong(a[2], out long v) || v <= 0) return "negative or zero time parameter.";
                m.FailoverTimeout = v;
                return null;
            }
            case "parallel-syncs" when a.Length == 3:
            {
                var m = M(1); if (m is null) return noMaster;
                m.ParallelSyncs = int.TryParse(a[2], out int v) ? v : 0;
                return null;
            }
            case "notification-script" when a.Length == 3:
            case "client-reconfig-script" when a.Length == 3:
            {
                var m = M(1); if (m is null) return noMaster;
                if (!IsExecutable(a[2]))
                    return cmd == "notification-script" ? "Notification script seems non existing or non executable."
                        : "Client reconfiguration script seems non existing or non executable.";
                if (cmd == "notification-script") m.NotificationScript = a[2]; else m.ClientReconfigScript = a[2];
                return null;
            }
            case "auth-pass" when a.Length == 3: { var m = M(1); if (m is null) return noMaster; m.AuthPass = a[2]; return null; }
            case "auth-user" when a.Length == 3: { var m = M(1); if (m is null) return noMaster; m.AuthUser = a[2]; return null; }
            case "current-epoch" when a.Length == 2:
                if (TryLong(a[1], out long ce) && ce > CurrentEpoch) CurrentEpoch = ce;
                return null;
            case "myid" when a.Length == 2:
                if (a[1].Length != 40) return "Malformed Sentinel id in myid option.";
                MyId = a[1];
                return null;
            case "config-epoch" when a.Length == 3:
            {
                var m = M(1); if (m is null) return noMaster;
                TryLong(a[2], out m.ConfigEpoch);
                if (m.ConfigEpoch > CurrentEpoch) CurrentEpoch = m.ConfigEpoch;
                return null;
            }
            case "leader-epoch" when a.Length == 3:
            {
                var m = M(1); if (m is null) return noMaster;
                TryLong(a[2], out m.LeaderEpoch);
                return null;
            }
            case "known-slave" or "known-replica" when a.Length == 4:
            {
                var m = M(1); if (m is null) return noMaster;
                if (!int.TryParse(a[3], out int port)) return "Wrong hostname or port for replica.";
                string key = a[2] + ":" + port;
                if (!m.Slaves.ContainsKey(key)) m.Slaves[key] = new SentinelInstance(SriFlags.Slave, key, a[2], port, m);
                return null;
            }
            case "known-sentinel" when a.Length is 4 or 5:
            {
                var m = M(1); if (m is null) return noMaster;
                if (!int.TryParse(a[3], out int port)) return "Wrong hostname or port for sentinel.";
                string? runid = a.Length == 5 ? a[4] : null;
                var s = new SentinelInstance(SriFlags.Sentinel, runid ?? (a[2] + ":" + port), a[2], port, m) { RunId = runid };
                m.Sentinels[s.Name] = s;
                return null;
            }
            case "rename-command" when a.Length == 4:
            {
                var m = M(1); if (m is null) return noMaster;
                m.RenamedCommands[a[2]] = a[3];
                return null;
            }
            case "announce-ip" when a.Length == 2: AnnounceIp = a[1].Length == 0 ? null : a[1]; return null;
            case "announce-port" when a.Length == 2: AnnouncePort = int.TryParse(a[1], out int ap) ? ap : 0; return null;
            case "deny-scripts-reconfig" when a.Length == 2:
                if (YesNo(a[1]) is not bool d) return "Please specify yes or no for the deny-scripts-reconfig options.";
                DenyScriptsReconfig = d;
                return null;
            case "resolve-hostnames" when a.Length == 2:
                if (YesNo(a[1]) is not bool rh) return "Please specify yes or no for the resolve-hostnames option.";
                ResolveHostnames = rh;
                return null;
            case "announce-hostnames" when a.Length == 2:
                if (YesNo(a[1]) is not bool ah) return "Please specify yes or no for the announce-hostnames option.";
                AnnounceHostnames = ah;
                return null;
            case "sentinel-user" when a.Length == 2: SentinelUser = a[1].Length == 0 ? null : a[1]; return null;
            case "sentinel-pass" when a.Length == 2: SentinelPass = a[1].Length == 0 ? null : a[1]; return null;
            case "master-reboot-down-after-period" when a.Length == 3:
            {
                var m = M(1); if (m is null) return noMaster;
                if (!TryLong(a[2], out long v) || v < 0) return "negative time parameter.";
                m.MasterRebootDownAfterPeriod = v;
                return null;
            }
        }
        return "Unrecognized sentinel configuration statement.";
    }

    private static bool? YesNo(string s) => s.ToLowerInvariant() switch { "yes" => true, "no" => false, _ => null };

    public static bool IsExecutable(string path) =>
        File.Exists(path) && !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    public SentinelInstance CreateMaster(string name, string ip, int port, int quorum)
    {
        var (addr, host) = ResolveAddress(ip);
        var m = new SentinelInstance(SriFlags.Master, name, addr, port, null) { Quorum = quorum, Hostname = host };
        Masters[name] = m;
        return m;
    }

    /// <summary>
    /// A host name is resolved (IPv4) when resolve-hostnames is yes: (address, host name). Otherwise, or when it does
    /// not resolve, the text is kept as the address.
    /// </summary>
    public (string Ip, string? Hostname) ResolveAddress(string host)
    {
        if (System.Net.IPAddress.TryParse(host, out _) || !ResolveHostnames) return (host, null);
        try
        {
            var a = System.Net.Dns.GetHostAddresses(host, System.Net.Sockets.AddressFamily.InterNetwork);
            return a.Length > 0 ? (a[0].ToString(), host) : (host, null);
        }
        catch (Exception) { return (host, null); }
    }

    /// <summary>The sentinel's lines in Redis's order; key = "sentinel &lt;option&gt;" for slot reuse.</summary>
    private List<(string Key, string Line)> SentinelLines()
    {
        var r = new List<(string, string)>();
        void Add(string opt, string rest) => r.Add(("sentinel " + opt, "sentinel " + opt + " " + rest));
        Add("myid", MyId);
        if (!DenyScriptsReconfig) Add("deny-scripts-reconfig", "no");
        if (ResolveHostnames) Add("resolve-hostnames", "yes");
        if (AnnounceHostnames) Add("announce-hostnames", "yes");
        if (SentinelUser is not null) Add("sentinel-user", SentinelUser);
        if (SentinelPass is not null) Add("sentinel-pass", SentinelPass);
        foreach (var m in Masters.Values)
        {
            // During a failover the promoted replica is already the master for the record.
            var addr = m.CurrentAddress;
            Add("monitor", $"{m.Name} {addr.ConfigIp} {addr.Port} {m.Quorum}");
            if (m.DownAfterPeriod != DefaultDownAfter) Add("down-after-milliseconds", $"{m.Name} {m.DownAfterPeriod}");
            if (m.FailoverTimeout != DefaultFailoverTimeout) Add("failover-timeout", $"{m.Name} {m.FailoverTimeout}");
            if (m.ParallelSyncs != 1) Add("parallel-syncs", $"{m.Name} {m.ParallelSyncs}");
            if (m.NotificationScript is not null) Add("notification-script", $"{m.Name} {m.NotificationScript}");
            if (m.ClientReconfigScript is not null) Add("client-reconfig-script", $"{m.Name} {m.ClientReconfigScript}");
            if (m.AuthPass is not null) Add("auth-pass", $"{m.Name} {m.AuthPass}");
            if (m.AuthUser is not null) Add("auth-user", $"{m.Name} {m.AuthUser}");
            if (m.MasterRebootDownAfterPeriod != 0) Add("master-reboot-down-after-period", $"{m.Name} {m.MasterRebootDownAfterPeriod}");
            Add("config-epoch", $"{m.Name} {m.ConfigEpoch}");
            Add("leader-epoch", $"{m.Name} {m.LeaderEpoch}");
            foreach (var s in m.Slaves.Values)
            {
                var (ip, port) = (s.Ip, s.Port);
                if (addr != m && s == addr) (ip, port) = (m.ConfigIp, m.Port);
                Add("known-replica", $"{m.Name} {ip} {port}");
            }
            foreach (var s in m.Sentinels.Values)
                if (s.RunId is not null) Add("known-sentinel", $"{m.Name} {s.Ip} {s.Port} {s.RunId}");
            foreach (var (from, to) in m.RenamedCommands) Add("rename-command", $"{m.Name} {from} {to}");
        }
        Add("current-epoch", CurrentEpoch.ToString());
        if (AnnounceIp is not null) Add("announce-ip", AnnounceIp);
        if (AnnouncePort != 0) Add("announce-port", AnnouncePort.ToString());
        return r;
    }

    /// <summary>Rewrites the config file now; errors are logged (Redis warns and goes on).</summary>
    public bool FlushConfig()
    {
        try
        {
            WriteConfig();
            return true;
        }
        catch (Exception ex)
        {
            Log.Warning("WARNING: Sentinel was not able to save the new configuration on disk!!!: " + ex.Message);
            return false;
        }
    }

    public void WriteConfig()
    {
        string path = _server.Config.ConfigFile!;
        string old = File.Exists(path) ? File.ReadAllText(path) : "";
        string text = ConfigRewrite.Build(_server.Config, old);
        var lines = text.Split('\n').Select(l => (string?)l).ToList();
        while (lines.Count > 0 && lines[^1]!.Length == 0) lines.RemoveAt(lines.Count - 1);
        // Old "sentinel <option>" lines are slots reused in order by the new lines of the same option.
        var slots = new Dictionary<string, Queue<int>>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < lines.Count; i++)
        {
            var argv = ConfigFileParser.SplitArgs(lines[i]!);
            if (argv is not { Count: >= 2 } || !argv[0].Equals("sentinel", StringComparison.OrdinalIgnoreCase)) continue;
            string opt = argv[1].ToLowerInvariant();
            if (opt == "known-slave") opt = "known-replica";
            string key = "sentinel " + opt;
            if (!slots.TryGetValue(key, out var q)) slots[key] = q = new();
            q.Enqueue(i);
            lines[i] = null;
        }
        var appended = new List<string>();
        foreach (var (key, line) in SentinelLines())
        {
            if (slots.TryGetValue(key, out var q) && q.Count > 0) lines[q.Dequeue()] = line;
            else appended.Add(line);
        }
        if (appended.Count > 0 && !lines.Contains(ConfigRewrite.Signature)) lines.Add(ConfigRewrite.Signature);
        lines.AddRange(appended);
        var sb = new StringBuilder();
        foreach (var l in lines) if (l is not null) sb.Append(l).Append('\n');

        string tmp = path + ".tmp-" + Environment.ProcessId;
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            var bytes = Encoding.UTF8.GetBytes(sb.ToString());
            fs.Write(bytes);
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
