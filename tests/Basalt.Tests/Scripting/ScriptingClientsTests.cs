using Basalt.Tests.Support;

namespace Basalt.Tests.Scripting;

/// <summary>Real client libraries' scripting helpers: redis-py (tests/python/test_scripting.py) and ioredis (tests/node/scripting.js).</summary>
public class ScriptingClientsTests : IClassFixture<BasaltFixture>
{
    private readonly ServerProcess _s;
    public ScriptingClientsTests(BasaltFixture f) => _s = f.Server;

    [Fact]
    public void Redis_py_scripting_suite_passes()
    {
        var r = Tools.RunClientSuite("test_scripting.py", _s.Port);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Matches(@"[1-9]\d* passed, 0 failed", r.StdOut);
    }

    [Fact]
    public void Ioredis_scripting_suite_passes()
    {
        string dir = Path.Combine(ServerProcess.RepoRoot, "tests", "node");
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "ioredis")), "ioredis missing: run bin/test (npm install in tests/node)");
        var r = Tools.RunClientSuite("scripting.js", _s.Port);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Matches(@"[1-9]\d* passed, 0 failed", r.StdOut);
    }
}
