using Basalt.Protocol;
using Basalt.Tests.Support;
using Xunit;
using static Basalt.Tests.Sentinel.SentinelGroup;

namespace Basalt.Tests.Sentinel;

/// <summary>
/// SENTINEL command replies next to a real Redis 7.0 sentinel monitoring the same master: field names and order,
/// error strings, the sentinel command set, config directives and the config file.
/// </summary>
public class SentinelCommandTests
{
    private static string Show(RespValue v) => v.ToString();

    [Fact]
    public void SentinelReplies_MatchRedisSentinel()
    {
        // One Redis master and replica; a Basalt sentinel and a Redis sentinel watching them (they see each other).
        using var g = new SentinelGroup(redisServers: true, redisSentinels: [false, true], replicas: 1, quorum: 1);
        g.WaitDiscovery(TimeSpan.FromSeconds(40));
        var basalt = g.Sentinels[0];
        var redis = g.Sentinels[1];

        Assert.Equal(Keys(Call(redis, "SENTINEL", "MASTER", Name)), Keys(Call(basalt, "SENTINEL", "MASTER", Name)));
        Assert.Equal(Keys(Call(redis, "SENTINEL", "REPLICAS", Name).Items![0]), Keys(Call(basalt, "SENTINEL", "REPLICAS", Name).Items![0]));
        Assert.Equal(Keys(Call(redis, "SENTINEL", "SLAVES", Name).Items![0]), Keys(Call(basalt, "SENTINEL", "SLAVES", Name).Items![0]));
        Assert.Equal(Keys(Call(redis, "SENTINEL", "SENTINELS", Name).Items![0]), Keys(Call(basalt, "SENTINEL", "SENTINELS", Name).Items![0]));
        Assert.Equal(Keys(Call(redis, "SENTINEL", "MASTERS").Items![0]), Keys(Call(basalt, "SENTINEL", "MASTERS").Items![0]));
        Assert.Equal(Keys(Call(redis, "SENTINEL", "DEBUG")), Keys(Call(basalt, "SENTINEL", "DEBUG")));

        // Values that must agree: the replica as each sees it, the master record.
        var rb = Map(Call(basalt, "SENTINEL", "REPLICAS", Name).Items![0]);
        var rr = Map(Call(redis, "SENTINEL", "REPLICAS", Name).Items![0]);
        foreach (var k in new[] { "name", "ip", "port", "runid", "flags", "role-reported", "master-link-status", "master-host", "master-port", "slave-priority", "replica-announced" })
            Assert.Equal(rr[k], rb[k]);
        var mb = Map(Call(basalt, "SENTINEL", "MASTER", Name));
        var mr = Map(Call(redis, "SENTINEL", "MASTER", Name));
        foreach (var k in new[] { "name", "ip", "port", "runid", "flags", "num-slaves", "num-other-sentinels", "quorum", "config-epoch", "down-after-milliseconds", "failover-timeout", "parallel-syncs" })
            Assert.Equal(mr[k], mb[k]);

        object[][] same =
        [
            ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", Name],
            ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch"],
            ["SENTINEL", "MASTER", "nosuch"],
            ["SENTINEL", "REPLICAS", "nosuch"],
            ["SENTINEL", "SENTINELS", "nosuch"],
            ["SENTINEL", "CKQUORUM", Name],
            ["SENTINEL", "CKQUORUM", "nosuch"],
            ["SENTINEL", "FAILOVER", "nosuch"],
            ["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", g.Master.Port.ToString(), "0", "*"],
            ["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0", "*"],
            ["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "x", "*"],
            ["SENTINEL", "SET", Name, "quorum", "0"],
            ["SENTINEL", "SET", Name, "foo", "1"],
            ["SENTINEL", "SET", Name, "down-after-milliseconds", "abc"],
            ["SENTINEL", "SET", "nosuch", "quorum", "2"],
            ["SENTINEL", "SET", Name, "notification-script", "/bin/true"],
            ["SENTINEL", "MONITOR", Name, "127.0.0.1", "1", "2"],
            ["SENTINEL", "MONITOR", "x", "127.0.0.1", "1", "0"],
            ["SENTINEL", "MONITOR", "x", "127.0.0.1", "abc", "2"],
            ["SENTINEL", "REMOVE", "nosuch"],
            ["SENTINEL", "RESET", "nomatch*"],
            ["SENTINEL", "SIMULATE-FAILURE", "foo"],
            ["SENTINEL", "SIMULATE-FAILURE", "help"],
            ["SENTINEL", "CONFIG", "GET", "*"],
            ["SENTINEL", "CONFIG", "GET", "foo"],
            ["SENTINEL", "CONFIG", "SET", "foo", "bar"],
            ["SENTINEL", "PENDING-SCRIPTS"],
            ["SENTINEL", "DEBUG"],
            ["SENTINEL", "DEBUG", "foo", "1"],
            ["SENTINEL", "DEBUG", "ping-period"],
            ["SENTINEL", "DEBUG", "ping-period", "0"],
            ["SENTINEL", "DEBUG", "INFO-PERIOD", "abc"],
            ["SENTINEL", "DEBUG", "ask-period", "1000", "tilt-period", "-1"],
            ["SENTINEL", "DEBUG", "ask-period", "1000", "script-retry-delay", "30000"],
            ["SENTINEL", "DEBUG"],
            ["SENTINEL", "MASTERS", "extra"],
            ["SENTINEL"],
            ["SENTINEL", "foo"],
            ["PUBLISH", "foo", "bar"],
            ["GET", "x"],
            ["SET", "x", "1"],
            ["CONFIG", "GET", "port"],
            ["ROLE"],
            ["PING"],
        ];
        using var cb = basalt.Connect();
        using var cr = redis.Connect();
        foreach (var cmd in same)
            Assert.True(Show(cr.Call(cmd)) == Show(cb.Call(cmd)), $"{string.Join(' ', cmd)}: redis {Show(cr.Call(cmd))} basalt {Show(cb.Call(cmd))}");

        // INFO sentinel: the same field names; the master line as Redis writes it.
        string Fields(string info) => string.Join(",", info.Split("\r\n").Where(l => l.Contains(':')).Select(l => l[..l.IndexOf(':')]));
        Assert.Equal(Fields(cr.Call("INFO", "sentinel").Text!), Fields(cb.Call("INFO", "sentinel").Text!));
        string masterLine = $"master0:name={Name},status=ok,address=127.0.0.1:{g.Master.Port},slaves=1,sentinels=2";
        Assert.Contains(masterLine, cb.Call("INFO", "sentinel").Text!);
        Assert.Contains(masterLine, cr.Call("INFO", "sentinel").Text!);
        Assert.Equal(Show(cr.Call("SENTINEL", "MYID")).Length, Show(cb.Call("SENTINEL", "MYID")).Length);

        // SET / MONITOR / REMOVE change state and the file.
        Assert.Equal("OK", cb.Call("SENTINEL", "SET", Name, "down-after-milliseconds", "3000", "parallel-syncs", "2").Text);
        var after = Map(cb.Call("SENTINEL", "MASTER", Name));
        Assert.Equal("3000", after["down-after-milliseconds"]);
        Assert.Equal("2", after["parallel-syncs"]);
        Assert.Contains($"sentinel down-after-milliseconds {Name} 3000", File.ReadAllText(basalt.ConfigPath));
        Assert.Contains($"sentinel parallel-syncs {Name} 2", File.ReadAllText(basalt.ConfigPath));
        Assert.Equal("OK", cb.Call("SENTINEL", "MONITOR", "other", "127.0.0.1", g.Replicas[0].Port.ToString(), "1").Text);
        Assert.Contains($"sentinel monitor other 127.0.0.1 {g.Replicas[0].Port} 1", File.ReadAllText(basalt.ConfigPath));
        Assert.Equal(2, cb.Call("SENTINEL", "MASTERS").Items!.Length);
        Assert.Equal("OK", cb.Call("SENTINEL", "REMOVE", "other").Text);
        Assert.DoesNotContain("sentinel monitor other", File.ReadAllText(basalt.ConfigPath));
        Assert.Equal(1, cb.Call("SENTINEL", "MASTERS").Items!.Length);
        var cache = cb.Call("SENTINEL", "INFO-CACHE", Name).Items!;
        Assert.Equal(Name, cache[0].Text);
        Assert.Contains("role:master", cache[1].Items![0].Items![1].Text);
    }

    [Fact]
    public void ConfigFile_BadSentinelDirective_ExitsWithRedisError()
    {
        var dir = Directory.CreateTempSubdirectory("sentinel-conf-").FullName;
        try
        {
            string conf = Path.Combine(dir, "s.conf");
            File.WriteAllText(conf, "port 0\nsentinel monitor m 127.0.0.1 6379 0\n");
            var r = Tools.Run(Path.Combine(ServerProcess.RepoRoot, "bin", "basalt-sentinel"), [conf], timeoutMs: 60_000);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("at line 2", r.StdErr);
            Assert.Contains("Quorum must be 1 or greater.", r.StdErr);

            File.WriteAllText(conf, "port 0\nsentinel bogus\n");
            r = Tools.Run(Path.Combine(ServerProcess.RepoRoot, "bin", "basalt-sentinel"), [conf], timeoutMs: 60_000);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("Unrecognized sentinel configuration statement.", r.StdErr);

            // Not in sentinel mode, the directive is refused as by redis-server.
            File.WriteAllText(conf, "sentinel monitor m 127.0.0.1 6379 2\n");
            r = Tools.Run(Path.Combine(ServerProcess.RepoRoot, "bin", "basalt-server"), [conf], timeoutMs: 60_000);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("sentinel directive while not in sentinel mode", r.StdErr);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MyId_IsGeneratedOnce_AndKeptAcrossRestarts()
    {
        string myid;
        int port;
        string copy = Path.Combine(Directory.CreateTempSubdirectory("sentinel-myid-").FullName, "sentinel.conf");
        using (var s = ServerProcess.StartSentinel(false, "sentinel monitor m 127.0.0.1 1 2\n"))
        {
            port = s.Port;
            myid = Call(s, "SENTINEL", "MYID").Text!;
            Assert.Matches("^[0-9a-f]{40}$", myid);
            var conf = File.ReadAllText(s.ConfigPath);
            Assert.Contains("sentinel myid " + myid, conf);
            Assert.Contains("sentinel monitor m 127.0.0.1 1 2", conf);
            Assert.Contains("sentinel current-epoch 0", conf);
            Assert.Equal("OK", Call(s, "SENTINEL", "FLUSHCONFIG").Text);
            File.Copy(s.ConfigPath, copy);
        }
        using (var s = ServerProcess.StartSentinelFromFile(false, copy, port))
        {
            Assert.Equal(myid, Call(s, "SENTINEL", "MYID").Text);
            var role = Call(s, "ROLE").Items!;
            Assert.Equal("sentinel", role[0].Text);
            Assert.Equal("m", role[1].Items![0].Text);
            // One myid line, not one per rewrite.
            Assert.Equal(1, File.ReadAllText(copy).Split('\n').Count(l => l.StartsWith("sentinel myid")));
        }
    }
}

/// <summary>SENTINEL FAILOVER without agreement, with the notification and client reconfiguration scripts.</summary>
public class SentinelForcedFailoverTests
{
    [Fact]
    public void ForcedFailover_RunsScripts_AndSwitchesMaster()
    {
        var dir = Directory.CreateTempSubdirectory("sentinel-scripts-").FullName;
        string notify = Path.Combine(dir, "notify.sh"), reconf = Path.Combine(dir, "reconf.sh");
        File.WriteAllText(notify, $"#!/bin/sh\necho \"$@\" >> {dir}/notify.log\n");
        File.WriteAllText(reconf, $"#!/bin/sh\necho \"$@\" >> {dir}/reconf.log\n");
        File.SetUnixFileMode(notify, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(reconf, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            using var g = new SentinelGroup(redisServers: false, redisSentinels: [false], quorum: 1,
                extraConf: $"sentinel notification-script {Name} {notify}\nsentinel client-reconfig-script {Name} {reconf}\n");
            g.WaitDiscovery(TimeSpan.FromSeconds(40));
            var s = g.Sentinels[0];
            using var ev = new EventLog(s);
            // Right after discovery the replicas may have no INFO yet: NOGOODSLAVE until they do.
            Tools.WaitUntil(() => Call(s, "SENTINEL", "FAILOVER", Name).Text == "OK", TimeSpan.FromSeconds(30), "a replica to promote");
            Assert.Equal("INPROG Failover already in progress", Call(s, "SENTINEL", "FAILOVER", Name).Text);
            Tools.WaitUntil(() => ev.Has("+switch-master"), TimeSpan.FromSeconds(60), "+switch-master\n" + ev.Dump());
            int newPort = g.MasterPortSeenBy(s);
            Assert.Contains(newPort, g.Replicas.Select(r => r.Port));
            Assert.True(ev.Has("+elected-leader"), ev.Dump());
            Assert.True(ev.Has("+promoted-slave"), ev.Dump());
            Assert.True(ev.Has("+failover-end"), ev.Dump());
            // The old master is still alive: it is turned into a replica of the promoted one.
            Tools.WaitUntil(() =>
            {
                // The sentinel reconfigures it with CLIENT KILL TYPE normal, which may cut this poll's connection.
                try
                {
                    var role = Call(g.Master, "ROLE").Items!;
                    return role[0].Text == "slave" && role[2].Integer == newPort;
                }
                catch (IOException) { return false; }
            }, TimeSpan.FromSeconds(60), "old master follows the new one");
            Tools.WaitUntil(() => File.Exists(Path.Combine(dir, "reconf.log")) && File.Exists(Path.Combine(dir, "notify.log"))
                && File.ReadAllText(Path.Combine(dir, "notify.log")).Contains("+switch-master"), TimeSpan.FromSeconds(20), "scripts ran");
            Assert.Contains($"{Name} leader start 127.0.0.1 {g.Master.Port} 127.0.0.1 {newPort}", File.ReadAllText(Path.Combine(dir, "reconf.log")));
            Assert.Contains($"+switch-master {Name} 127.0.0.1 {g.Master.Port} 127.0.0.1 {newPort}", File.ReadAllText(Path.Combine(dir, "notify.log")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
