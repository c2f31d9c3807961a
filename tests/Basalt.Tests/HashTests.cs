using System.Text;
using Basalt.Protocol;
using Basalt.Server.Types;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Hash behaviour the corpus cannot pin down: random replies, hashtable order, HSCAN cursors, long double maths.</summary>
public class HashTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public HashTests(DifferentialFixture f) => _f = f;

    private static string[] Texts(RespValue v) => v.Items!.Select(i => i.Text!).ToArray();

    private static void Fill(RespConnection c, string key, int n)
    {
        var args = new List<object> { "HSET", key };
        for (int i = 0; i < n; i++) { args.Add($"f{i}"); args.Add($"v{i}"); }
        c.Call(args.ToArray());
    }

    /// <summary>
    /// Small hashes are stored without a wrapper object (a bare listpack in the key's slot): every path that meets a
    /// stored value — growth, shrinking, conversion, COPY, RENAME, MOVE, DUMP/RESTORE, SORT BY/GET, digests, TYPE,
    /// OBJECT ENCODING, SCAN TYPE, WRONGTYPE — must give Redis's replies.
    /// </summary>
    [Fact]
    public void Bare_listpack_hashes_behave_like_redis_through_every_path()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        foreach (var c in new[] { b, r }) { c.Call("SELECT", "12"); c.Call("FLUSHDB"); }
        var script = new object[][]
        {
            ["HSET", "bp:a", "f1", "1", "f2", "two", "f1", "one"], ["HGETALL", "bp:a"], ["OBJECT", "ENCODING", "bp:a"],
            ["TYPE", "bp:a"], ["GET", "bp:a"], ["LPUSH", "bp:a", "x"], ["HSETNX", "bp:a", "f3", "3"], ["HSETNX", "bp:a", "f3", "x"],
            ["HINCRBY", "bp:a", "n", "5"], ["HINCRBYFLOAT", "bp:a", "n", "0.5"], ["HSET", "bp:a", "f2", "a-longer-value"],
            ["HGETALL", "bp:a"], ["HDEL", "bp:a", "f1", "nosuch"], ["HLEN", "bp:a"], ["HSTRLEN", "bp:a", "f2"], ["HEXISTS", "bp:a", "f3"],
            ["HMGET", "bp:a", "f2", "f3", "nosuch"], ["HKEYS", "bp:a"], ["HVALS", "bp:a"],
            ["COPY", "bp:a", "bp:b"], ["HSET", "bp:b", "f9", "9"], ["HGETALL", "bp:a"], ["HGETALL", "bp:b"],
            ["RENAME", "bp:b", "bp:c"], ["HGETALL", "bp:c"], ["EXISTS", "bp:b"], ["MOVE", "bp:c", "13"], ["EXISTS", "bp:c"],
            ["DEBUG", "DIGEST-VALUE", "bp:a"], ["MEMORY", "USAGE", "bp:nosuch"],
            ["RPUSH", "bp:list", "1", "2"], ["HSET", "bp:w1", "f", "20"], ["HSET", "bp:w2", "f", "10"],
            ["SORT", "bp:list", "BY", "bp:w*->f", "GET", "bp:w*->f"],
            ["HDEL", "bp:a", "f2", "f3", "n"], ["EXISTS", "bp:a"], ["HGETALL", "bp:a"],
            ["HSET", "bp:big", "f", new string('v', 100)], ["OBJECT", "ENCODING", "bp:big"], ["HGETALL", "bp:big"],
        };
        foreach (var args in script)
            Assert.Equal(Encoding.UTF8.GetString(r.CallRaw(args)), Encoding.UTF8.GetString(b.CallRaw(args)));
        // SCAN TYPE finds the bare hashes (order is the hash tables', so compared as sets).
        static string[] Scanned(RespConnection c) => c.Call("SCAN", "0", "TYPE", "hash", "COUNT", "1000").Items![1].Items!.Select(i => i.Text!).Order().ToArray();
        Assert.Equal(Scanned(r), Scanned(b));
        // Past hash-max-listpack-entries one HSET converts; the key keeps all fields in the same order as Redis.
        foreach (var c in new[] { b, r }) Fill(c, "bp:grow", 200);
        foreach (var args in new object[][] { ["OBJECT", "ENCODING", "bp:grow"], ["HLEN", "bp:grow"], ["HGET", "bp:grow", "f199"] })
            Assert.Equal(Encoding.UTF8.GetString(r.CallRaw(args)), Encoding.UTF8.GetString(b.CallRaw(args)));
        // DUMP/RESTORE both ways, and equal value digests.
        foreach (var c in new[] { b, r }) c.Call("HSET", "bp:d", "x", "1", "y", "2");
        var dumped = r.Call("DUMP", "bp:d");
        Assert.Equal("OK", b.Call("RESTORE", "bp:r", "0", dumped.Bytes!).Text);
        Assert.Equal("OK", r.Call("RESTORE", "bp:r", "0", dumped.Bytes!).Text);
        Assert.Equal("OK", r.Call("RESTORE", "bp:fromb", "0", b.Call("DUMP", "bp:d").Bytes!).Text);
        Assert.Equal(Texts(r.Call("HGETALL", "bp:d")), Texts(r.Call("HGETALL", "bp:fromb")));
        Assert.Equal(Texts(r.Call("HGETALL", "bp:r")), Texts(b.Call("HGETALL", "bp:r")));
        var digest = new object[] { "DEBUG", "DIGEST-VALUE", "bp:d", "bp:r", "bp:grow", "bp:w1" };
        Assert.Equal(Encoding.UTF8.GetString(r.CallRaw(digest)), Encoding.UTF8.GetString(b.CallRaw(digest)));
        foreach (var c in new[] { b, r }) { c.Call("FLUSHDB"); c.Call("SELECT", "13"); c.Call("FLUSHDB"); c.Call("SELECT", "0"); }
    }

    [Theory]
    [InlineData(5, "listpack")]
    [InlineData(600, "hashtable")]
    public void Hrandfield_returns_distinct_existing_fields_for_positive_count(int size, string encoding)
    {
        using var c = _f.Basalt.Connect();
        string key = $"hr:pos:{size}";
        Fill(c, key, size);
        Assert.Equal(encoding, c.Call("OBJECT", "ENCODING", key).Text);
        foreach (int count in new[] { 1, 3, size - 1, size, size + 10 })
        {
            var fields = Texts(c.Call("HRANDFIELD", key, count));
            Assert.Equal(Math.Min(count, size), fields.Length);
            Assert.Equal(fields.Length, fields.Distinct().Count());
            Assert.All(fields, f => Assert.Matches("^f\\d+$", f));
            Assert.All(fields, f => Assert.True(int.Parse(f[1..]) < size));
        }
        var one = c.Call("HRANDFIELD", key).Text!;
        Assert.True(int.Parse(one[1..]) < size);
    }

    [Fact]
    public void Hrandfield_negative_count_may_repeat_and_withvalues_pairs_match()
    {
        using var c = _f.Basalt.Connect();
        Fill(c, "hr:neg", 3);
        var fields = Texts(c.Call("HRANDFIELD", "hr:neg", -50));
        Assert.Equal(50, fields.Length);
        Assert.True(fields.Distinct().Count() <= 3);
        var flat = Texts(c.Call("HRANDFIELD", "hr:neg", -20, "WITHVALUES"));
        Assert.Equal(40, flat.Length);
        for (int i = 0; i < flat.Length; i += 2) Assert.Equal("v" + flat[i][1..], flat[i + 1]);

        c.Call("HELLO", "3");
        var nested = c.Call("HRANDFIELD", "hr:neg", 2, "WITHVALUES");
        Assert.Equal(2, nested.Items!.Length);
        foreach (var pair in nested.Items)
        {
            Assert.Equal(RespType.Array, pair.Type);
            Assert.Equal("v" + pair.Items![0].Text![1..], pair.Items[1].Text);
        }
        c.Call("HELLO", "2");
    }

    [Fact]
    public void Hgetall_on_a_hashtable_has_the_same_content_as_redis()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        foreach (var c in new[] { b, r })
        {
            Fill(c, "hg:big", 600);
            c.Call("HDEL", "hg:big", "f7", "f8");
            c.Call("HSET", "hg:big", "f9", "changed");
        }
        Assert.Equal("hashtable", b.Call("OBJECT", "ENCODING", "hg:big").Text);
        static string[] Pairs(RespConnection c)
        {
            var flat = Texts(c.Call("HGETALL", "hg:big"));
            return Enumerable.Range(0, flat.Length / 2).Select(i => flat[2 * i] + "=" + flat[2 * i + 1]).Order().ToArray();
        }
        Assert.Equal(Pairs(r), Pairs(b));
        Assert.Equal(Texts(r.Call("HKEYS", "hg:big")).Order(), Texts(b.Call("HKEYS", "hg:big")).Order());
        Assert.Equal(Texts(r.Call("HVALS", "hg:big")).Order(), Texts(b.Call("HVALS", "hg:big")).Order());
    }

    [Fact]
    public void Hscan_on_a_hashtable_visits_every_field_once_across_cursors()
    {
        using var c = _f.Basalt.Connect();
        Fill(c, "hs:big", 700);
        var seen = new List<string>();
        string cursor = "0";
        int calls = 0;
        do
        {
            var reply = c.Call("HSCAN", "hs:big", cursor, "COUNT", 37);
            cursor = reply.Items![0].Text!;
            var items = Texts(reply.Items[1]);
            Assert.True(items.Length <= 74);
            for (int i = 0; i < items.Length; i += 2)
            {
                Assert.Equal("v" + items[i][1..], items[i + 1]);
                seen.Add(items[i]);
            }
            calls++;
        } while (cursor != "0" && calls < 1000);
        Assert.True(calls > 1, "a hashtable scan with COUNT 37 should take several calls");
        Assert.Equal(700, seen.Count);
        Assert.Equal(700, seen.Distinct().Count());

        var matched = Texts(c.Call("HSCAN", "hs:big", "0", "MATCH", "f1?", "COUNT", 10000).Items![1]);
        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"f{i}").Order(), matched.Where((_, i) => i % 2 == 0).Order());
    }

    [Theory]
    [InlineData("10.5", "0.1", "10.6")]
    [InlineData("3010.6", "0", "3010.60000000000000009")]
    [InlineData("10.6", "3.0e3", "3010.60000000000000009")]
    [InlineData("0.1", "0.2", "0.3")]
    [InlineData("1", "-1", "0")]
    [InlineData("-0.0", "-0.0", "0")]
    [InlineData("1e30", "0", "1000000000000000000024696061952")]
    [InlineData("0x1p-1", "0", "0.5")]
    [InlineData("6e-18", "0", "0.00000000000000001")]
    [InlineData("5.0e-18", "0", "0")]
    [InlineData("4.9e-18", "0", "0")]
    public void Long_double_addition_prints_like_x87_percent_17Lf(string a, string b, string expected)
    {
        Assert.True(LongDouble.TryParse(Encoding.ASCII.GetBytes(a), out var x));
        Assert.True(LongDouble.TryParse(Encoding.ASCII.GetBytes(b), out var y));
        Assert.Equal(expected, LongDouble.Add(x, y).ToHumanString());
    }

    [Theory]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1x")]
    [InlineData("nan")]
    [InlineData("1e5000")]
    [InlineData("1e-5000")]
    [InlineData("--1")]
    public void Long_double_parse_rejects_what_string2ld_rejects(string s)
    {
        Assert.False(LongDouble.TryParse(Encoding.ASCII.GetBytes(s), out _));
    }

    [Fact]
    public void Hincrbyfloat_matches_redis_over_a_chain_of_increments()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var rng = new Random(7);
        for (int i = 0; i < 60; i++)
        {
            string incr = (rng.NextDouble() * Math.Pow(10, rng.Next(-5, 12)) * (rng.Next(2) == 0 ? -1 : 1)).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            var rb = b.Call("HINCRBYFLOAT", "hf:chain", "x", incr).Text;
            var rr = r.Call("HINCRBYFLOAT", "hf:chain", "x", incr).Text;
            Assert.True(rr == rb, $"step {i} incr {incr}: redis {rr} basalt {rb}");
        }
    }
}
