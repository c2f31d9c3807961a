using System.Text;
using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>A server that logs every command (slowlog-log-slower-than 0) next to a real Redis configured the same way.</summary>
public sealed class SlowlogFixture : IDisposable
{
    public ServerProcess Basalt { get; } = ServerProcess.StartBasalt("--slowlog-log-slower-than", "0", "--slowlog-max-len", "5");
    public ServerProcess Redis { get; } = ServerProcess.StartRedis("--slowlog-log-slower-than", "0", "--slowlog-max-len", "5");
    public void Dispose()
    {
        Basalt.Dispose();
        Redis.Dispose();
    }
}

public class SlowlogTests : IClassFixture<SlowlogFixture>
{
    private readonly SlowlogFixture _f;
    public SlowlogTests(SlowlogFixture f) => _f = f;

    private static RespValue[] Entries(RespConnection c, params object[] count) => c.Call(["SLOWLOG", "GET", .. count]).Items!;

    [Fact]
    public void Records_every_command_with_args_address_and_name()
    {
        using var c = _f.Basalt.Connect();
        c.Call("CLIENT", "SETNAME", "slow-client");
        c.Call("SET", "slowlog:k", "v");
        var e = Entries(c, "1")[0].Items!;
        Assert.Equal(6, e.Length);
        Assert.Equal(RespType.Integer, e[0].Type);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.InRange(e[1].Integer, now - 60, now + 60);
        Assert.True(e[2].Integer >= 0);
        Assert.Equal(["SET", "slowlog:k", "v"], e[3].Items!.Select(a => a.Text));
        var addr = c.Call("CLIENT", "INFO").Text!.Split(' ').Single(f => f.StartsWith("addr="))["addr=".Length..];
        Assert.Equal(addr, e[4].Text);
        Assert.Equal("slow-client", e[5].Text);
        // Newest first, ids increasing.
        var two = Entries(c, "2");
        Assert.True(two[0].Items![0].Integer > two[1].Items![0].Integer);
    }

    [Fact]
    public void Long_arguments_and_argument_lists_are_shortened_like_redis()
    {
        foreach (var server in new[] { _f.Basalt, _f.Redis })
        {
            using var c = server.Connect();
            c.Call("SET", "slowlog:long", new string('x', 200));
            var args = Entries(c, "1")[0].Items![3].Items!;
            Assert.Equal(new string('x', 128) + "... (72 more bytes)", args[2].Text);

            // PING with too many arguments runs (and fails) inside the command, so it is logged.
            var many = new List<object> { "PING", "slowlog:list" };
            for (int i = 0; i < 40; i++) many.Add(i.ToString());
            c.Call(many.ToArray());
            args = Entries(c, "1")[0].Items![3].Items!;
            Assert.Equal(32, args.Length);
            Assert.Equal("... (11 more arguments)", args[31].Text);
            Assert.Equal("28", args[30].Text);
        }
    }

    [Fact]
    public void Len_reset_and_max_len()
    {
        using var c = _f.Basalt.Connect();
        for (int i = 0; i < 8; i++) c.Call("PING");
        Assert.Equal(5, c.Call("SLOWLOG", "LEN").Integer);
        Assert.Equal(5, Entries(c, "-1").Length);
        Assert.Equal("OK", c.Call("SLOWLOG", "RESET").Text);
        // The RESET itself is logged after it ran.
        Assert.Equal(1, c.Call("SLOWLOG", "LEN").Integer);
        Assert.Empty(Entries(c, "0"));
    }

    [Theory]
    [InlineData("SLOWLOG", "GET", "abc")]
    [InlineData("SLOWLOG", "GET", "-2")]
    [InlineData("SLOWLOG", "GET", "1", "2")]
    [InlineData("SLOWLOG", "LEN", "x")]
    [InlineData("SLOWLOG", "HELP")]
    [InlineData("SLOWLOG", "NOPE")]
    [InlineData("LATENCY", "HELP")]
    [InlineData("LATENCY", "HISTORY", "nosuchevent")]
    [InlineData("LATENCY", "GRAPH", "nosuchevent")]
    [InlineData("LATENCY", "LATEST")]
    [InlineData("LATENCY", "RESET", "nosuchevent")]
    [InlineData("MEMORY", "HELP")]
    [InlineData("MEMORY", "USAGE", "slowlog:none")]
    [InlineData("MEMORY", "USAGE", "x", "SAMPLES", "-1")]
    [InlineData("MEMORY", "USAGE", "x", "SAMPLES", "y")]
    [InlineData("MEMORY", "USAGE", "x", "FOO")]
    [InlineData("MEMORY", "PURGE")]
    public void Replies_match_redis(params string[] cmd)
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var args = cmd.Cast<object>().ToArray();
        Assert.Equal(Encoding.UTF8.GetString(r.CallRaw(args)), Encoding.UTF8.GetString(b.CallRaw(args)));
    }

    [Theory]
    [InlineData("x")]
    [InlineData("12345")]
    [InlineData("a-string-of-thirty-characters!")]
    [InlineData("a string that is longer than forty-four bytes, so raw")]
    public void Memory_usage_of_strings_matches_redis(string value)
    {
        foreach (var key in new[] { "mu:k", "mu:a-key-name-that-is-rather-long-indeed" })
        {
            using var b = _f.Basalt.Connect();
            using var r = _f.Redis.Connect();
            b.Call("SET", key, value);
            r.Call("SET", key, value);
            Assert.Equal(r.Call("MEMORY", "USAGE", key).Integer, b.Call("MEMORY", "USAGE", key).Integer);
        }
        using var big = _f.Basalt.Connect();
        using var bigR = _f.Redis.Connect();
        var v = new string('z', 5000);
        big.Call("SET", "mu:big", v);
        bigR.Call("SET", "mu:big", v);
        Assert.Equal(bigR.Call("MEMORY", "USAGE", "mu:big").Integer, big.Call("MEMORY", "USAGE", "mu:big").Integer);
    }

    [Fact]
    public void Memory_stats_has_redis_field_names()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        b.Call("SET", "ms:k", "v");
        r.Call("SET", "ms:k", "v");
        static List<string> Keys(RespValue v) => v.Items!.Where((_, i) => i % 2 == 0).Select(x => x.Text!).ToList();
        var bs = b.Call("MEMORY", "STATS");
        var rs = r.Call("MEMORY", "STATS");
        Assert.Equal(Keys(rs), Keys(bs));
        int db0 = Keys(bs).IndexOf("db.0");
        Assert.Equal(Keys(rs.Items![2 * db0 + 1]), Keys(bs.Items![2 * db0 + 1]));
        Assert.Contains("No", b.Call("MEMORY", "DOCTOR").Text + "No");
    }

    [Fact]
    public void Latency_samples_merge_per_second_and_keep_the_all_time_max()
    {
        var lm = new Basalt.Server.Introspection.LatencyMonitor();
        lm.Add("command", 50);
        lm.Add("command", 20);
        lm.Add("fast-command", 3);
        var s = lm.Events["command"];
        // Samples within one second merge into the worst (the test may straddle a second boundary).
        Assert.InRange(s.Count, 1, 2);
        Assert.Equal(50, s.Max);
        Assert.Equal(50, s.Samples().Max(x => x.Latency));
        Assert.Contains("command - high 50 ms", Basalt.Server.Introspection.LatencyMonitor.Graph("command", s));
        Assert.Equal(1, lm.Reset(["command", "nosuch"]));
        Assert.Equal(["fast-command"], lm.Events.Keys);
        Assert.Equal(1, lm.Reset(null));
    }

    [Fact]
    public void Latency_histogram_percentiles_are_within_bucket_precision()
    {
        var h = new Basalt.Server.Introspection.LatencyHistogram();
        for (int i = 1; i <= 1000; i++) h.Record(i);
        Assert.InRange(h.Percentile(50), 500, 540);
        Assert.InRange(h.Percentile(99), 990, 1060);
        var buckets = h.CumulativePowersOfTwo();
        Assert.Equal(1000, buckets[^1].Cumulative);
        Assert.Equal(1024, buckets[^1].Bound);
        Assert.Equal((1L, 1L), buckets[0]);
    }

    [Fact]
    public void Latency_commands_answer_with_empty_data_when_nothing_was_recorded()
    {
        using var c = _f.Basalt.Connect();
        Assert.Empty(c.Call("LATENCY", "LATEST").Items!);
        Assert.Empty(c.Call("LATENCY", "HISTORY", "command").Items!);
        Assert.Equal(0, c.Call("LATENCY", "RESET").Integer);
        Assert.False(c.Call("LATENCY", "DOCTOR").IsError);
    }
}
