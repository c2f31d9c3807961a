using System.Diagnostics;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Real client libraries' Pub/Sub against Basalt: redis-py (tests/python/test_pubsub.py) and ioredis (tests/node/pubsub.js).</summary>
public class PubSubClientsTests : IClassFixture<BasaltFixture>
{
    private readonly ServerProcess _s;
    public PubSubClientsTests(BasaltFixture f) => _s = f.Server;

    private static Tools.Result RunWithPort(string file, string[] args, int port, string workDir)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["BASALT_PORT"] = port.ToString();
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException(file + " timed out"); }
        p.WaitForExit();
        return new Tools.Result(p.ExitCode, so.Result, se.Result);
    }

    [Fact]
    public void Redis_py_pubsub_suite_passes()
    {
        var r = RunWithPort("/usr/bin/python3", [Path.Combine(ServerProcess.RepoRoot, "tests", "python", "test_pubsub.py")],
            _s.Port, ServerProcess.RepoRoot);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Matches(@"[1-9]\d* passed, 0 failed", r.StdOut);
    }

    [Fact]
    public void Ioredis_pubsub_suite_passes()
    {
        string dir = Path.Combine(ServerProcess.RepoRoot, "tests", "node");
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "ioredis")), "ioredis missing: run bin/test (npm install in tests/node)");
        var r = RunWithPort("node", ["pubsub.js"], _s.Port, dir);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Matches(@"[1-9]\d* passed, 0 failed", r.StdOut);
    }
}
