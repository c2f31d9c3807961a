using System.Text;
using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>
/// Streams compared with redis-server 7.0: the corpus (explicit IDs), auto-ID shapes and monotonicity,
/// consumer-group flows where only idle times may differ, and XINFO field names.
/// </summary>
public class StreamDifferentialTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public StreamDifferentialTests(DifferentialFixture f) => _f = f;

    [Fact]
    public void Stream_corpus_replies_match_redis_byte_for_byte()
    {
        var diffs = CorpusRunner.Run("streams.txt", _f.Basalt, _f.Redis);
        Assert.True(diffs.Count == 0, $"{diffs.Count} differing line(s):\n" + string.Join("\n", diffs));
    }


    [Fact]
    public void Auto_ids_are_increasing_and_shaped_ms_dash_seq()
    {
        using var c = _f.Basalt.Connect();
        c.Call("DEL", "sa:auto");
        var prev = (Ms: 0UL, Seq: 0UL);
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (int i = 0; i < 50; i++)
        {
            string id = c.Call("XADD", "sa:auto", "*", "f", i.ToString()).Text;
            var parts = id.Split('-');
            Assert.Equal(2, parts.Length);
            var cur = (Ms: ulong.Parse(parts[0]), Seq: ulong.Parse(parts[1]));
            Assert.True(cur.Ms > prev.Ms || (cur.Ms == prev.Ms && cur.Seq > prev.Seq), $"{id} not above {prev}");
            Assert.True(cur.Ms >= (ulong)before - 1000 && cur.Ms <= (ulong)before + 60_000, $"ms {cur.Ms} far from now {before}");
            prev = cur;
        }
        Assert.Equal(50, c.Call("XLEN", "sa:auto").Integer);
        // An explicit ID in the future makes * continue from it, as Redis does.
        c.Call("XADD", "sa:auto", "99999999999999-5", "f", "v");
        Assert.Equal("99999999999999-6", c.Call("XADD", "sa:auto", "*", "f", "v").Text);
        Assert.Equal("99999999999999-7", c.Call("XADD", "sa:auto", "99999999999999-*", "f", "v").Text);
        Assert.Equal("100000000000000-0", c.Call("XADD", "sa:auto", "100000000000000-*", "f", "v").Text);
    }

    [Fact]
    public void Auto_id_after_max_seq_rolls_to_next_ms_and_errors_at_the_end()
    {
        foreach (var server in new[] { _f.Basalt, _f.Redis })
        {
            using var c = server.Connect();
            c.Call("DEL", "sa:end");
            c.Call("XADD", "sa:end", "99999999999999-18446744073709551615", "f", "v");
            Assert.Equal("100000000000000-0", c.Call("XADD", "sa:end", "*", "f", "v").Text);
            c.Call("XADD", "sa:end", "18446744073709551615-18446744073709551615", "f", "v");
            var err = c.CallRaw("XADD", "sa:end", "*", "f", "v");
            Assert.Equal("-ERR The stream has exhausted the last possible ID, unable to add more items\r\n", Encoding.ASCII.GetString(err));
        }
    }

    /// <summary>Runs the same commands on both servers; replies must match once integers in the masked positions are blanked.</summary>
    private void SameOnBoth(string[][] script, Func<string, string>? mask = null)
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var diffs = new List<string>();
        foreach (var cmd in script)
        {
            var args = cmd.Select(a => (object)Encoding.Latin1.GetBytes(a)).ToArray();
            string rb = CorpusRunner.Escape(b.CallRaw(args)), rr = CorpusRunner.Escape(r.CallRaw(args));
            if (mask is not null) { rb = mask(rb); rr = mask(rr); }
            if (rb != rr) diffs.Add($"{string.Join(' ', cmd)}\n  basalt: {rb}\n  redis:  {rr}");
        }
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }

    [Fact]
    public void Consumer_group_flow_matches_redis_apart_from_idle_times()
    {
        string[][] setup =
        [
            ["DEL", "sg:f"],
            ["XADD", "sg:f", "1-0", "a", "1"], ["XADD", "sg:f", "2-0", "a", "2"], ["XADD", "sg:f", "3-0", "a", "3"],
            ["XGROUP", "CREATE", "sg:f", "g", "0"],
            ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "sg:f", ">"],
            ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "sg:f", "0"],
            ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "sg:f", ">"],
        ];
        SameOnBoth(setup);
        // XPENDING rows: [id, consumer, idle, deliveries]; only the idle (third) value may differ.
        string MaskIdle(string s) => System.Text.RegularExpressions.Regex.Replace(s, @"(\$\d\\r\\n[a-z]+\\r\\n):\d+\\r\\n", "$1:#\\r\\n");
        SameOnBoth(
        [
            ["XPENDING", "sg:f", "g", "-", "+", "10"],
            ["XPENDING", "sg:f", "g", "-", "+", "10", "alice"],
            ["XCLAIM", "sg:f", "g", "bob", "0", "1-0"],
            ["XPENDING", "sg:f", "g", "-", "+", "10"],
            ["XAUTOCLAIM", "sg:f", "g", "carol", "0", "0", "COUNT", "1"],
            ["XPENDING", "sg:f", "g", "-", "+", "10"],
            ["XPENDING", "sg:f", "g"],
        ], MaskIdle);
    }

    [Fact]
    public void Xpending_idle_filter_and_idle_values_follow_delivery_time()
    {
        using var c = _f.Basalt.Connect();
        c.Call("DEL", "sg:idle");
        c.Call("XADD", "sg:idle", "1-0", "a", "1");
        c.Call("XADD", "sg:idle", "2-0", "a", "2");
        c.Call("XGROUP", "CREATE", "sg:idle", "g", "0");
        c.Call("XREADGROUP", "GROUP", "g", "x", "STREAMS", "sg:idle", ">");
        c.Call("XCLAIM", "sg:idle", "g", "x", "0", "1-0", "IDLE", "500000", "JUSTID");
        var rows = c.Call("XPENDING", "sg:idle", "g", "IDLE", "400000", "-", "+", "10").Items!;
        var row = Assert.Single(rows).Items!;
        Assert.Equal("1-0", row[0].Text);
        Assert.InRange(row[2].Integer, 500000, 560000);
        Assert.Equal(1, row[3].Integer);
        // TIME in the future is clamped to now: idle near 0.
        c.Call("XCLAIM", "sg:idle", "g", "x", "0", "2-0", "TIME", "99999999999999", "JUSTID");
        var all = c.Call("XPENDING", "sg:idle", "g", "-", "+", "10").Items!;
        Assert.InRange(all[1].Items![2].Integer, 0, 60000);
    }

    [Fact]
    public void Xinfo_field_names_match_redis()
    {
        string[][] setup =
        [
            ["DEL", "si:k"],
            ["XADD", "si:k", "1-0", "a", "1"], ["XADD", "si:k", "2-0", "a", "2"],
            ["XGROUP", "CREATE", "si:k", "g", "0"],
            ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "si:k", ">"],
        ];
        SameOnBoth(setup);
        foreach (var cmd in new[]
                 {
                     new[] { "XINFO", "STREAM", "si:k" }, ["XINFO", "STREAM", "si:k", "FULL"], ["XINFO", "GROUPS", "si:k"],
                     ["XINFO", "CONSUMERS", "si:k", "g"],
                 })
        {
            Assert.Equal(FieldNames(_f.Redis, cmd), FieldNames(_f.Basalt, cmd));
        }
    }

    /// <summary>Every bulk string that looks like a field name (lower-case letters and dashes), in order.</summary>
    private static List<string> FieldNames(ServerProcess server, string[] cmd)
    {
        using var c = server.Connect();
        var raw = Encoding.Latin1.GetString(c.CallRaw(cmd.Select(a => (object)a).ToArray()));
        return System.Text.RegularExpressions.Regex.Matches(raw, @"\$\d+\r\n([a-z][a-z-]+)\r\n").Select(m => m.Groups[1].Value).ToList();
    }

    [Fact]
    public void Copy_and_empty_stream_semantics()
    {
        using var c = _f.Basalt.Connect();
        c.Call("DEL", "sc:a", "sc:b");
        c.Call("XADD", "sc:a", "1-0", "f", "v");
        c.Call("XGROUP", "CREATE", "sc:a", "g", "0");
        c.Call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "sc:a", ">");
        Assert.Equal(1, c.Call("COPY", "sc:a", "sc:b").Integer);
        // The copy is independent: acking in the copy leaves the original's PEL alone.
        Assert.Equal(1, c.Call("XACK", "sc:b", "g", "1-0").Integer);
        Assert.Equal(1, c.Call("XPENDING", "sc:a", "g").Items![0].Integer);
        Assert.Equal(0, c.Call("XPENDING", "sc:b", "g").Items![0].Integer);
        // Streams are not deleted when they become empty.
        Assert.Equal(1, c.Call("XDEL", "sc:a", "1-0").Integer);
        Assert.Equal(1, c.Call("EXISTS", "sc:a").Integer);
        Assert.Equal("stream", c.Call("TYPE", "sc:a").Text);
    }

    [Fact]
    public void Watch_is_invalidated_by_the_same_stream_commands_as_in_redis()
    {
        string[][] commands =
        [
            ["XADD", "sw:k", "3-0", "f", "v"], ["XDEL", "sw:k", "1-0"], ["XDEL", "sw:k", "9-9"], ["XTRIM", "sw:k", "MAXLEN", "1"],
            ["XTRIM", "sw:k", "MAXLEN", "100"], ["XSETID", "sw:k", "50-0"],
            ["XGROUP", "CREATE", "sw:k", "g2", "0"], ["XGROUP", "CREATE", "sw:k2", "g", "0", "MKSTREAM"],
            ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "sw:k", ">"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "sw:k", "0"],
            ["XACK", "sw:k", "g", "1-0"], ["XCLAIM", "sw:k", "g", "d", "0", "1-0"], ["XAUTOCLAIM", "sw:k", "g", "e", "0", "0"],
            ["XGROUP", "SETID", "sw:k", "g", "0"], ["XGROUP", "CREATECONSUMER", "sw:k", "g", "zz"],
            ["XGROUP", "DELCONSUMER", "sw:k", "g", "c"], ["XGROUP", "DESTROY", "sw:k", "g"],
        ];
        var diffs = new List<string>();
        foreach (var cmd in commands)
        {
            string Run(ServerProcess server)
            {
                using var a = server.Connect();
                using var b = server.Connect();
                b.Call("DEL", "sw:k", "sw:k2");
                b.Call("XADD", "sw:k", "1-0", "f", "v");
                b.Call("XADD", "sw:k", "2-0", "f", "v");
                b.Call("XGROUP", "CREATE", "sw:k", "g", "0");
                b.Call("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "sw:k", ">");
                a.Call("WATCH", "sw:k", "sw:k2");
                b.Call(cmd.Select(x => (object)x).ToArray());
                a.Call("MULTI");
                a.Call("PING");
                return CorpusRunner.Escape(a.CallRaw("EXEC"));
            }
            string rb = Run(_f.Basalt), rr = Run(_f.Redis);
            if (rb != rr) diffs.Add($"{string.Join(' ', cmd)}: basalt {rb}, redis {rr}");
        }
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }
}
