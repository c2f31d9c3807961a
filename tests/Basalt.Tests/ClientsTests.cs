using System.Diagnostics;
using System.Text.RegularExpressions;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Real clients against Basalt: redis-py, ioredis, redis-cli (stdin and --no-raw), redis-benchmark.</summary>
public class ClientsTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public ClientsTests(DifferentialFixture f) => _f = f;


    [Fact]
    public void Redis_py_basic_suite_passes()
    {
        // Debian's python3-redis lives with /usr/bin/python3, not with whatever python3 is first on PATH.
        var r = Tools.RunClientSuite("test_basic.py", _f.Basalt.Port);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Matches(@"\d+ passed, 0 failed", r.StdOut);
    }

    [Fact]
    public void Ioredis_basic_suite_passes()
    {
        string dir = Path.Combine(ServerProcess.RepoRoot, "tests", "node");
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "ioredis")), "ioredis missing: run bin/test (npm install in tests/node)");
        var r = Tools.RunClientSuite("basic.js", _f.Basalt.Port);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Matches(@"\d+ passed, 0 failed", r.StdOut);
    }

    private static string CliStdin(ServerProcess s, string input, params string[] extra) =>
        Tools.Run("redis-cli", ["-p", s.Port.ToString(), .. extra], stdin: input).StdOut;

    [Fact]
    public void Redis_cli_with_piped_commands_prints_like_redis()
    {
        const string input = "set cli:a hello\nget cli:a\nget cli:missing\nnosuch x\nexists cli:a cli:b\necho \"two words\"\nselect 3\nget cli:a\n";
        string b = CliStdin(_f.Basalt, input), r = CliStdin(_f.Redis, input);
        Assert.Equal(r, b);
        Assert.Equal("OK\nhello\n\nERR unknown command 'nosuch', with args beginning with: 'x' \n\n1\ntwo words\nOK\n\n", b);
    }

    [Fact]
    public void Redis_cli_no_raw_formats_types()
    {
        const string input = "set cli:nr v\nget cli:nr\nexists cli:nr\nget cli:nr:missing\nselect 99\n";
        string b = CliStdin(_f.Basalt, input, "--no-raw"), r = CliStdin(_f.Redis, input, "--no-raw");
        Assert.Equal(r, b);
        Assert.Equal("OK\n\"v\"\n(integer) 1\n(nil)\n(error) ERR DB index is out of range\n", b);
    }

    [Fact]
    public void Redis_cli_resp3_hello_shows_a_map()
    {
        var b = CliStdin(_f.Basalt, "hello 3\nget cli:r3:missing\n", "--no-raw");
        Assert.Contains("1# \"server\" => \"redis\"", b);
        Assert.Contains("(nil)", b);
    }

    /// <summary>The benchmark tests whose commands this build implements (others come with later families).</summary>
    private List<string> ImplementedBenchmarkTests()
    {
        var probes = new (string Test, object[] Cmd)[]
        {
            ("ping", ["PING"]), ("set", ["SET", "bench:probe", "1"]), ("get", ["GET", "bench:probe"]),
            ("incr", ["INCR", "bench:probe:n"]), ("mset", ["MSET", "bench:probe:m", "1"]),
        };
        using var c = _f.Basalt.Connect();
        return probes.Where(p => !(c.Call(p.Cmd).Text ?? "").StartsWith("ERR unknown command", StringComparison.Ordinal))
            .Select(p => p.Test).ToList();
    }

    [Fact]
    public void Redis_benchmark_quick_run_completes_without_errors()
    {
        var tests = ImplementedBenchmarkTests();
        Assert.Contains("set", tests);
        Assert.Contains("get", tests);
        var r = Tools.Run("redis-benchmark", ["-p", _f.Basalt.Port.ToString(), "-n", "2000", "-c", "10", "-r", "1000", "--csv", "-t", string.Join(',', tests)], timeoutMs: 60_000);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.DoesNotContain("Error", r.StdOut + r.StdErr);
        foreach (var t in tests)
        {
            string name = t == "ping" ? "PING_INLINE" : t.ToUpperInvariant();
            var m = Regex.Match(r.StdOut, $"^\"{name}[^\"]*\",\"([0-9.]+)\"", RegexOptions.Multiline);
            Assert.True(m.Success, $"no result for {name}:\n{r.StdOut}");
            Assert.True(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0);
        }
    }
}
