using Basalt.Tests.Support;
using Xunit;
using static Basalt.Tests.Sentinel.SentinelGroup;

namespace Basalt.Tests.Sentinel;

/// <summary>
/// Failovers with real processes: Basalt sentinels over Basalt servers, over real Redis servers, real Redis
/// sentinels over Basalt servers, and a mixed Basalt/Redis sentinel group.
/// </summary>
public class SentinelFailoverTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    /// <summary>
    /// kill -9 of the master: +odown, +switch-master, every sentinel reports the promoted replica, the other replica
    /// follows it, writes work on it; returns (old port, new port).
    /// </summary>
    internal static (int OldPort, int NewPort) FailOver(SentinelGroup g)
    {
        g.WaitDiscovery(TimeSpan.FromSeconds(40));
        using (var m = g.Master.Connect()) Assert.Equal("OK", m.Call("SET", "sentinel:before", "1").Text);
        foreach (var r in g.Replicas)
            Tools.WaitUntil(() => Call(r, "GET", "sentinel:before").Text == "1", Long, "write replicated before the kill");
        var logs = g.Sentinels.Select(s => new EventLog(s)).ToList();
        using var ev = logs[0];
        int oldPort = g.KillMaster();
        Tools.WaitUntil(() => ev.Has("+switch-master"), Long, "+switch-master\n" + ev.Dump());
        Assert.True(ev.Has("+sdown", $"master {Name} 127.0.0.1 {oldPort}"), ev.Dump());
        // The leader saw ODOWN; a sentinel slower to agree may learn the new configuration from it first.
        Assert.Contains(logs, l => l.Has("+odown", $"master {Name} 127.0.0.1 {oldPort} #quorum"));
        foreach (var l in logs.Skip(1)) l.Dispose();
        var sw = ev.Events.First(e => e.Channel == "+switch-master").Message.Split(' ');
        Assert.Equal([Name, "127.0.0.1", oldPort.ToString(), "127.0.0.1"], sw[..4]);
        int newPort = int.Parse(sw[4]);
        Assert.Contains(newPort, g.Replicas.Select(r => r.Port));

        Tools.WaitUntil(() => g.Sentinels.All(s => g.MasterPortSeenBy(s) == newPort), Long, "all sentinels switched");
        var promoted = g.Replicas.Single(r => r.Port == newPort);
        Assert.Equal("master", Call(promoted, "ROLE").Items![0].Text);
        Assert.Equal("1", Call(promoted, "GET", "sentinel:before").Text);
        Assert.Equal("OK", Call(promoted, "SET", "sentinel:after", "2").Text);
        foreach (var other in g.Replicas.Where(r => r.Port != newPort))
        {
            Tools.WaitUntil(() =>
            {
                try
                {
                    var role = Call(other, "ROLE").Items!;
                    return role[0].Text == "slave" && role[2].Integer == newPort && role[3].Text == "connected";
                }
                catch (IOException)
                {
                    return false; // reconfigured replicas kill their normal clients
                }
            }, Long, "the other replica follows the new master");
            Tools.WaitUntil(() => Call(other, "GET", "sentinel:after").Text == "2", Long, "replicated write");
        }
        return (oldPort, newPort);
    }

    internal static ServerProcess OldMasterRejoins(SentinelGroup g, int oldPort, int newPort)
    {
        var old = g.RestartOnPort(oldPort);
        Tools.WaitUntil(() =>
        {
            try
            {
                var role = Call(old, "ROLE").Items!;
                return role[0].Text == "slave" && role[2].Integer == newPort;
            }
            catch (IOException)
            {
                return false; // the reconfiguration ends with CLIENT KILL TYPE normal, which may close this poll
            }
        }, Long, "old master converted to a replica of the new one");
        return old;
    }

    [Fact]
    public void BasaltGroup_FailsOver_OldMasterRejoins_RestartedSentinelResumes()
    {
        using var g = new SentinelGroup(redisServers: false, redisSentinels: [false, false, false]);
        g.WaitDiscovery(TimeSpan.FromSeconds(40));
        foreach (var s in g.Sentinels)
        {
            var replicas = Call(s, "SENTINEL", "REPLICAS", Name).Items!.Select(r => Map(r)).ToList();
            Assert.Equal(g.Replicas.Select(r => r.Port.ToString()).Order(), replicas.Select(r => r["port"]).Order());
            Assert.All(replicas, r => Assert.Equal("slave", r["flags"]));
            var sentinels = Call(s, "SENTINEL", "SENTINELS", Name).Items!.Select(r => Map(r)).ToList();
            Assert.Equal(g.Sentinels.Where(o => o != s).Select(o => o.Port.ToString()).Order(), sentinels.Select(x => x["port"]).Order());
        }

        var (oldPort, newPort) = FailOver(g);
        using var old = OldMasterRejoins(g, oldPort, newPort);

        // Every sentinel's config records the new master, the epochs, the replicas (old master included) and the others.
        foreach (var s in g.Sentinels)
        {
            Tools.WaitUntil(() => File.ReadAllText(s.ConfigPath).Contains($"sentinel known-replica {Name} 127.0.0.1 {oldPort}"), Long, "config rewritten");
            var conf = File.ReadAllText(s.ConfigPath);
            Assert.Contains($"sentinel monitor {Name} 127.0.0.1 {newPort} 2", conf);
            Assert.Contains($"sentinel config-epoch {Name} 1", conf);
            Assert.Contains("sentinel current-epoch 1", conf);
            Assert.Matches(@"sentinel myid [0-9a-f]{40}", conf);
            Assert.Equal(2, conf.Split('\n').Count(l => l.StartsWith($"sentinel known-sentinel {Name} 127.0.0.1 ")));
        }

        // A sentinel restarted from its file resumes with what it knew.
        var victim = g.Sentinels[2];
        string myid = Call(victim, "SENTINEL", "MYID").Text!;
        int port = victim.Port;
        victim.Signal("KILL");
        victim.WaitForExit(TimeSpan.FromSeconds(10));
        string copy = Path.Combine(Directory.CreateTempSubdirectory("sentinel-restart-").FullName, "sentinel.conf");
        File.Copy(victim.ConfigPath, copy);
        victim.Dispose();
        var restarted = ServerProcess.StartSentinelFromFile(false, copy, port);
        g.Sentinels[2] = restarted;
        Assert.Equal(myid, Call(restarted, "SENTINEL", "MYID").Text);
        var master = Map(Call(restarted, "SENTINEL", "MASTER", Name));
        Assert.Equal(newPort.ToString(), master["port"]);
        Assert.Equal("1", master["config-epoch"]);
        Assert.Equal("2", master["num-other-sentinels"]);
        Assert.Equal("2", master["num-slaves"]);
        Tools.WaitUntil(() => Map(Call(restarted, "SENTINEL", "MASTER", Name))["flags"] == "master", Long, "restarted sentinel sees the master");
    }

    [Fact]
    public void BasaltSentinels_MonitoringRedisServers_FailOver()
    {
        using var g = new SentinelGroup(redisServers: true, redisSentinels: [false, false, false]);
        var (oldPort, newPort) = FailOver(g);
        using var old = OldMasterRejoins(g, oldPort, newPort);
    }

    [Fact]
    public void RedisSentinels_MonitoringBasaltServers_FailOver()
    {
        using var g = new SentinelGroup(redisServers: false, redisSentinels: [true, true, true]);
        var (oldPort, newPort) = FailOver(g);
        using var old = OldMasterRejoins(g, oldPort, newPort);
    }

    [Fact]
    public void MixedSentinelGroup_AgreesAndFailsOver()
    {
        // Two Basalt sentinels and one real Redis sentinel: they discover each other through hello messages,
        // vote with IS-MASTER-DOWN-BY-ADDR and converge on the new configuration.
        using var g = new SentinelGroup(redisServers: false, redisSentinels: [false, true, false]);
        var (oldPort, newPort) = FailOver(g);
        // GET-MASTER-ADDR-BY-NAME already answers the promoted replica while replicas are reconfigured; MASTER
        // switches at the end of the failover.
        foreach (var s in g.Sentinels)
            Tools.WaitUntil(() =>
            {
                var m = Map(Call(s, "SENTINEL", "MASTER", Name));
                return m["port"] == newPort.ToString() && m["config-epoch"] == "1";
            }, Long, "sentinel switched its master record");
    }

    /// <summary>
    /// kill -9 of the master, failover, restart of the old master (it rejoins as a replica), N times
    /// (BASALT_SENTINEL_ROUNDS, default 4). After every round: the epochs grew, every sentinel agrees on the master, and
    /// each one's rewritten config file still lists every replica and every other sentinel, with its own id unchanged.
    /// </summary>
    [Fact]
    public void RepeatedFailovers_KeepSentinelStateConsistent()
    {
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("BASALT_SENTINEL_ROUNDS"), out int n) && n > 0 ? n : 4;
        using var g = new SentinelGroup(redisServers: false, redisSentinels: [false, false, false]);
        // Faster INFO and hellos: a restarted old master is converted after publish-period*4 of reporting "master".
        foreach (var s in g.Sentinels) Assert.Equal("OK", Call(s, "SENTINEL", "DEBUG", "info-period", "1000", "publish-period", "1000").Text);
        var ids = g.Sentinels.ToDictionary(s => s.Port, s => Call(s, "SENTINEL", "MYID").Text!);
        var rejoined = new List<ServerProcess>();
        long lastEpoch = 0;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            for (int round = 1; round <= rounds; round++)
            {
                long t0 = sw.ElapsedMilliseconds;
                var (oldPort, newPort) = FailOver(g);
                long t1 = sw.ElapsedMilliseconds;
                var old = OldMasterRejoins(g, oldPort, newPort);
                rejoined.Add(old);
                output.WriteLine($"round {round}: failover {t1 - t0} ms, old master rejoined {sw.ElapsedMilliseconds - t1} ms");
                var promoted = g.Replicas.Single(r => r.Port == newPort);
                g.Replicas.Remove(promoted);
                g.Replicas.Add(old);
                g.Master = promoted;
                using (var m = promoted.Connect())
                {
                    Assert.Equal("OK", m.Call("SET", "loop:" + round, "1").Text);
                    Assert.Equal(2, m.Call("WAIT", "2", "10000").Integer);
                }

                // Every sentinel: the same master and config epoch, a newer epoch than last round, all peers known.
                var replicaPorts = g.Replicas.Select(r => r.Port.ToString()).Order().ToList();
                foreach (var s in g.Sentinels)
                    Tools.WaitUntil(() =>
                    {
                        var m = Map(Call(s, "SENTINEL", "MASTER", Name));
                        return m["port"] == newPort.ToString() && long.Parse(m["config-epoch"]) > lastEpoch && m["num-slaves"] == "2"
                            && Call(s, "SENTINEL", "REPLICAS", Name).Items!.Select(r => Map(r)["port"]).Order().SequenceEqual(replicaPorts);
                    }, Long, $"round {round}: sentinel {s.Port} state");
                var epochs = g.Sentinels.Select(s => Map(Call(s, "SENTINEL", "MASTER", Name))["config-epoch"]).Distinct().ToList();
                Assert.Single(epochs);
                long epoch = long.Parse(epochs[0]);
                foreach (var s in g.Sentinels)
                {
                    Assert.Equal(ids[s.Port], Call(s, "SENTINEL", "MYID").Text);
                    var others = Call(s, "SENTINEL", "SENTINELS", Name).Items!.Select(x => Map(x)).ToList();
                    Assert.Equal(g.Sentinels.Where(o => o != s).Select(o => ids[o.Port]).Order(), others.Select(o => o["runid"]).Order());
                    Tools.WaitUntil(() =>
                    {
                        var lines = File.ReadAllLines(s.ConfigPath);
                        return lines.Contains($"sentinel monitor {Name} 127.0.0.1 {newPort} 2")
                            && lines.Contains($"sentinel config-epoch {Name} {epoch}")
                            && lines.Where(l => l.StartsWith($"sentinel known-replica {Name} ")).Select(l => l.Split(' ')[4]).Order().SequenceEqual(replicaPorts)
                            && lines.Count(l => l.StartsWith($"sentinel known-sentinel {Name} ")) == 2
                            && g.Sentinels.Where(o => o != s).All(o => lines.Contains($"sentinel known-sentinel {Name} 127.0.0.1 {o.Port} {ids[o.Port]}"))
                            && lines.Single(l => l.StartsWith("sentinel myid ")) == "sentinel myid " + ids[s.Port]
                            && long.Parse(lines.Single(l => l.StartsWith("sentinel current-epoch ")).Split(' ')[2]) >= epoch;
                    }, Long, $"round {round}: {s.Port}'s config file\n" + File.ReadAllText(s.ConfigPath));
                }
                lastEpoch = epoch;
                output.WriteLine($"round {round}: epoch {epoch}, state checked at {sw.ElapsedMilliseconds - t0} ms");
            }
            // Every acknowledged (WAIT-confirmed) write of every round is still there.
            using var final = g.Master.Connect();
            for (int round = 1; round <= rounds; round++) Assert.Equal("1", final.Call("GET", "loop:" + round).Text);
        }
        finally
        {
            foreach (var r in rejoined) if (!g.Replicas.Contains(r) && r != g.Master) r.Dispose();
        }
    }
}
