using System.Text;
using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Sorted sets compared with redis-server 7.0: random workloads on both encodings, and targeted checks for random replies.</summary>
public class SortedSetTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public SortedSetTests(DifferentialFixture f) => _f = f;

    private static string Escape(string s) => s.Replace("\r", "\\r").Replace("\n", "\\n");

    // The corpus (Corpus/zsets.txt) is replayed by CorpusTests.

    /// <summary>
    /// Small sorted sets are stored without a wrapper object (a bare listpack in the key's slot): every path that meets a
    /// stored value — single- and multi-key commands, stores onto a source, SORT's conversion, blocking pops served by
    /// a push, GEO, COPY/RENAME/MOVE, DUMP/RESTORE, digests, TYPE/ENCODING/SCAN TYPE — must give Redis's replies.
    /// </summary>
    [Fact]
    public void Bare_listpack_sorted_sets_behave_like_redis_through_every_path()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        foreach (var c in new[] { b, r }) { c.Call("SELECT", "14"); c.Call("FLUSHDB"); }
        var script = new object[][]
        {
            ["ZADD", "zp:a", "1", "one", "2", "two", "3", "three"], ["ZRANGE", "zp:a", "0", "-1", "WITHSCORES"],
            ["OBJECT", "ENCODING", "zp:a"], ["TYPE", "zp:a"], ["GET", "zp:a"], ["HSET", "zp:a", "f", "v"],
            ["ZINCRBY", "zp:a", "10", "one"], ["ZADD", "zp:a", "XX", "CH", "5", "two"], ["ZREM", "zp:a", "three", "nosuch"],
            ["ZSCORE", "zp:a", "one"], ["ZRANK", "zp:a", "two"], ["ZCARD", "zp:a"], ["ZINCRBY", "zp:new", "1.5", "m"],
            ["ZADD", "zp:b", "1", "x", "2", "one"], ["ZUNIONSTORE", "zp:a", "2", "zp:a", "zp:b"], ["ZRANGE", "zp:a", "0", "-1", "WITHSCORES"],
            ["ZINTER", "2", "zp:a", "zp:b", "WITHSCORES"], ["ZDIFFSTORE", "zp:d", "2", "zp:a", "zp:b"], ["ZRANGE", "zp:d", "0", "-1"],
            ["ZRANGESTORE", "zp:b", "zp:b", "0", "0"], ["ZRANGE", "zp:b", "0", "-1", "WITHSCORES"],
            ["ZMPOP", "2", "zp:nosuch", "zp:a", "MIN", "COUNT", "2"], ["ZPOPMAX", "zp:a"], ["EXISTS", "zp:a"],
            ["ZADD", "zp:s", "3", "c", "1", "a", "2", "b"], ["SORT", "zp:s", "ALPHA"], ["OBJECT", "ENCODING", "zp:s"],
            ["ZADD", "zp:c", "1", "m1", "2", "m2"], ["COPY", "zp:c", "zp:c2"], ["ZADD", "zp:c2", "3", "m3"],
            ["ZRANGE", "zp:c", "0", "-1"], ["ZRANGE", "zp:c2", "0", "-1"], ["RENAME", "zp:c2", "zp:c3"], ["MOVE", "zp:c3", "15"],
            ["EXISTS", "zp:c3"], ["DEBUG", "DIGEST-VALUE", "zp:c", "zp:b", "zp:s", "zp:new"],
            ["GEOADD", "zp:g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
            ["GEODIST", "zp:g", "Palermo", "Catania", "km"], ["GEOSEARCHSTORE", "zp:g", "zp:g", "FROMMEMBER", "Palermo", "BYRADIUS", "100", "km"],
            ["ZRANGE", "zp:g", "0", "-1"], ["OBJECT", "ENCODING", "zp:g"],
            ["ZADD", "zp:big", "1", new string('m', 100)], ["OBJECT", "ENCODING", "zp:big"],
        };
        foreach (var args in script)
            Same(b, r, args);
        // SCAN TYPE finds the bare sets (order is the hash tables', so compared as sets).
        static string[] Scanned(RespConnection c) => c.Call("SCAN", "0", "TYPE", "zset", "COUNT", "1000").Items![1].Items!.Select(i => i.Text!).Order().ToArray();
        Assert.Equal(Scanned(r), Scanned(b));
        // Past zset-max-listpack-entries one ZADD converts; the set keeps every member in Redis's order.
        foreach (var c in new[] { b, r })
        {
            var args = new List<object> { "ZADD", "zp:grow" };
            for (int i = 0; i < 200; i++) { args.Add((i % 7).ToString()); args.Add("m" + i); }
            c.Call(args.ToArray());
        }
        Same(b, r, "OBJECT", "ENCODING", "zp:grow");
        Same(b, r, "ZRANGE", "zp:grow", "0", "-1", "WITHSCORES");
        // DUMP/RESTORE both ways.
        foreach (var c in new[] { b, r }) c.Call("ZADD", "zp:dump", "1", "x", "2.5", "y");
        Assert.Equal("OK", b.Call("RESTORE", "zp:r", "0", r.Call("DUMP", "zp:dump").Bytes!).Text);
        Assert.Equal("OK", r.Call("RESTORE", "zp:r", "0", r.Call("DUMP", "zp:dump").Bytes!).Text);
        Assert.Equal("OK", r.Call("RESTORE", "zp:fromb", "0", b.Call("DUMP", "zp:dump").Bytes!).Text);
        Same(b, r, "ZRANGE", "zp:r", "0", "-1", "WITHSCORES");
        Assert.Equal(Encoding.UTF8.GetString(r.CallRaw("ZRANGE", "zp:dump", "0", "-1", "WITHSCORES")),
            Encoding.UTF8.GetString(r.CallRaw("ZRANGE", "zp:fromb", "0", "-1", "WITHSCORES")));
        r.Call("DEL", "zp:fromb");
        Same(b, r, "DEBUG", "DIGEST-VALUE", "zp:r", "zp:grow", "zp:dump", "zp:g");
        foreach (var c in new[] { b, r }) { c.Call("FLUSHDB"); c.Call("SELECT", "15"); c.Call("FLUSHDB"); c.Call("SELECT", "0"); }
    }

    /// <summary>A blocked BZPOPMIN is served by a ZADD that creates a bare listpack set, from the pushing client's context.</summary>
    [Fact]
    public void Blocked_pop_is_served_from_a_bare_listpack_set()
    {
        foreach (var server in new[] { _f.Basalt, _f.Redis })
        {
            using var waiter = server.Connect();
            using var pusher = server.Connect();
            waiter.Call("SELECT", "14");
            pusher.Call("SELECT", "14");
            pusher.Call("DEL", "zp:block");
            waiter.Send("BZPOPMIN", "zp:block", "10");
            Tools.WaitUntil(() => pusher.Call("CLIENT", "LIST").Text!.Contains("cmd=bzpopmin"), TimeSpan.FromSeconds(10), "client blocked");
            Assert.Equal(2, pusher.Call("ZADD", "zp:block", "5", "a", "7", "b").Integer);
            var popped = waiter.Read();
            Assert.Equal(new[] { "zp:block", "a", "5" }, popped.Items!.Select(i => i.Text).ToArray());
            Assert.Equal(1, pusher.Call("ZCARD", "zp:block").Integer);
            Assert.Equal("7", pusher.Call("ZSCORE", "zp:block", "b").Text);
            pusher.Call("DEL", "zp:block");
        }
    }

    /// <summary>Sends the same command to both servers and asserts identical bytes.</summary>
    private static void Same(RespConnection b, RespConnection r, params object[] args)
    {
        var expected = Encoding.UTF8.GetString(r.CallRaw(args));
        var actual = Encoding.UTF8.GetString(b.CallRaw(args));
        Assert.True(expected == actual, $"{string.Join(' ', args)}\nredis:  {Escape(expected)}\nbasalt: {Escape(actual)}");
    }

    [Theory]
    [InlineData(128, 1)]   // stays listpack until it grows past 128
    [InlineData(8, 2)]     // skiplist most of the time
    public void Random_workload_matches_redis(int maxEntries, int seed)
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        foreach (var c in new[] { b, r })
        {
            c.Call("SELECT", "6");
            c.Call("CONFIG", "SET", "zset-max-listpack-entries", maxEntries.ToString());
        }
        var rng = new Random(seed);
        string key = "zr:w" + seed, lex = "zr:lex" + seed, dst = "zr:dst" + seed;
        Same(b, r, "DEL", key, lex, dst);
        try
        {
            for (int step = 0; step < 600; step++)
            {
                string m = "m" + rng.Next(200);
                string score = rng.Next(4) == 0 ? (rng.Next(-50, 50) / 4.0).ToString(System.Globalization.CultureInfo.InvariantCulture) : rng.Next(-20, 20).ToString();
                int a = rng.Next(-30, 30), z = rng.Next(-30, 30);
                switch (rng.Next(16))
                {
                    case 0: case 1: case 2: Same(b, r, "ZADD", key, score, m, rng.Next(-5, 5).ToString(), "m" + rng.Next(200)); break;
                    case 3: Same(b, r, "ZADD", key, "GT", "CH", score, m); break;
                    case 4: Same(b, r, "ZINCRBY", key, score, m); break;
                    case 5: Same(b, r, "ZREM", key, m, "m" + rng.Next(200)); break;
                    case 6: Same(b, r, "ZRANK", key, m); Same(b, r, "ZREVRANK", key, m); break;
                    case 7: Same(b, r, "ZRANGE", key, a.ToString(), z.ToString(), "WITHSCORES"); break;
                    case 8: Same(b, r, "ZRANGEBYSCORE", key, "(" + Math.Min(a, z), Math.Max(a, z).ToString(), "WITHSCORES", "LIMIT", rng.Next(3).ToString(), rng.Next(-1, 6).ToString()); break;
                    case 9: Same(b, r, "ZREVRANGEBYSCORE", key, Math.Max(a, z).ToString(), Math.Min(a, z).ToString(), "LIMIT", "1", "4"); break;
                    case 10: Same(b, r, "ZCOUNT", key, a.ToString(), "(" + z); break;
                    case 11: Same(b, r, "ZADD", lex, "0", m); Same(b, r, "ZRANGEBYLEX", lex, "[m" + rng.Next(200), "(m" + rng.Next(200)); break;
                    case 12: Same(b, r, "ZREVRANGEBYLEX", lex, "+", "[m" + rng.Next(200), "LIMIT", "0", "5"); Same(b, r, "ZLEXCOUNT", lex, "(m" + rng.Next(200), "+"); break;
                    case 13: if (rng.Next(6) == 0) Same(b, r, "ZREMRANGEBYRANK", key, a.ToString(), z.ToString()); else Same(b, r, "ZREMRANGEBYSCORE", key, a.ToString(), (a + 1).ToString()); break;
                    case 14: Same(b, r, rng.Next(2) == 0 ? "ZPOPMIN" : "ZPOPMAX", key, rng.Next(3).ToString()); break;
                    case 15: Same(b, r, "ZUNIONSTORE", dst, "2", key, lex, "WEIGHTS", "2", "1"); Same(b, r, "ZRANGE", dst, "0", "-1", "WITHSCORES"); Same(b, r, "OBJECT", "ENCODING", dst); break;
                }
                if (step % 50 == 0)
                {
                    Same(b, r, "ZRANGE", key, "0", "-1", "WITHSCORES");
                    Same(b, r, "OBJECT", "ENCODING", key);
                    Same(b, r, "ZCARD", key);
                }
            }
            Same(b, r, "ZRANGE", key, "0", "-1", "WITHSCORES");
            Same(b, r, "ZRANGE", lex, "0", "-1");
            Same(b, r, "DEBUG", "DIGEST-VALUE", key, lex);
        }
        finally
        {
            foreach (var c in new[] { b, r }) c.Call("CONFIG", "SET", "zset-max-listpack-entries", "128");
        }
    }

    private static Dictionary<string, string> Scores(RespConnection c, string key)
    {
        var v = c.Call("ZRANGE", key, "0", "-1", "WITHSCORES").Items!;
        var d = new Dictionary<string, string>();
        for (int i = 0; i < v.Length; i += 2) d[v[i].Text!] = v[i + 1].Text!;
        return d;
    }

    [Theory]
    [InlineData(10)]   // listpack
    [InlineData(300)]  // skiplist
    public void Zrandmember_returns_members_with_their_scores(int size)
    {
        using var c = _f.Basalt.Connect();
        string key = "zrand:" + size;
        c.Call("DEL", key);
        for (int i = 0; i < size; i++) c.Call("ZADD", key, (i * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture), "m" + i);
        var scores = Scores(c, key);

        // A positive count below the size: distinct members.
        var some = c.Call("ZRANDMEMBER", key, "5").Items!.Select(i => i.Text!).ToArray();
        Assert.Equal(5, some.Length);
        Assert.Equal(5, some.Distinct().Count());
        Assert.All(some, m => Assert.True(scores.ContainsKey(m)));

        // A count at or above the size: every member once.
        var all = c.Call("ZRANDMEMBER", key, (size + 7).ToString()).Items!.Select(i => i.Text!).OrderBy(s => s).ToArray();
        Assert.Equal(scores.Keys.OrderBy(s => s).ToArray(), all);

        // A negative count: exactly |count| picks, repetitions allowed.
        var reps = c.Call("ZRANDMEMBER", key, "-" + (size * 3)).Items!.Select(i => i.Text!).ToArray();
        Assert.Equal(size * 3, reps.Length);
        Assert.All(reps, m => Assert.True(scores.ContainsKey(m)));
        Assert.True(reps.Distinct().Count() < reps.Length);

        // WITHSCORES: flat member/score in RESP2 with the member's own score.
        var ws = c.Call("ZRANDMEMBER", key, "-20", "WITHSCORES").Items!;
        Assert.Equal(40, ws.Length);
        for (int i = 0; i < ws.Length; i += 2) Assert.Equal(scores[ws[i].Text!], ws[i + 1].Text);

        // Several draws are not all the same member.
        var singles = Enumerable.Range(0, 30).Select(_ => c.Call("ZRANDMEMBER", key).Text!).ToArray();
        Assert.All(singles, m => Assert.True(scores.ContainsKey(m)));
        Assert.True(singles.Distinct().Count() > 1);

        // RESP3: [member, score] pairs as doubles.
        c.Call("HELLO", "3");
        var pairs = c.Call("ZRANDMEMBER", key, "3", "WITHSCORES").Items!;
        Assert.Equal(3, pairs.Length);
        foreach (var p in pairs)
        {
            Assert.Equal(2, p.Items!.Length);
            Assert.Equal(RespType.Double, p.Items[1].Type);
            Assert.Equal(double.Parse(scores[p.Items[0].Text!], System.Globalization.CultureInfo.InvariantCulture),
                double.Parse(p.Items[1].Text!, System.Globalization.CultureInfo.InvariantCulture));
        }
        c.Call("HELLO", "2");
    }

    [Fact]
    public void Encoding_follows_redis_thresholds_and_config_changes()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        try
        {
            foreach (var c in new[] { b, r }) { c.Call("SELECT", "7"); c.Call("FLUSHDB"); }
            for (int i = 0; i < 128; i++) Same(b, r, "ZADD", "enc:n", i.ToString(), "m" + i);
            Same(b, r, "OBJECT", "ENCODING", "enc:n");                 // 128 entries: still listpack
            Same(b, r, "ZADD", "enc:n", "500", "one-more");
            Same(b, r, "OBJECT", "ENCODING", "enc:n");                 // 129: skiplist
            Same(b, r, "ZREMRANGEBYRANK", "enc:n", "0", "-3");
            Same(b, r, "OBJECT", "ENCODING", "enc:n");                 // shrinking never converts back
            Same(b, r, "ZRANGESTORE", "enc:copy", "enc:n", "0", "-1");
            Same(b, r, "OBJECT", "ENCODING", "enc:copy");              // a fresh destination fits a listpack again
            Same(b, r, "ZADD", "enc:v", "1", new string('x', 64));
            Same(b, r, "OBJECT", "ENCODING", "enc:v");                 // 64 bytes: listpack
            Same(b, r, "ZADD", "enc:v", "2", new string('y', 65));
            Same(b, r, "OBJECT", "ENCODING", "enc:v");                 // 65 bytes: skiplist
            Same(b, r, "ZRANGE", "enc:v", "0", "-1", "WITHSCORES");
            Same(b, r, "CONFIG", "SET", "zset-max-listpack-value", "2");
            Same(b, r, "ZADD", "enc:w", "1", "abc");
            Same(b, r, "OBJECT", "ENCODING", "enc:w");                 // thresholds are read live
            Same(b, r, "CONFIG", "SET", "zset-max-listpack-value", "64");
            Same(b, r, "CONFIG", "SET", "zset-max-listpack-entries", "3");
            Same(b, r, "ZADD", "enc:e", "1", "a", "2", "b", "3", "c");
            Same(b, r, "OBJECT", "ENCODING", "enc:e");
            Same(b, r, "ZINTERSTORE", "enc:i", "1", "enc:e");
            Same(b, r, "OBJECT", "ENCODING", "enc:i");
            Same(b, r, "ZADD", "enc:e", "4", "d");
            Same(b, r, "OBJECT", "ENCODING", "enc:e");
            Same(b, r, "ZUNIONSTORE", "enc:u", "1", "enc:e");
            Same(b, r, "OBJECT", "ENCODING", "enc:u");
            Same(b, r, "ZDIFFSTORE", "enc:d", "2", "enc:e", "enc:i");
            Same(b, r, "OBJECT", "ENCODING", "enc:d");
            Same(b, r, "ZRANGE", "enc:d", "0", "-1", "WITHSCORES");
            Same(b, r, "DEBUG", "DIGEST-VALUE", "enc:n", "enc:copy", "enc:v", "enc:w", "enc:e", "enc:i", "enc:u", "enc:d");
        }
        finally
        {
            foreach (var c in new[] { b, r })
            {
                c.Call("CONFIG", "SET", "zset-max-listpack-entries", "128");
                c.Call("CONFIG", "SET", "zset-max-listpack-value", "64");
            }
        }
    }

    [Fact]
    public void Zscan_of_a_skiplist_visits_every_member_that_stays()
    {
        using var c = _f.Basalt.Connect();
        const string key = "zscan:big";
        c.Call("DEL", key);
        for (int i = 0; i < 500; i++) c.Call("ZADD", key, i.ToString(), "m" + i);
        Assert.Equal("skiplist", c.Call("OBJECT", "ENCODING", key).Text);
        var seen = new Dictionary<string, string>();
        string cursor = "0";
        int calls = 0;
        do
        {
            var rep = c.Call("ZSCAN", key, cursor, "COUNT", "20");
            cursor = rep.Items![0].Text!;
            var els = rep.Items[1].Items!;
            for (int i = 0; i < els.Length; i += 2) seen[els[i].Text!] = els[i + 1].Text!;
            // Churn while iterating: removed and re-added members may or may not be seen; the rest must be.
            if (calls++ % 3 == 0) { c.Call("ZREM", key, "m" + (calls * 7 % 500)); c.Call("ZADD", key, "1", "new" + calls); }
        } while (cursor != "0" && calls < 1000);
        for (int i = 0; i < 500; i++)
        {
            bool churned = Enumerable.Range(0, calls + 1).Any(k => k * 7 % 500 == i);
            if (!churned) Assert.Equal(i.ToString(), seen["m" + i]);
        }
        // MATCH filters members.
        var filtered = c.Call("ZSCAN", key, "0", "MATCH", "m1?", "COUNT", "1000").Items![1].Items!;
        Assert.True(filtered.Length > 0);
        for (int i = 0; i < filtered.Length; i += 2) Assert.Matches("^m1[0-9]$", filtered[i].Text!);
    }

    [Fact]
    public void Pops_on_a_skiplist_match_redis_in_both_protocols()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        foreach (var c in new[] { b, r }) { c.Call("SELECT", "8"); c.Call("DEL", "pop:z"); }
        var args = new List<object> { "ZADD", "pop:z" };
        for (int i = 0; i < 200; i++) { args.Add((i % 17).ToString()); args.Add("e" + i); }
        Same(b, r, args.ToArray());
        Same(b, r, "ZPOPMIN", "pop:z", "3");
        Same(b, r, "ZPOPMAX", "pop:z");
        Same(b, r, "ZMPOP", "2", "pop:none", "pop:z", "MAX", "COUNT", "4");
        foreach (var c in new[] { b, r }) c.Call("HELLO", "3");
        Same(b, r, "ZPOPMIN", "pop:z");
        Same(b, r, "ZPOPMAX", "pop:z", "2");
        Same(b, r, "ZMPOP", "1", "pop:z", "MIN", "COUNT", "2");
        Same(b, r, "ZRANGE", "pop:z", "0", "5", "REV", "WITHSCORES");
        Same(b, r, "ZRANGEBYSCORE", "pop:z", "3", "(5", "WITHSCORES", "LIMIT", "2", "3");
        Same(b, r, "ZINTER", "1", "pop:z", "WITHSCORES");
        foreach (var c in new[] { b, r }) c.Call("HELLO", "2");
        Same(b, r, "ZPOPMIN", "pop:z", "1000");
        Same(b, r, "EXISTS", "pop:z");
    }

    [Fact]
    public void Blocking_pops_wake_up_on_zadd_like_redis()
    {
        foreach (var server in new[] { _f.Basalt, _f.Redis })
        {
            using var waiter = server.Connect();
            using var waiter2 = server.Connect();
            using var writer = server.Connect();
            foreach (var c in new[] { waiter, waiter2, writer }) c.Call("SELECT", "9");
            writer.Call("DEL", "bz:a", "bz:b");
            waiter.Send("BZPOPMAX", "bz:none", "bz:a", "5");
            waiter2.Send("BZMPOP", "5", "2", "bz:none", "bz:b", "MIN", "COUNT", "2");
            Tools.WaitUntil(() => writer.Call("INFO", "clients").Text!.Contains("blocked_clients:2"), TimeSpan.FromSeconds(10), "two blocked clients");
            writer.Call("ZADD", "bz:a", "1", "x", "2", "y");
            writer.Call("ZADD", "bz:b", "3", "p", "4", "q", "5", "r");
            Assert.Equal("*3\r\n$4\r\nbz:a\r\n$1\r\ny\r\n$1\r\n2\r\n", Encoding.UTF8.GetString(waiter.ReadRaw()));
            Assert.Equal("*2\r\n$4\r\nbz:b\r\n*2\r\n*2\r\n$1\r\np\r\n$1\r\n3\r\n*2\r\n$1\r\nq\r\n$1\r\n4\r\n",
                Encoding.UTF8.GetString(waiter2.ReadRaw()));
            Assert.Equal("r", writer.Call("ZRANGE", "bz:b", "0", "-1").Items!.Single().Text);
            // A timeout replies a null array.
            Assert.Equal("*-1\r\n", Encoding.UTF8.GetString(waiter.CallRaw("BZPOPMIN", "bz:none", "0.05")));
        }
    }
}
