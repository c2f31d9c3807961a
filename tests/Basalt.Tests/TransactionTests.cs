using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>MULTI/EXEC/DISCARD/WATCH against Basalt and redis-server 7.0 side by side.</summary>
public class TransactionTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public TransactionTests(DifferentialFixture f) => _f = f;

    private ServerProcess[] Both => [_f.Basalt, _f.Redis];

    private static string Raw(RespConnection c, params object[] args) => CorpusRunner.Escape(c.CallRaw(args));

    [Fact]
    public void Transactions_corpus_matches_redis()
    {
        var diffs = CorpusRunner.Run("transactions.txt", _f.Basalt, _f.Redis);
        Assert.True(diffs.Count == 0, $"{diffs.Count} differing line(s):\n" + string.Join("\n", diffs));
    }

    /// <summary>
    /// Connection A watches tx:wk:k, connection B runs <paramref name="between"/>, then A runs MULTI/PING/EXEC.
    /// Returns EXEC's raw reply.
    /// </summary>
    private static string WatchScenario(ServerProcess server, object[][] setup, object[][] between, string watchDb = "0")
    {
        using var a = server.Connect();
        using var b = server.Connect();
        b.Call("FLUSHALL");
        foreach (var cmd in setup) b.Call(cmd);
        a.Call("SELECT", watchDb);
        Assert.Equal("OK", a.Call("WATCH", "tx:wk:k").Text);
        foreach (var cmd in between) b.Call(cmd);
        Assert.Equal("OK", a.Call("MULTI").Text);
        Assert.Equal("QUEUED", a.Call("PING").Text);
        return Raw(a, "EXEC");
    }

    private const string Aborted = "*-1\\r\\n";
    private const string Ran = "*1\\r\\n+PONG\\r\\n";

    public static IEnumerable<object[]> Scenarios() => new (string Name, string[][] Setup, string[][] Between, string Expected)[]
    {
        ("no change", [["SET", "tx:wk:k", "1"]], [["GET", "tx:wk:k"]], Ran),
        ("other key set", [], [["SET", "tx:wk:j", "1"]], Ran),
        ("SET of a missing key", [], [["SET", "tx:wk:k", "1"]], Aborted),
        ("SET same value", [["SET", "tx:wk:k", "1"]], [["SET", "tx:wk:k", "1"]], Aborted),
        ("SETNX that fails", [["SET", "tx:wk:k", "1"]], [["SETNX", "tx:wk:k", "2"]], Ran),
        ("DEL", [["SET", "tx:wk:k", "1"]], [["DEL", "tx:wk:k"]], Aborted),
        ("DEL of a missing key", [], [["DEL", "tx:wk:k"]], Ran),
        ("EXPIRE", [["SET", "tx:wk:k", "1"]], [["EXPIRE", "tx:wk:k", "100"]], Aborted),
        ("EXPIRE NX that fails", [["SET", "tx:wk:k", "1", "EX", "100"]], [["EXPIRE", "tx:wk:k", "100", "NX"]], Ran),
        ("PERSIST without TTL", [["SET", "tx:wk:k", "1"]], [["PERSIST", "tx:wk:k"]], Ran),
        ("PERSIST", [["SET", "tx:wk:k", "1", "EX", "100"]], [["PERSIST", "tx:wk:k"]], Aborted),
        ("INCRBY 0", [["SET", "tx:wk:k", "1"]], [["INCRBY", "tx:wk:k", "0"]], Aborted),
        ("APPEND empty", [["SET", "tx:wk:k", "1"]], [["APPEND", "tx:wk:k", ""]], Aborted),
        ("RENAME from", [["SET", "tx:wk:k", "1"]], [["RENAME", "tx:wk:k", "tx:wk:z"]], Aborted),
        ("RENAME to", [["SET", "tx:wk:z", "1"]], [["RENAME", "tx:wk:z", "tx:wk:k"]], Aborted),
        ("MOVE away", [["SET", "tx:wk:k", "1"]], [["MOVE", "tx:wk:k", "1"]], Aborted),
        ("SET in another db", [], [["SELECT", "1"], ["SET", "tx:wk:k", "1"]], Ran),
        ("FLUSHALL of an existing key", [["SET", "tx:wk:k", "1"]], [["FLUSHALL"]], Aborted),
        ("FLUSHALL of a missing key", [["SET", "tx:wk:j", "1"]], [["FLUSHALL"]], Ran),
        ("FLUSHDB of another db", [["SET", "tx:wk:k", "1"]], [["SELECT", "1"], ["FLUSHDB"]], Ran),
        ("FLUSHDB ASYNC", [["SET", "tx:wk:k", "1"]], [["FLUSHDB", "ASYNC"]], Aborted),
        ("SWAPDB, key only here", [["SET", "tx:wk:k", "1"]], [["SWAPDB", "0", "1"]], Aborted),
        ("SWAPDB, key only there", [["SELECT", "1"], ["SET", "tx:wk:k", "1"]], [["SWAPDB", "0", "1"]], Aborted),
        ("SWAPDB, key nowhere", [["SET", "tx:wk:j", "1"]], [["SWAPDB", "1", "0"]], Ran),
        ("SWAPDB of other dbs", [["SET", "tx:wk:k", "1"]], [["SWAPDB", "1", "2"]], Ran),
        ("GETDEL", [["SET", "tx:wk:k", "1"]], [["GETDEL", "tx:wk:k"]], Aborted),
        ("GETEX without options", [["SET", "tx:wk:k", "1"]], [["GETEX", "tx:wk:k"]], Ran),
        ("GETEX EX", [["SET", "tx:wk:k", "1"]], [["GETEX", "tx:wk:k", "EX", "100"]], Aborted),
        ("GETEX PERSIST", [["SET", "tx:wk:k", "1", "EX", "100"]], [["GETEX", "tx:wk:k", "PERSIST"]], Aborted),
        ("GETSET", [["SET", "tx:wk:k", "1"]], [["GETSET", "tx:wk:k", "2"]], Aborted),
        ("SETRANGE", [["SET", "tx:wk:k", "1"]], [["SETRANGE", "tx:wk:k", "0", "x"]], Aborted),
        ("SETRANGE empty", [["SET", "tx:wk:k", "1"]], [["SETRANGE", "tx:wk:k", "0", ""]], Ran),
        ("SETBIT", [], [["SETBIT", "tx:wk:k", "3", "1"]], Aborted),
        ("BITOP into it", [["SET", "tx:wk:j", "1"]], [["BITOP", "NOT", "tx:wk:k", "tx:wk:j"]], Aborted),
        ("COPY onto it", [["SET", "tx:wk:j", "1"]], [["COPY", "tx:wk:j", "tx:wk:k"]], Aborted),
        ("COPY from it", [["SET", "tx:wk:k", "1"]], [["COPY", "tx:wk:k", "tx:wk:j"]], Ran),
        ("MSET", [], [["MSET", "tx:wk:j", "1", "tx:wk:k", "2"]], Aborted),
        ("MSETNX that fails", [["SET", "tx:wk:j", "1"]], [["MSETNX", "tx:wk:j", "1", "tx:wk:k", "2"]], Ran),
        ("INCRBYFLOAT", [["SET", "tx:wk:k", "1"]], [["INCRBYFLOAT", "tx:wk:k", "0.5"]], Aborted),
        ("SETEX", [], [["SETEX", "tx:wk:k", "100", "v"]], Aborted),
        ("EXPIRE in the past", [["SET", "tx:wk:k", "1"]], [["EXPIRE", "tx:wk:k", "-1"]], Aborted),
        ("RENAMENX that fails", [["SET", "tx:wk:k", "1"], ["SET", "tx:wk:j", "1"]], [["RENAMENX", "tx:wk:j", "tx:wk:k"]], Ran),
        ("SET NX that fails", [["SET", "tx:wk:k", "1"]], [["SET", "tx:wk:k", "2", "NX"]], Ran),
        ("SET KEEPTTL", [["SET", "tx:wk:k", "1", "EX", "100"]], [["SET", "tx:wk:k", "2", "KEEPTTL"]], Aborted),
    }.Select(s => new object[] { s.Name, s.Setup, s.Between, s.Expected });

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Watch_is_invalidated_by_another_connection_like_redis(string name, string[][] setup, string[][] between, string expected)
    {
        object[][] S(string[][] x) => x.Select(c => c.Cast<object>().ToArray()).ToArray();
        string r = WatchScenario(_f.Redis, S(setup), S(between));
        string b = WatchScenario(_f.Basalt, S(setup), S(between));
        Assert.True(expected == r, $"{name}: the reference server answered {r}");
        Assert.True(r == b, $"{name}: redis {r}, basalt {b}");
    }

    [Fact]
    public void Watch_in_a_selected_db_tracks_that_db()
    {
        foreach (var s in Both)
        {
            Assert.Equal(Aborted, WatchScenario(s, [], [["SELECT", "3"], ["SET", "tx:wk:k", "1"]], watchDb: "3"));
            Assert.Equal(Ran, WatchScenario(s, [], [["SET", "tx:wk:k", "1"]], watchDb: "3"));
        }
    }

    [Fact]
    public void Watched_key_that_expires_fails_exec()
    {
        foreach (var s in Both)
        {
            using var a = s.Connect();
            using var b = s.Connect();
            b.Call("SET", "tx:exp:k", "v", "PX", "50");
            a.Call("WATCH", "tx:exp:k");
            // Reading the key deletes it once its TTL has passed (active expiry may get there first).
            Tools.WaitUntil(() => b.Call("EXISTS", "tx:exp:k").Integer == 0, TimeSpan.FromSeconds(5), "key expired");
            a.Call("MULTI");
            a.Call("PING");
            Assert.Equal(Aborted, Raw(a, "EXEC"));
        }
    }

    /// <summary>With active expiry off the key stays stored past its TTL: EXEC itself must notice.</summary>
    [Fact]
    public void Watched_key_past_its_ttl_but_not_yet_deleted_fails_exec()
    {
        foreach (var s in Both)
        {
            using var a = s.Connect();
            Assert.Equal("OK", a.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0").Text);
            try
            {
                a.Call("FLUSHALL");
                a.Call("SET", "tx:exp2:k", "v", "PX", "40");
                a.Call("WATCH", "tx:exp2:k");
                var sw = Stopwatch.StartNew();
                Tools.WaitUntil(() => sw.ElapsedMilliseconds > 80, TimeSpan.FromSeconds(5), "TTL passed");
                Assert.Equal(1, a.Call("DBSIZE").Integer); // still stored
                a.Call("MULTI");
                a.Call("PING");
                Assert.Equal(Aborted, Raw(a, "EXEC"));
            }
            finally { a.Call("DEBUG", "SET-ACTIVE-EXPIRE", "1"); a.Call("FLUSHALL"); }
        }
    }

    /// <summary>Redis 7.0: a key already expired when WATCHed is logically absent; its deletion is no change, a SET is.</summary>
    [Theory]
    [InlineData("none", Ran)]
    [InlineData("lazy delete", Ran)]
    [InlineData("set", Aborted)]
    [InlineData("flushall", Ran)]
    [InlineData("swapdb", Ran)]
    public void Watching_an_already_expired_key(string action, string expected)
    {
        foreach (var s in Both)
        {
            using var a = s.Connect();
            using var b = s.Connect();
            Assert.Equal("OK", a.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0").Text);
            try
            {
                b.Call("FLUSHALL");
                b.Call("SET", "tx:exp3:k", "v", "PX", "20");
                var sw = Stopwatch.StartNew();
                Tools.WaitUntil(() => sw.ElapsedMilliseconds > 50, TimeSpan.FromSeconds(5), "TTL passed");
                a.Call("WATCH", "tx:exp3:k");
                switch (action)
                {
                    case "lazy delete": Assert.Equal(0, b.Call("EXISTS", "tx:exp3:k").Integer); break;
                    case "set": b.Call("SET", "tx:exp3:k", "w"); break;
                    case "flushall": b.Call("FLUSHALL"); break;
                    case "swapdb": b.Call("SWAPDB", "0", "5"); b.Call("SWAPDB", "0", "5"); break;
                }
                a.Call("MULTI");
                a.Call("PING");
                Assert.True(expected == Raw(a, "EXEC"), $"{action} on {(s == _f.Redis ? "redis" : "basalt")}");
            }
            finally { a.Call("DEBUG", "SET-ACTIVE-EXPIRE", "1"); a.Call("FLUSHALL"); }
        }
    }

    [Fact]
    public void Watch_is_cleared_by_exec_discard_unwatch_and_reset()
    {
        foreach (var s in Both)
        {
            using var a = s.Connect();
            using var b = s.Connect();
            foreach (var end in new[] { "EXEC", "DISCARD", "UNWATCH", "RESET" })
            {
                a.Call("WATCH", "tx:clr:k");
                if (end != "UNWATCH" && end != "RESET") a.Call("MULTI");
                a.Call(end);
                b.Call("SET", "tx:clr:k", end);
                a.Call("MULTI");
                a.Call("PING");
                Assert.True(Ran == Raw(a, "EXEC"), end);
            }
        }
    }

    [Fact]
    public void Resp3_failed_exec_is_a_null()
    {
        foreach (var s in Both)
        {
            using var a = s.Connect();
            a.Call("HELLO", "3");
            a.Call("WATCH", "tx:r3:k");
            a.Call("SET", "tx:r3:k", "1");
            a.Call("MULTI");
            a.Call("PING");
            Assert.Equal("_\\r\\n", Raw(a, "EXEC"));
        }
    }

    [Fact]
    public void Client_list_shows_multi_count_and_dirty_flag()
    {
        foreach (var s in Both)
        {
            using var a = s.Connect();
            using var b = s.Connect();
            string Line() => b.Call("CLIENT", "LIST").Text!.Split('\n').Single(l => l.Contains(" name=tx-cl "));
            a.Call("CLIENT", "SETNAME", "tx-cl");
            Assert.Contains(" flags=N ", Line());
            Assert.Contains(" multi=-1 ", Line());
            a.Call("WATCH", "tx:cl:k");
            b.Call("SET", "tx:cl:k", "1");
            Assert.Contains(" flags=d ", Line());
            a.Call("MULTI");
            a.Call("SET", "tx:cl:a", "1");
            a.Call("GET", "tx:cl:a");
            var l = Line();
            Assert.Contains(" flags=xd ", l);
            Assert.Contains(" multi=0 ", l); // a doomed transaction stores nothing
            Assert.Contains(" cmd=get ", l);
            a.Call("EXEC");
            Assert.Contains(" multi=-1 ", Line());
            Assert.Contains(" flags=N ", Line());
            a.Call("MULTI");
            a.Call("SET", "tx:cl:a", "1");
            a.Call("GET", "tx:cl:a");
            Assert.Contains(" flags=x multi=", Line().Replace(" db=0 sub=0 psub=0 ssub=0", ""));
            Assert.Contains(" multi=2 ", Line());
            a.Call("EXEC");
            // Inside EXEC the client is still in MULTI, with its queue, and the current command is exec.
            a.Call("MULTI");
            a.Call("CLIENT", "INFO");
            var inner = a.Call("EXEC").Items![0].Text!;
            Assert.Contains(" flags=x ", inner);
            Assert.Contains(" multi=1 ", inner);
            Assert.Contains(" cmd=exec ", inner);
        }
    }

    [Fact]
    public void Queued_commands_count_in_stats_when_executed()
    {
        foreach (var s in Both)
        {
            using var a = s.Connect();
            a.Call("CONFIG", "RESETSTAT");
            a.Call("MULTI");
            a.Call("SET", "tx:st:a", "x");
            a.Call("INCR", "tx:st:a");
            string queued = a.Call("INFO", "commandstats").Text!;
            a.Call("EXEC");
            string after = a.Call("INFO", "commandstats").Text!;
            string stats = a.Call("INFO", "stats").Text!;
            string errors = a.Call("INFO", "errorstats").Text!;
            Assert.DoesNotContain("cmdstat_set:", queued + a.Call("PING").Text);
            Assert.Matches(@"cmdstat_set:calls=1,", after);
            Assert.Matches(@"cmdstat_incr:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=1", after);
            Assert.Matches(@"cmdstat_exec:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0", after);
            // CONFIG RESETSTAT, MULTI, SET, INCR, EXEC, INFO, INFO
            Assert.Contains("total_commands_processed:7\r\n", stats);
            Assert.Contains("errorstat_ERR:count=1\r\n", errors);
        }
    }

    [Fact]
    public void Rejected_exec_and_queueing_errors_are_counted_like_redis()
    {
        foreach (var s in Both)
        {
            using var a = s.Connect();
            a.Call("CONFIG", "RESETSTAT");
            a.Call("MULTI");
            a.Call("SHUTDOWN");
            Assert.Equal("EXECABORT Transaction discarded because of previous errors.", a.Call("EXEC").Text);
            Assert.Equal("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command", a.Call("EXEC", "x").Text);
            string cs = a.Call("INFO", "commandstats").Text!;
            string es = a.Call("INFO", "errorstats").Text!;
            Assert.Matches(@"cmdstat_shutdown:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0", cs);
            Assert.Matches(@"cmdstat_exec:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=1,failed_calls=1", cs);
            Assert.Contains("errorstat_EXECABORT:count=2\r\n", es);
            Assert.Contains("errorstat_ERR:count=1\r\n", es);
        }
    }

    [Fact]
    public void Monitor_sees_queued_commands_at_exec_time()
    {
        foreach (var s in Both)
        {
            using var m = s.Connect();
            using var a = s.Connect();
            m.Call("MONITOR");
            a.Call("multi");
            a.Call("Set", "tx:mon", "1");
            a.Call("nosuch");
            a.Call("Exec");
            a.Call("MULTI");
            a.Call("GET", "tx:mon");
            a.Call("EXEC");
            a.Call("EXEC", "x");
            var lines = Enumerable.Range(0, 6).Select(_ => Regex.Replace(m.Read().Text!, @"^\S+ \[0 \S+\] ", "")).ToArray();
            Assert.Equal(["\"multi\"", "\"Exec\"", "\"MULTI\"", "\"GET\" \"tx:mon\"", "\"EXEC\"", "\"EXEC\" \"x\""], lines);
        }
    }

    [Fact]
    public void Monitor_inside_exec_is_refused()
    {
        foreach (var s in Both)
        {
            using var a = s.Connect();
            a.Call("MULTI");
            Assert.Equal("QUEUED", a.Call("MONITOR").Text);
            Assert.Equal("*1\\r\\n-ERR MONITOR isn't allowed for DENY BLOCKING client\\r\\n", Raw(a, "EXEC"));
            Assert.Equal("PONG", a.Call("PING").Text);
        }
    }

    [Fact]
    public void Pipelined_transaction_with_large_arguments_survives_buffer_reuse()
    {
        // The queued arguments must be copies: the receive buffer is compacted and reused between reads.
        var big = new string('x', 100_000);
        foreach (var s in Both)
        {
            using var a = s.Connect();
            var parts = new List<byte[]> { Basalt.Protocol.RespValue.EncodeCommand("MULTI") };
            for (int i = 0; i < 20; i++) parts.Add(Basalt.Protocol.RespValue.EncodeCommand("SET", $"tx:big:{i}", big + i));
            parts.Add(Basalt.Protocol.RespValue.EncodeCommand("MGET", "tx:big:0", "tx:big:19"));
            parts.Add(Basalt.Protocol.RespValue.EncodeCommand("EXEC"));
            a.SendRaw(parts.SelectMany(p => p).ToArray());
            Assert.Equal("OK", a.Read().Text);
            for (int i = 0; i < 21; i++) Assert.Equal("QUEUED", a.Read().Text);
            var exec = a.Read();
            Assert.Equal(21, exec.Items!.Length);
            Assert.Equal(big + "0", exec.Items[20].Items![0].Text);
            Assert.Equal(big + "19", exec.Items[20].Items![1].Text);
            Assert.Equal(20, a.Call(Enumerable.Range(0, 20).Select(i => (object)$"tx:big:{i}").Prepend("DEL").ToArray()).Integer);
        }
    }

    [Fact]
    public void Disconnecting_client_drops_its_transaction_and_watches()
    {
        using var b = _f.Basalt.Connect();
        for (int i = 0; i < 3; i++)
        {
            using (var a = _f.Basalt.Connect())
            {
                a.Call("WATCH", "tx:dc:k");
                a.Call("MULTI");
                a.Call("SET", "tx:dc:k", "1");
            }
        }
        // The closed clients are gone from CLIENT LIST (and their watches with them: a SET still works).
        Tools.WaitUntil(() => b.Call("CLIENT", "LIST").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 1,
            TimeSpan.FromSeconds(5), "closed clients removed");
        Assert.Equal("OK", b.Call("SET", "tx:dc:k", "2").Text);
        Assert.Equal("2", b.Call("GET", "tx:dc:k").Text);
    }

    [Fact]
    public void Redis_py_transactions_suite_passes()
    {
        var r = Tools.RunClientSuite("test_transactions.py", _f.Basalt.Port);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Matches(@"\d+ passed, 0 failed", r.StdOut);
    }
}
