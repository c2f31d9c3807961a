using System.Collections.Concurrent;
using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests.Sentinel;

/// <summary>
/// A master with replicas and a group of sentinels, each Basalt or real Redis 7.0, as real processes.
/// Short timings (down-after 2000 ms, failover-timeout 10000 ms) keep failovers within seconds.
/// </summary>
public sealed class SentinelGroup : IDisposable
{
    public const string Name = "mymaster";
    public ServerProcess Master;
    public readonly List<ServerProcess> Replicas = new();
    public readonly List<ServerProcess> Sentinels = new();
    public readonly bool RedisServers;
    private readonly List<ServerProcess> _retired = new();

    public SentinelGroup(bool redisServers, bool[] redisSentinels, int replicas = 2, int quorum = 2, string extraConf = "")
    {
        RedisServers = redisServers;
        Master = Start(redisServers);
        for (int i = 0; i < replicas; i++)
            Replicas.Add(Start(redisServers, "--replicaof", "127.0.0.1", Master.Port.ToString()));
        using (var m = Master.Connect())
            Tools.WaitUntil(() => Info(m, "replication").Contains($"connected_slaves:{replicas}") &&
                Info(m, "replication").Split('\n').Count(l => l.Contains("state=online")) == replicas,
                TimeSpan.FromSeconds(30), "replicas online");
        foreach (bool redis in redisSentinels)
            Sentinels.Add(ServerProcess.StartSentinel(redis, Conf(Master.Port, quorum) + extraConf));
    }

    public static string Conf(int masterPort, int quorum, int downAfterMs = 2000) =>
        $"sentinel monitor {Name} 127.0.0.1 {masterPort} {quorum}\n" +
        $"sentinel down-after-milliseconds {Name} {downAfterMs}\n" +
        $"sentinel failover-timeout {Name} 10000\n";

    public static ServerProcess Start(bool redis, params string[] args) =>
        redis ? ServerProcess.StartRedis(args) : ServerProcess.StartBasalt(args);

    public static string Info(RespConnection c, string section) => c.Call("INFO", section).Text ?? "";

    /// <summary>A flat field/value reply (RESP2 map) as a dictionary.</summary>
    public static Dictionary<string, string> Map(RespValue v)
    {
        var d = new Dictionary<string, string>();
        var items = v.Items ?? throw new InvalidOperationException("not an array: " + v);
        for (int i = 0; i + 1 < items.Length; i += 2) d[items[i].Text!] = items[i + 1].Text ?? "";
        return d;
    }

    public static List<string> Keys(RespValue v)
    {
        var items = v.Items!;
        var r = new List<string>();
        for (int i = 0; i < items.Length; i += 2) r.Add(items[i].Text!);
        return r;
    }

    public static RespValue Call(ServerProcess p, params object[] args)
    {
        using var c = p.Connect();
        return c.Call(args);
    }

    public int MasterPortSeenBy(ServerProcess sentinel)
    {
        var r = Call(sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", Name);
        return int.Parse(r.Items![1].Text!);
    }

    /// <summary>Waits until every sentinel knows all replicas and the other sentinels.</summary>
    public void WaitDiscovery(TimeSpan timeout)
    {
        Tools.WaitUntil(() => Sentinels.All(s =>
        {
            var m = Map(Call(s, "SENTINEL", "MASTER", Name));
            return m["num-slaves"] == Replicas.Count.ToString() && m["num-other-sentinels"] == (Sentinels.Count - 1).ToString();
        }), timeout, "sentinel discovery");
    }

    /// <summary>kill -9 of the master; the process object is kept (its port is reused by <see cref="RestartOldMaster"/>).</summary>
    public int KillMaster()
    {
        Master.Signal("KILL");
        Master.WaitForExit(TimeSpan.FromSeconds(10));
        _retired.Add(Master);
        return Master.Port;
    }

    public ServerProcess RestartOnPort(int port) => ServerProcess.StartOnPort(RedisServers, port);

    public void Dispose()
    {
        foreach (var s in Sentinels) s.Dispose();
        foreach (var r in Replicas) r.Dispose();
        Master.Dispose();
        foreach (var r in _retired) r.Dispose();
    }
}

/// <summary>Collects every event a sentinel publishes (PSUBSCRIBE *) on a background reader.</summary>
public sealed class EventLog : IDisposable
{
    private readonly RespConnection _c;
    private readonly Thread _t;
    public readonly ConcurrentQueue<(string Channel, string Message, DateTime At)> Events = new();

    public EventLog(ServerProcess sentinel)
    {
        _c = sentinel.Connect();
        _c.Call("PSUBSCRIBE", "*");
        _c.ReceiveTimeoutMs = 0;
        _t = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    var v = _c.Read();
                    if (v.Items is { Length: 4 } it && it[0].Text == "pmessage") Events.Enqueue((it[2].Text!, it[3].Text!, DateTime.UtcNow));
                }
            }
            catch { }
        }) { IsBackground = true };
        _t.Start();
    }

    public bool Has(string channel, string? contains = null) =>
        Events.Any(e => e.Channel == channel && (contains is null || e.Message.Contains(contains)));

    public string Dump() => string.Join("\n", Events.Select(e => e.Channel + " " + e.Message));

    public void Dispose() => _c.Dispose();
}
