using System.Diagnostics;
using Basalt.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static Basalt.Tests.Sentinel.SentinelGroup;

namespace Basalt.Tests.Sentinel;

/// <summary>
/// A master whose replicas and sentinels reach it only through a <see cref="PartitionProxy"/> (clients connect
/// directly), so a test can cut it off from the majority while a client still writes to it.
/// </summary>
public sealed class ProxiedGroup : IDisposable
{
    public readonly ServerProcess Master;
    public readonly PartitionProxy Proxy;
    public readonly List<ServerProcess> Replicas = new();
    public readonly List<ServerProcess> Sentinels = new();

    public ProxiedGroup(bool redisServers, string[] serverArgs, int downAfterMs = 2000)
    {
        Master = SentinelGroup.Start(redisServers, serverArgs);
        Proxy = new PartitionProxy(Master.Port);
        for (int i = 0; i < 2; i++)
            Replicas.Add(SentinelGroup.Start(redisServers, [.. serverArgs, "--replicaof", "127.0.0.1", Proxy.Port.ToString()]));
        using (var m = Master.Connect())
            Tools.WaitUntil(() => Info(m, "replication").Split('\n').Count(l => l.Contains("state=online")) == 2,
                TimeSpan.FromSeconds(30), "replicas online");
        for (int i = 0; i < 3; i++) Sentinels.Add(ServerProcess.StartSentinel(false, Conf(Proxy.Port, 2, downAfterMs)));
        Tools.WaitUntil(() => Sentinels.All(s =>
        {
            var m = Map(Call(s, "SENTINEL", "MASTER", Name));
            return m["num-slaves"] == "2" && m["num-other-sentinels"] == "2" && m["flags"] == "master";
        }), TimeSpan.FromSeconds(40), "sentinel discovery");
    }

    public ServerProcess Promoted(int port) => Replicas.Single(r => r.Port == port);

    public void Dispose()
    {
        foreach (var s in Sentinels) s.Dispose();
        Proxy.Dispose();
        foreach (var r in Replicas) r.Dispose();
        Master.Dispose();
    }
}

/// <summary>
/// What a failover loses, measured with real processes (see docs/HA.md): an old master cut off from the majority
/// (split brain) with and without min-replicas-to-write, and a master crash with writes its replicas had not received.
/// </summary>
public class SentinelSafetyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);
    private const int MaxLag = 2;

    private sealed record Write(int I, long AtMs, string Reply);

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void IsolatedOldMaster_RefusesWritesWithinMaxLag_AndItsAcceptedWritesAreLost(bool redisServers, bool minReplicas)
    {
        string[] args = minReplicas ? ["--min-replicas-to-write", "1", "--min-replicas-max-lag", MaxLag.ToString()] : [];
        // The documented rule for refusal before promotion: max-lag plus the one-second ACK/re-count period must stay
        // below down-after-milliseconds (with 2000 ms the two race: refusal ~2.85 s, failover ~2.7-3.0 s).
        using var g = new ProxiedGroup(redisServers, args, downAfterMs: (MaxLag + 2) * 1000);
        using var ev = new EventLog(g.Sentinels[0]);

        // A client keeps writing to the old master directly, one SET every ~10 ms, and records every reply.
        var writes = new List<Write>();
        var sw = Stopwatch.StartNew();
        bool stop = false;
        var writer = new Thread(() =>
        {
            using var c = g.Master.Connect();
            for (int i = 0; !Volatile.Read(ref stop); i++)
            {
                var r = c.Call("SET", "sb:" + i, i.ToString());
                lock (writes) writes.Add(new Write(i, sw.ElapsedMilliseconds, r.Text ?? ""));
                Thread.Sleep(10);
            }
        }) { IsBackground = true };
        writer.Start();
        Tools.WaitUntil(() => { lock (writes) return writes.Count(w => w.Reply == "OK") >= 30; }, Long, "writes accepted before the partition");

        long partitionAt = sw.ElapsedMilliseconds;
        g.Proxy.Partition();
        Tools.WaitUntil(() => ev.Has("+switch-master"), Long, "+switch-master\n" + ev.Dump());
        long switchAt = sw.ElapsedMilliseconds;
        // Keep writing a little after the majority side completed its failover.
        Tools.WaitUntil(() => { lock (writes) return writes[^1].AtMs > switchAt + 1000; }, Long, "writes after the failover");
        Volatile.Write(ref stop, true);
        writer.Join();

        int newPort = int.Parse(ev.Events.First(e => e.Channel == "+switch-master").Message.Split(' ')[4]);
        var promoted = g.Promoted(newPort);
        var after = writes.Where(w => w.AtMs > partitionAt).ToList();
        var acceptedAfter = after.Where(w => w.Reply == "OK").ToList();
        var refused = after.Where(w => w.Reply != "OK").ToList();
        long lastAccepted = acceptedAfter.Count > 0 ? acceptedAfter[^1].AtMs - partitionAt : 0;
        output.WriteLine($"{(redisServers ? "redis" : "basalt")} min-replicas={minReplicas}: failover after {switchAt - partitionAt} ms; " +
            $"isolated master accepted {acceptedAfter.Count} writes during {lastAccepted} ms after the partition, refused {refused.Count}");

        if (minReplicas)
        {
            Assert.NotEmpty(refused);
            Assert.All(refused, w => Assert.Equal("NOREPLICAS Not enough good replicas to write.", w.Reply));
            // Once refused, always refused while isolated.
            Assert.DoesNotContain(after, w => w.Reply == "OK" && w.AtMs > refused[0].AtMs);
            // The bound: max-lag seconds after the last ACK (replicas ACK every second, checked every second).
            Assert.True(lastAccepted <= MaxLag * 1000 + 2000, $"accepted writes for {lastAccepted} ms after the partition");
            // It stopped accepting before the majority finished the failover: no two masters accepting writes.
            Assert.True(refused[0].AtMs < switchAt, $"refused at {refused[0].AtMs - partitionAt} ms, failover at {switchAt - partitionAt} ms");
        }
        else
        {
            // Without min-replicas the isolated master accepts every write, also after the failover.
            Assert.Empty(refused);
            Assert.Contains(after, w => w.AtMs > switchAt);
        }

        // Heal: the sentinels turn the old master into a replica of the promoted one; what it accepted alone is gone.
        g.Proxy.Heal();
        Tools.WaitUntil(() =>
        {
            try
            {
                var role = Call(g.Master, "ROLE").Items!;
                return role[0].Text == "slave" && role[2].Integer == newPort && role[3].Text == "connected"
                    && Call(g.Master, "GET", "sb:0").Text == "0";
            }
            catch (IOException) { return false; }
        }, Long, "old master resynchronized from the new one");
        using var nm = promoted.Connect();
        using var om = g.Master.Connect();
        int lost = 0;
        foreach (var w in acceptedAfter.Where(w => w.AtMs > partitionAt + 50))
        {
            Assert.True(nm.Call("GET", "sb:" + w.I).IsNull, $"sb:{w.I} accepted by the isolated master survived");
            Assert.True(om.Call("GET", "sb:" + w.I).IsNull, $"sb:{w.I} kept by the old master after resync");
            lost++;
        }
        foreach (var w in writes.Where(w => w.Reply == "OK" && w.AtMs < partitionAt - 500))
            Assert.Equal(w.I.ToString(), nm.Call("GET", "sb:" + w.I).Text);
        output.WriteLine($"acknowledged writes lost: {lost}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MasterCrash_LosesAcknowledgedWritesNotYetReplicated_WaitReportsThem(bool redisServers)
    {
        using var g = new ProxiedGroup(redisServers, []);
        using var ev = new EventLog(g.Sentinels[0]);
        using (var m = g.Master.Connect())
        {
            Assert.Equal("OK", m.Call("SET", "crash:safe", "1").Text);
            Assert.Equal(2, m.Call("WAIT", "2", "5000").Integer);
            // Replication lags (stretched here by the proxy): the master acknowledges writes nobody else has.
            g.Proxy.Partition();
            for (int i = 0; i < 20; i++) Assert.Equal("OK", m.Call("SET", "crash:late:" + i, "1").Text);
            // WAIT tells the client those writes are on no replica.
            Assert.Equal(0, m.Call("WAIT", "1", "300").Integer);
        }
        g.Master.Signal("KILL");
        g.Master.WaitForExit(TimeSpan.FromSeconds(10));
        g.Proxy.Heal();
        Tools.WaitUntil(() => ev.Has("+switch-master"), Long, "+switch-master\n" + ev.Dump());
        int newPort = int.Parse(ev.Events.First(e => e.Channel == "+switch-master").Message.Split(' ')[4]);
        using var nm = g.Promoted(newPort).Connect();
        Assert.Equal("1", nm.Call("GET", "crash:safe").Text);
        int lost = Enumerable.Range(0, 20).Count(i => nm.Call("GET", "crash:late:" + i).IsNull);
        Assert.Equal(20, lost);
        output.WriteLine($"{(redisServers ? "redis" : "basalt")}: {lost} of 20 writes acknowledged without WAIT lost; the WAIT-confirmed write kept");
    }
}
