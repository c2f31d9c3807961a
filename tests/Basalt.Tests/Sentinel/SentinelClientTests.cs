using Basalt.Tests.Support;
using Xunit;

namespace Basalt.Tests.Sentinel;

/// <summary>Real client libraries (redis-py's Sentinel, ioredis's sentinels option) across a failover of Basalt servers.</summary>
public class SentinelClientTests
{
    private static Tools.Result RunSuite(string script, SentinelGroup g)
    {
        var root = ServerProcess.RepoRoot;
        bool node = script.EndsWith(".js");
        string dir = Path.Combine(root, "tests", node ? "node" : "python");
        return Tools.Run(node ? "node" : "/usr/bin/python3", [Path.Combine(dir, script)], workDir: dir, timeoutMs: 150_000,
            env: new Dictionary<string, string>
            {
                ["BASALT_SENTINEL_PORTS"] = string.Join(",", g.Sentinels.Select(s => s.Port)),
                ["BASALT_MASTER_PID"] = g.Master.Pid.ToString(),
                ["BASALT_MASTER_NAME"] = SentinelGroup.Name,
            });
    }

    [Theory]
    [InlineData("test_sentinel.py")]
    [InlineData("sentinel.js")]
    public void Client_FindsMaster_AndResumesWritesAfterFailover(string script)
    {
        using var g = new SentinelGroup(redisServers: false, redisSentinels: [false, false, false]);
        g.WaitDiscovery(TimeSpan.FromSeconds(40));
        var r = RunSuite(script, g);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Contains("1 passed, 0 failed", r.StdOut);
    }
}
