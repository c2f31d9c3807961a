using System.Diagnostics;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Real client libraries' Pub/Sub against Basalt: redis-py (tests/python/test_pubsub.py) and ioredis (tests/node/pubsub.js).</summary>
public class PubSubClientsTests : IClassFixture<BasaltFixture>
{
    private readonly ServerProcess _s;
    public PubSubClientsTests(BasaltFixture f) => _s = f.Server;


    [Fact]
    public void Redis_py_pubsub_suite_passes()
    {
        var r = Tools.RunClientSuite("test_pubsub.py", _s.Port);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Matches(@"[1-9]\d* passed, 0 failed", r.StdOut);
    }

    [Fact]
    public void Ioredis_pubsub_suite_passes()
    {
        string dir = Path.Combine(ServerProcess.RepoRoot, "tests", "node");
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "ioredis")), "ioredis missing: run bin/test (npm install in tests/node)");
        var r = Tools.RunClientSuite("pubsub.js", _s.Port);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Matches(@"[1-9]\d* passed, 0 failed", r.StdOut);
    }
}
