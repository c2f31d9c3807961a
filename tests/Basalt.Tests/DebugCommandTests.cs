using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>DEBUG DIGEST needs servers whose whole dataset this class controls, hence its own fixture.</summary>
public class DebugDigestTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public DebugDigestTests(DifferentialFixture f) => _f = f;

    private void Both(params object[] args)
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        Assert.Equal(r.Call(args).Text, b.Call(args).Text);
    }

    private (string basalt, string redis) Raw(params object[] args)
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        return (Encoding.UTF8.GetString(b.CallRaw(args)), Encoding.UTF8.GetString(r.CallRaw(args)));
    }

    [Fact]
    public void Digest_of_string_data_equals_redis_including_ttls_and_other_dbs()
    {
        Both("FLUSHALL");
        var (eb, er) = Raw("DEBUG", "DIGEST");
        Assert.Equal("+0000000000000000000000000000000000000000\r\n", eb);
        Assert.Equal(er, eb);

        Both("SET", "dg:int", "12345");
        Both("SET", "dg:small", "7");
        Both("SET", "dg:embstr", "hello world");
        Both("SET", "dg:raw", new string('x', 100));
        Both("SET", "dg:bin", Encoding.Latin1.GetString(new byte[] { 0, 1, 255, 13, 10 }));
        Both("SET", "dg:ttl", "v", "EX", "1000");
        var (b1, r1) = Raw("DEBUG", "DIGEST");
        Assert.Equal(r1, b1);
        Assert.NotEqual(eb, b1);

        Both("SELECT", "0"); // a key in another db changes the digest the same way
        using (var b = _f.Basalt.Connect()) { b.Call("SELECT", "3"); b.Call("SET", "dg:other", "x"); }
        using (var r = _f.Redis.Connect()) { r.Call("SELECT", "3"); r.Call("SET", "dg:other", "x"); }
        var (b2, r2) = Raw("DEBUG", "DIGEST");
        Assert.Equal(r2, b2);
        Assert.NotEqual(b1, b2);

        var (vb, vr) = Raw("DEBUG", "DIGEST-VALUE", "dg:int", "dg:raw", "dg:ttl", "dg:missing", "dg:bin");
        Assert.Equal(vr, vb);
        Assert.Equal(Raw("DEBUG", "DIGEST-VALUE").redis, Raw("DEBUG", "DIGEST-VALUE").basalt);
    }

    [Fact]
    public void Digest_value_of_every_type_and_encoding_equals_redis()
    {
        Both("FLUSHALL");
        using (var b = _f.Basalt.Connect()) Persistence.RdbPersistenceTests.Populate(b);
        using (var r = _f.Redis.Connect()) Persistence.RdbPersistenceTests.Populate(r);
        var keys = new[] { "s:int", "s:long", "l:small", "l:big", "h:small", "h:big", "set:int", "set:str", "set:big", "z:small", "z:big", "x:stream", "hll" };
        foreach (var k in keys)
        {
            var (vb, vr) = Raw("DEBUG", "DIGEST-VALUE", k);
            Assert.True(vr == vb, $"{k}: basalt {vb} redis {vr}");
        }
        // Elements matter, not just the type.
        Both("RPUSH", "l:other", "z");
        Assert.NotEqual(Raw("DEBUG", "DIGEST-VALUE", "l:small").basalt, Raw("DEBUG", "DIGEST-VALUE", "l:other").basalt);
        var (db, dr) = Raw("DEBUG", "DIGEST");
        Assert.Equal(dr, db);
        Both("FLUSHALL");
    }
}

public class DebugCommandTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public DebugCommandTests(DifferentialFixture f) => _f = f;

    private void AssertSameRaw(params object[] args)
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        Assert.Equal(Encoding.UTF8.GetString(r.CallRaw(args)), Encoding.UTF8.GetString(b.CallRaw(args)));
    }

    [Fact]
    public void Debug_is_refused_when_not_enabled_with_redis_wording()
    {
        using var basalt = ServerProcess.StartBasalt("--enable-debug-command", "no");
        using var redis = ServerProcess.StartRedis("--enable-debug-command", "no");
        foreach (var args in new object[][] { ["DEBUG", "SLEEP", "0"], ["DEBUG", "nosuch"], ["DEBUG"] })
        {
            using var b = basalt.Connect();
            using var r = redis.Connect();
            var want = Encoding.UTF8.GetString(r.CallRaw(args));
            Assert.Equal(want, Encoding.UTF8.GetString(b.CallRaw(args)));
        }
        using var c = basalt.Connect();
        Assert.StartsWith("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\"", c.Call("DEBUG", "DIGEST").Text);
    }

    [Fact]
    public void Debug_local_mode_allows_loopback_clients()
    {
        using var basalt = ServerProcess.StartBasalt("--enable-debug-command", "local");
        using var c = basalt.Connect();
        Assert.Equal("OK", c.Call("DEBUG", "SLEEP", "0").Text);
    }

    [Fact]
    public void Htstats_reports_chains_in_redis_layout()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        foreach (var c in new[] { b, r })
        {
            c.Call("SELECT", "11");
            c.Call("FLUSHDB");
        }
        // Empty tables, bad database ids: byte for byte.
        foreach (var args in new object[][] { ["DEBUG", "HTSTATS", "11"], ["DEBUG", "HTSTATS", "99"], ["DEBUG", "HTSTATS", "x"], ["DEBUG", "HTSTATS"] })
            Assert.Equal(Encoding.UTF8.GetString(r.CallRaw(args)), Encoding.UTF8.GetString(b.CallRaw(args)));

        foreach (var c in new[] { b, r }) c.Call("DEBUG", "POPULATE", "1000");
        var mine = b.Call("DEBUG", "HTSTATS", "11").Text!.Split('\n');
        var theirs = r.Call("DEBUG", "HTSTATS", "11").Text!.Split('\n');
        // The same labels in the same order; table size and element count agree; chains differ with the hash function.
        static string Label(string line) => line.Contains(':') ? line[..line.IndexOf(':')].Trim() : line;
        static IEnumerable<string> Head(string[] lines) => lines.TakeWhile(l => !l.StartsWith("   ")).Select(Label);
        Assert.Equal(Head(theirs), Head(mine));
        Assert.Contains(" table size: 1024", mine);
        Assert.Contains(" number of elements: 1000", mine);
        // The distribution covers every bucket and every element.
        var dist = mine.Where(l => l.StartsWith("   ")).Select(l => l.Trim().Split(' ')).ToList();
        Assert.Equal(1024, dist.Sum(d => long.Parse(d[1])));
        Assert.Equal(1000, dist.Sum(d => long.Parse(d[0].TrimEnd(':')) * long.Parse(d[1])));
        Assert.Equal("[Expires HT]", mine.SkipWhile(l => l != "[Expires HT]").First());
    }

    [Fact]
    public void Populate_creates_keys_like_redis_and_skips_existing_ones()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        foreach (var c in new[] { b, r })
        {
            c.Call("SELECT", "9");
            c.Call("FLUSHDB");
            c.Call("SET", "key:7", "mine");
            Assert.Equal("OK", c.Call("DEBUG", "POPULATE", "100").Text);
        }
        Assert.Equal(100, b.Call("DBSIZE").Integer);
        Assert.Equal("mine", b.Call("GET", "key:7").Text);
        Assert.Equal("value:42", b.Call("GET", "key:42").Text);
        b.Call("DEBUG", "POPULATE", "150");
        Assert.Equal(150, b.Call("DBSIZE").Integer);
        foreach (var args in new object[][]
        {
            ["DEBUG", "POPULATE", "3", "pfx", "10"], ["GET", "pfx:1"], ["DEBUG", "POPULATE", "2", "short", "3"], ["GET", "short:1"],
            ["DEBUG", "POPULATE", "-1"], ["DEBUG", "POPULATE", "x"], ["DEBUG", "POPULATE", "2", "q", "-1"], ["DEBUG", "POPULATE", "1", "q", "1", "x"],
            ["DEBUG", "POPULATE", "0"], ["DEBUG", "DIGEST-VALUE", "pfx:0", "short:0"],
        })
            Assert.Equal(Encoding.UTF8.GetString(r.CallRaw(args)), Encoding.UTF8.GetString(b.CallRaw(args)));
    }

    [Fact]
    public void Argument_errors_and_small_subcommands_match_redis()
    {
        foreach (var args in new object[][]
        {
            ["DEBUG"], ["DEBUG", "nosuch"], ["DEBUG", "OBJECT"], ["DEBUG", "DIGEST", "x"], ["DEBUG", "ERROR", "some failure"],
            ["DEBUG", "ERROR"], ["DEBUG", "SET-ACTIVE-EXPIRE"], ["DEBUG", "OBJECT", "dbg:missing"], ["DEBUG", "LOG", "hello"],
            ["DEBUG", "SLEEP", "abc"],
        })
            AssertSameRaw(args);
        using var b = _f.Basalt.Connect();
        var help = b.Call("DEBUG", "HELP");
        Assert.Equal("DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", help.Items![0].Text);
        Assert.Equal("HELP", help.Items[^2].Text);
    }

    [Fact]
    public void Sleep_blocks_for_the_given_time()
    {
        using var b = _f.Basalt.Connect();
        var sw = Stopwatch.StartNew();
        Assert.Equal("OK", b.Call("DEBUG", "SLEEP", "0.2").Text);
        Assert.InRange(sw.ElapsedMilliseconds, 190, 5000);
    }

    [Fact]
    public void Debug_object_describes_the_value_like_redis()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var pattern = new Regex(@"^Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\w+) serializedlength:(\d+) lru:\d+ lru_seconds_idle:\d+$");
        foreach (var v in new[] { "100", "100000", "hello", "-5", "3000000000", new string('y', 20) })
        {
            b.Call("SET", "dbg:obj", v);
            r.Call("SET", "dbg:obj", v);
            var mb = pattern.Match(b.Call("DEBUG", "OBJECT", "dbg:obj").Text!);
            var mr = pattern.Match(r.Call("DEBUG", "OBJECT", "dbg:obj").Text!);
            Assert.True(mb.Success && mr.Success, v);
            Assert.Equal(mr.Groups[1].Value + " " + mr.Groups[2].Value + " " + mr.Groups[3].Value,
                         mb.Groups[1].Value + " " + mb.Groups[2].Value + " " + mb.Groups[3].Value);
        }
    }

    [Fact]
    public void Set_active_expire_0_stops_background_expiry()
    {
        using var b = _f.Basalt.Connect();
        b.Call("SELECT", "11");
        b.Call("FLUSHDB");
        Assert.Equal("OK", b.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0").Text);
        try
        {
            b.Call("SET", "dbg:exp", "v", "PX", "50");
            Thread.Sleep(400); // nothing to poll for: the key must still be there after several cron runs
            Assert.Equal(1, b.Call("DBSIZE").Integer);
            Assert.Equal("OK", b.Call("DEBUG", "SET-ACTIVE-EXPIRE", "1").Text);
            Tools.WaitUntil(() => b.Call("DBSIZE").Integer == 0, TimeSpan.FromSeconds(5), "active expiry to remove the key");
        }
        finally { b.Call("DEBUG", "SET-ACTIVE-EXPIRE", "1"); }
    }
}
