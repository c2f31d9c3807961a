using System.Text;
using Basalt.Server.Config;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Generic key commands compared with redis-server 7.0 where replies depend on order or time (the keys.txt corpus runs in CorpusTests).</summary>
public class KeyDifferentialTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public KeyDifferentialTests(DifferentialFixture f) => _f = f;

    /// <summary>Runs the same command on both servers.</summary>
    private (Support.RespConnection b, Support.RespConnection r) Both() => (_f.Basalt.Connect(), _f.Redis.Connect());

    private static string[] Sorted(Basalt.Protocol.RespValue v) => v.Items!.Select(i => i.Text!).OrderBy(s => s, StringComparer.Ordinal).ToArray();

    [Fact]
    public void Keys_patterns_select_the_same_keys_as_redis()
    {
        var (b, r) = Both();
        using var _1 = b; using var _2 = r;
        string[] names =
        [
            "hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h[a]llo", "h\\llo", "HELLO",
            "a]b", "a-b", "a^b", "ab", "abc", "a[b", "x", "", "\\", "foo:bar:baz", "foo:", "tail\\",
        ];
        string[] patterns =
        [
            "*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "h[b-a]llo", "h\\*llo", "h\\?llo", "h[\\]]llo",
            "a[]]b", "a[\\]]b", "a[-]b", "a[^]b", "a[b", "a[b-", "a[", "[", "\\", "*\\", "tail\\", "foo:*:baz", "foo:*",
            "*o*", "**", "?", "[a-z]*", "[^a-z]*", "h[a-]llo", "*[", "HELLO", "hello",
        ];
        foreach (var conn in new[] { b, r })
        {
            conn.Call("SELECT", "7");
            conn.Call("FLUSHDB");
            foreach (var n in names) conn.Call("SET", "gk:" + n, "v");
            conn.Call("SET", "plain", "v");
        }
        foreach (var p in patterns)
        {
            foreach (var pat in new[] { "gk:" + p, p })
            {
                var expected = Sorted(r.Call("KEYS", pat));
                var actual = Sorted(b.Call("KEYS", pat));
                Assert.True(expected.SequenceEqual(actual), $"KEYS {pat}: redis [{string.Join(",", expected)}] basalt [{string.Join(",", actual)}]");
            }
        }
        foreach (var conn in new[] { b, r }) conn.Call("FLUSHDB");
    }

    [Fact]
    public void Full_scan_with_match_and_type_returns_the_same_keys_as_redis()
    {
        var (b, r) = Both();
        using var _1 = b; using var _2 = r;
        foreach (var conn in new[] { b, r })
        {
            conn.Call("SELECT", "8");
            conn.Call("FLUSHDB");
            for (int i = 0; i < 300; i++) conn.Call("SET", (i % 3 == 0 ? "sm:a:" : "sm:b:") + i, "v");
        }
        foreach (var opts in new[] { new string[0], ["MATCH", "sm:a:*"], ["COUNT", "7", "MATCH", "sm:b:1*"], ["TYPE", "string"], ["TYPE", "hash"] })
        {
            var expected = FullScan(r, opts);
            var actual = FullScan(b, opts);
            Assert.Equal(expected, actual);
        }
        foreach (var conn in new[] { b, r }) conn.Call("FLUSHDB");
    }

    private static List<string> FullScan(Support.RespConnection c, string[] opts)
    {
        var seen = new HashSet<string>();
        string cursor = "0";
        int calls = 0;
        do
        {
            var reply = c.Call(["SCAN", cursor, .. opts]);
            cursor = reply.Items![0].Text!;
            foreach (var k in reply.Items[1].Items!) seen.Add(k.Text!);
            Assert.True(++calls < 10_000, "scan did not terminate");
        } while (cursor != "0");
        return seen.OrderBy(s => s, StringComparer.Ordinal).ToList();
    }

    [Fact]
    public void Ttl_family_reports_times_in_range()
    {
        using var b = _f.Basalt.Connect();
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        b.Call("SET", "tr:k", "v");
        Assert.Equal(1, b.Call("EXPIRE", "tr:k", "100").Integer);
        Assert.InRange(b.Call("TTL", "tr:k").Integer, 99, 100);
        Assert.InRange(b.Call("PTTL", "tr:k").Integer, 98_000, 100_000);
        long at = b.Call("PEXPIRETIME", "tr:k").Integer;
        Assert.InRange(at, before + 100_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 100_000);
        Assert.Equal((at + 500) / 1000, b.Call("EXPIRETIME", "tr:k").Integer);
        Assert.Equal(1, b.Call("PEXPIRE", "tr:k", "1500").Integer);
        Assert.InRange(b.Call("TTL", "tr:k").Integer, 1, 2); // rounded to the nearest second
        Assert.Equal(1, b.Call("EXPIREAT", "tr:k", (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 50).ToString()).Integer);
        Assert.InRange(b.Call("TTL", "tr:k").Integer, 48, 50);
        Assert.Equal(1, b.Call("PERSIST", "tr:k").Integer);
        Assert.Equal(-1, b.Call("TTL", "tr:k").Integer);
    }

    [Fact]
    public void Lastsave_is_a_recent_unix_time()
    {
        using var b = _f.Basalt.Connect();
        long t = b.Call("LASTSAVE").Integer;
        Assert.InRange(t, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    [Fact]
    public void Randomkey_returns_a_live_key_of_the_database()
    {
        using var b = _f.Basalt.Connect();
        b.Call("SELECT", "6");
        b.Call("FLUSHDB");
        Assert.True(b.Call("RANDOMKEY").IsNull);
        var names = new HashSet<string>();
        for (int i = 0; i < 20; i++) { names.Add("rk:" + i); b.Call("SET", "rk:" + i, "v"); }
        var seen = new HashSet<string>();
        for (int i = 0; i < 200; i++) seen.Add(b.Call("RANDOMKEY").Text!);
        Assert.Subset(names, seen);
        Assert.True(seen.Count > 5, "RANDOMKEY is not random: " + seen.Count);
        b.Call("FLUSHDB");
    }
}
