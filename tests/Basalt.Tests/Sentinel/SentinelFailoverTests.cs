using Basalt.Tests.Support;
using Xunit;
using static Basalt.Tests.Sentinel.SentinelGroup;

namespace Basalt.Tests.Sentinel;

/// <summary>
/// Failovers with real processes: Basalt sentinels over Basalt servers, over real Redis servers, real Redis
/// sentinels over Basalt servers, and a mixed Basalt/Redis sentinel group.
/// </summary>
public class SentinelFailoverTests
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
        using var ev = new EventLog(g.Sentinels[0]);
        int oldPort = g.KillMaster();
        Tools.WaitUntil(() => ev.Has("+switch-master"), Long, "+switch-master\n" + ev.Dump());
        Assert.True(ev.Has("+sdown", $"master {Name} 127.0.0.1 {oldPort}"), ev.Dump());
        Assert.True(ev.Has("+odown", $"master {Name} 127.0.0.1 {oldPort} #quorum"), ev.Dump());
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

    [Fact]
    public void RepeatedFailovers_KeepSentinelStateConsistent()
    {
        using var g = new SentinelGroup(redisServers: false, redisSentinels: [false, false, false]);
        var rejoined = new List<ServerProcess>();
        try
        {
            for (int round = 1; round <= 2; round++)
            {
                var (oldPort, newPort) = FailOver(g);
                var old = OldMasterRejoins(g, oldPort, newPort);
                rejoined.Add(old);
                // The promoted replica is the master now; the restarted old master is a replica.
                var promoted = g.Replicas.Single(r => r.Port == newPort);
                g.Replicas.Remove(promoted);
                g.Replicas.Add(old);
                g.Master = promoted;
                foreach (var s in g.Sentinels)
                    Tools.WaitUntil(() => Map(Call(s, "SENTINEL", "MASTER", Name))["config-epoch"] == round.ToString(), Long, "epoch " + round);
            }
        }
        finally
        {
            foreach (var r in rejoined) if (!g.Replicas.Contains(r) && r != g.Master) r.Dispose();
        }
    }
}
