using Basalt.Tests.Support;
using Xunit;
using static Basalt.Tests.Sentinel.SentinelGroup;

namespace Basalt.Tests.Sentinel;

/// <summary>
/// TILT mode, SIMULATE-FAILURE, master-reboot-down-after-period, script retries and unannounced replicas. Each runs
/// against a Basalt sentinel and a real Redis 7.0 sentinel (redis = true) so the expectations are Redis's own;
/// SENTINEL DEBUG shortens Redis's timing parameters to keep them fast.
/// </summary>
public class SentinelModeTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private static int IndexOf(EventLog ev, string channel) =>
        ev.Events.Select((e, i) => (e, i)).FirstOrDefault(x => x.e.Channel == channel, (default, -1)).Item2;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ClockJump_EntersTilt_AndActsOnlyAfterTiltPeriod(bool redis)
    {
        using var master = ServerProcess.StartBasalt();
        using var s = ServerProcess.StartSentinel(redis,
            $"sentinel monitor {Name} 127.0.0.1 {master.Port} 1\nsentinel down-after-milliseconds {Name} 1000\n");
        Tools.WaitUntil(() => Map(Call(s, "SENTINEL", "MASTER", Name))["runid"].Length == 40, Long, "master info");
        Assert.Equal("OK", Call(s, "SENTINEL", "DEBUG", "tilt-period", "4000").Text);
        Assert.Equal("4000", Map(Call(s, "SENTINEL", "DEBUG"))["TILT-PERIOD"]);
        Assert.Contains("sentinel_tilt:0", Call(s, "INFO", "sentinel").Text);
        using var ev = new EventLog(s);

        // A stopped process sees its timer jump by more than tilt-trigger (2 s).
        s.Signal("STOP");
        Thread.Sleep(3000);
        s.Signal("CONT");
        Tools.WaitUntil(() => ev.Has("+tilt", "#tilt mode entered"), Long, "+tilt\n" + ev.Dump());
        var info = Call(s, "INFO", "sentinel").Text!;
        Assert.Contains("sentinel_tilt:1", info);
        Assert.DoesNotContain("sentinel_tilt_since_seconds:-1", info);

        // The master dies during TILT: no verdict until TILT ends, then SDOWN as usual.
        master.Signal("KILL");
        Tools.WaitUntil(() => ev.Has("+sdown"), Long, "+sdown\n" + ev.Dump());
        Assert.True(ev.Has("-tilt", "#tilt mode exited"), ev.Dump());
        Assert.True(IndexOf(ev, "-tilt") < IndexOf(ev, "+sdown"), ev.Dump());
        var tiltAt = ev.Events.First(e => e.Channel == "+tilt").At;
        var untiltAt = ev.Events.First(e => e.Channel == "-tilt").At;
        Assert.InRange((untiltAt - tiltAt).TotalMilliseconds, 3500, 8000);
        Assert.Contains("sentinel_tilt:0", Call(s, "INFO", "sentinel").Text);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SimulatedCrashes_AfterElectionAndAfterPromotion_RestartedSentinelCompletes(bool redis)
    {
        using var g = new SentinelGroup(redisServers: false, redisSentinels: [redis], quorum: 1);
        var crashed = new List<ServerProcess>();
        try
        {
            g.WaitDiscovery(Long);
            var s = g.Sentinels[0];
            int port = s.Port;
            string conf = s.ConfigPath; // restarts keep using (and rewriting) the first process's file
            Assert.Equal("OK", Call(s, "SENTINEL", "SIMULATE-FAILURE", "crash-after-election").Text);
            Assert.Contains("sentinel_simulate_failure_flags:1", Call(s, "INFO", "sentinel").Text);
            Tools.WaitUntil(() => Call(s, "SENTINEL", "FAILOVER", Name).Text == "OK", Long, "a replica to promote");
            Assert.Equal(99, s.WaitForExit(Long));
            Assert.Contains("Sentinel CRASH because of SENTINEL simulate-failure", s.Output);
            crashed.Add(s);
            // Crashed right after the election: nobody was promoted.
            Assert.All(g.Replicas, r => Assert.Equal("slave", Call(r, "ROLE").Items![0].Text));

            s = ServerProcess.StartSentinelFromFile(redis, conf, port);
            g.Sentinels[0] = s;
            Assert.Equal("0", Call(s, "INFO", "sentinel").Text!.Split("\r\n").First(l => l.StartsWith("sentinel_simulate_failure_flags:"))[^1..]);
            Assert.Equal("OK", Call(s, "SENTINEL", "SIMULATE-FAILURE", "crash-after-promotion").Text);
            Tools.WaitUntil(() => Call(s, "SENTINEL", "FAILOVER", Name).Text == "OK", Long, "a replica to promote");
            Assert.Equal(99, s.WaitForExit(Long));
            crashed.Add(s);
            // Crashed right after the promotion, which its config file already records.
            var promoted = g.Replicas.Single(r => Call(r, "ROLE").Items![0].Text == "master");
            Assert.Contains($"sentinel monitor {Name} 127.0.0.1 {promoted.Port} 1", File.ReadAllText(conf));

            // Restarted, it resumes with the promoted replica as master and repoints the others.
            s = ServerProcess.StartSentinelFromFile(redis, conf, port);
            g.Sentinels[0] = s;
            Assert.Equal(promoted.Port, g.MasterPortSeenBy(s));
            Assert.Equal("OK", Call(s, "SENTINEL", "SET", Name, "failover-timeout", "2000").Text);
            foreach (var other in g.Replicas.Where(r => r != promoted).Append(g.Master))
                Tools.WaitUntil(() =>
                {
                    try
                    {
                        var role = Call(other, "ROLE").Items!;
                        return role[0].Text == "slave" && role[2].Integer == promoted.Port;
                    }
                    catch (IOException) { return false; }
                }, Long, $"{other.Port} follows the promoted replica");
        }
        finally
        {
            foreach (var c in crashed) c.Dispose();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MasterRebootedAndStillLoading_IsDownAfterRebootPeriod(bool redis)
    {
        using var fake = new FakeMaster(FakeMaster.NewRunId());
        using var s = ServerProcess.StartSentinel(redis,
            $"sentinel monitor {Name} 127.0.0.1 {fake.Port} 1\nsentinel down-after-milliseconds {Name} 60000\n" +
            $"sentinel master-reboot-down-after-period {Name} 1000\n");
        Assert.Equal("OK", Call(s, "SENTINEL", "DEBUG", "info-period", "200").Text);
        Assert.Contains($"sentinel master-reboot-down-after-period {Name} 1000", File.ReadAllText(s.ConfigPath));
        string first = fake.RunId;
        Tools.WaitUntil(() => Map(Call(s, "SENTINEL", "MASTER", Name))["runid"] == first, Long, "first run id");
        using var ev = new EventLog(s);

        // Restarted with a new run id, answering -LOADING: available for down-after-milliseconds (60 s), but the
        // reboot period (1 s) applies.
        fake.Loading = true;
        fake.RunId = FakeMaster.NewRunId();
        Tools.WaitUntil(() => ev.Has("+sdown", $"master {Name}"), TimeSpan.FromSeconds(15), "+sdown\n" + ev.Dump());
        Assert.True(ev.Has("+reboot", $"master {Name} 127.0.0.1 {fake.Port}"), ev.Dump());
        Assert.True(IndexOf(ev, "+reboot") < IndexOf(ev, "+sdown"), ev.Dump());
        var rebootAt = ev.Events.First(e => e.Channel == "+reboot").At;
        Assert.InRange((ev.Events.First(e => e.Channel == "+sdown").At - rebootAt).TotalMilliseconds, 900, 5000);
        Assert.Contains("s_down", Map(Call(s, "SENTINEL", "MASTER", Name))["flags"]);

        // The first PONG ends it.
        fake.Loading = false;
        Tools.WaitUntil(() => ev.Has("-sdown"), TimeSpan.FromSeconds(15), "-sdown\n" + ev.Dump());

        // Without the option, the same reboot is not a failure.
        Assert.Equal("OK", Call(s, "SENTINEL", "SET", Name, "master-reboot-down-after-period", "0").Text);
        int sdowns = ev.Events.Count(e => e.Channel == "+sdown");
        fake.Loading = true;
        fake.RunId = FakeMaster.NewRunId();
        Tools.WaitUntil(() => ev.Events.Count(e => e.Channel == "+reboot") == 2, TimeSpan.FromSeconds(15), "second +reboot\n" + ev.Dump());
        Thread.Sleep(2500); // must not happen within more than twice the former period
        Assert.Equal(sdowns, ev.Events.Count(e => e.Channel == "+sdown"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NotificationScript_RetriedOnExit1AndTimeout_NotOnExit2(bool redis)
    {
        var dir = Directory.CreateTempSubdirectory("sentinel-retry-").FullName;
        string script = Path.Combine(dir, "notify.sh"), mode = Path.Combine(dir, "mode"), runs = Path.Combine(dir, "runs.log");
        File.WriteAllText(script, $"#!/bin/sh\necho \"$1\" >> {runs}\n[ \"$1\" = \"+set\" ] || exit 0\n" +
            $"m=$(cat {mode})\n[ \"$m\" = sleep ] && exec sleep 30\nexit $m\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        int SetRuns() => File.Exists(runs) ? File.ReadAllLines(runs).Count(l => l == "+set") : 0;
        int Pending(ServerProcess s) => Call(s, "SENTINEL", "PENDING-SCRIPTS").Items!.Length;
        try
        {
            using var master = ServerProcess.StartBasalt();
            using var s = ServerProcess.StartSentinel(redis,
                $"sentinel monitor {Name} 127.0.0.1 {master.Port} 1\nsentinel notification-script {Name} {script}\n");
            Assert.Equal("OK", Call(s, "SENTINEL", "DEBUG", "script-retry-delay", "200", "script-max-runtime", "1500").Text);
            using var ev = new EventLog(s);

            // Exit 2: an error, not retried.
            File.WriteAllText(mode, "2");
            Assert.Equal("OK", Call(s, "SENTINEL", "SET", Name, "quorum", "1").Text);
            Tools.WaitUntil(() => ev.Has("-script-error", $"{script} 0 2"), Long, "-script-error\n" + ev.Dump());
            Thread.Sleep(1000); // several retry delays
            Assert.Equal(1, SetRuns());
            Assert.Equal(0, Pending(s));

            // Exit 1: retried with a doubling delay (200, 400, 800 ms ...) until it succeeds.
            File.WriteAllText(mode, "1");
            Assert.Equal("OK", Call(s, "SENTINEL", "SET", Name, "quorum", "1").Text);
            Tools.WaitUntil(() => SetRuns() >= 4, Long, "three retries");
            var job = Map(Call(s, "SENTINEL", "PENDING-SCRIPTS").Items![0]);
            Assert.True(int.Parse(job["retry-num"]) >= 3, string.Join(",", job));
            File.WriteAllText(mode, "0");
            Tools.WaitUntil(() => Pending(s) == 0, Long, "the job to succeed");
            Assert.Equal(1, ev.Events.Count(e => e.Channel == "-script-error"));

            // Too slow: killed after script-max-runtime, then retried.
            File.WriteAllText(mode, "sleep");
            int before = SetRuns();
            Assert.Equal("OK", Call(s, "SENTINEL", "SET", Name, "quorum", "1").Text);
            Tools.WaitUntil(() => Pending(s) == 1 && Map(Call(s, "SENTINEL", "PENDING-SCRIPTS").Items![0])["flags"] == "running",
                Long, "running script");
            Tools.WaitUntil(() => ev.Has("-script-timeout", script), Long, "-script-timeout\n" + ev.Dump());
            File.WriteAllText(mode, "0");
            Tools.WaitUntil(() => Pending(s) == 0, Long, "the retried job to succeed");
            Assert.True(SetRuns() >= before + 2, "retried after the timeout");
            Assert.Equal(1, ev.Events.Count(e => e.Channel == "-script-error"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UnannouncedReplica_IsMonitoredButNotListed(bool redis)
    {
        using var master = ServerProcess.StartBasalt();
        using var announced = ServerProcess.StartBasalt("--replicaof", "127.0.0.1", master.Port.ToString());
        using var hidden = ServerProcess.StartBasalt("--replicaof", "127.0.0.1", master.Port.ToString(), "--replica-announced", "no");
        using var s = ServerProcess.StartSentinel(redis, $"sentinel monitor {Name} 127.0.0.1 {master.Port} 1\n");
        Assert.Equal("OK", Call(s, "SENTINEL", "DEBUG", "info-period", "300").Text);
        Tools.WaitUntil(() => Map(Call(s, "SENTINEL", "MASTER", Name))["num-slaves"] == "2", Long, "both replicas known");
        Tools.WaitUntil(() =>
        {
            var listed = Call(s, "SENTINEL", "REPLICAS", Name).Items!.Select(r => Map(r)["port"]).ToList();
            return listed.Count == 1 && listed[0] == announced.Port.ToString();
        }, Long, "only the announced replica listed");
        Assert.Contains("slaves=2", Call(s, "INFO", "sentinel").Text);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Hostnames_ResolvedForUse_AnnouncedOnlyWithAnnounceHostnames(bool redis)
    {
        using var master = ServerProcess.StartBasalt();
        using var s = ServerProcess.StartSentinel(redis, $"sentinel resolve-hostnames yes\nsentinel monitor {Name} localhost {master.Port} 1\n");
        using var c = s.Connect();
        Tools.WaitUntil(() => Map(c.Call("SENTINEL", "MASTER", Name))["flags"] == "master"
            && Map(c.Call("SENTINEL", "MASTER", Name))["runid"].Length == 40, Long, "master reachable by host name");
        Assert.Equal("127.0.0.1", c.Call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", Name).Items![0].Text);
        Assert.Equal("127.0.0.1", Map(c.Call("SENTINEL", "MASTER", Name))["ip"]);
        Assert.Contains($"address=127.0.0.1:{master.Port}", c.Call("INFO", "sentinel").Text);

        Assert.Equal("OK", c.Call("SENTINEL", "CONFIG", "SET", "announce-hostnames", "yes").Text);
        Assert.Equal("localhost", c.Call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", Name).Items![0].Text);
        Assert.Equal("localhost", Map(c.Call("SENTINEL", "MASTER", Name))["ip"]);
        Assert.Contains($"address=localhost:{master.Port}", c.Call("INFO", "sentinel").Text);
        // The config file keeps the name as given.
        Assert.Contains($"sentinel monitor {Name} localhost {master.Port} 1", File.ReadAllText(s.ConfigPath));

        Assert.Equal("OK", c.Call("SENTINEL", "CONFIG", "SET", "resolve-hostnames", "no").Text);
        Assert.Equal("ERR Invalid IP address or hostname specified", c.Call("SENTINEL", "MONITOR", "other", "localhost", "1", "1").Text);
        Assert.Equal("OK", c.Call("SENTINEL", "CONFIG", "SET", "resolve-hostnames", "yes").Text);
        Assert.Equal("ERR Invalid IP address or hostname specified", c.Call("SENTINEL", "MONITOR", "other", "no-such-host.invalid", "1", "1").Text);
    }
}
