using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests.Persistence;

/// <summary>
/// Streams moved between Basalt and redis-server 7.0 with DUMP/RESTORE, both ways: the copy answers
/// XINFO STREAM FULL, XRANGE and XPENDING exactly like the original.
/// </summary>
public class StreamRdbDifferentialTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public StreamRdbDifferentialTests(DifferentialFixture f) => _f = f;

    private static void Build(RespConnection c, string key)
    {
        c.Call("DEL", key);
        c.Call("CONFIG", "SET", "stream-node-max-entries", "5");
        for (int i = 1; i <= 23; i++)
        {
            if (i % 6 == 0) c.Call("XADD", key, $"{100 + i * 7}-{i}", "other", "v" + i, "n", i.ToString());
            else c.Call("XADD", key, $"{100 + i * 7}-{i}", "name", new string('s', i * 13), "n", (i * -1000).ToString());
        }
        c.Call("XDEL", key, "107-1", "149-6");
        c.Call("XGROUP", "CREATE", key, "g1", "0");
        c.Call("XGROUP", "CREATE", key, "42", "170-10");
        c.Call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "4", "STREAMS", key, ">");
        c.Call("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", key, ">");
        c.Call("XREADGROUP", "GROUP", "g1", "alice", "STREAMS", key, "0");
        c.Call("XREADGROUP", "GROUP", "42", "c1", "COUNT", "2", "STREAMS", key, ">");
        c.Call("XACK", key, "g1", "114-2");
        c.Call("XCLAIM", key, "g1", "bob", "0", "121-3");
        c.Call("XGROUP", "CREATECONSUMER", key, "g1", "nobody");
        c.Call("XDEL", key, "128-4");
        c.Call("XADD", key, "MAXLEN", "=", "18", "900-0", "name", "last", "n", "0");
    }

    private static string Pending(RespConnection c, string key, string group)
    {
        var summary = c.CallRaw("XPENDING", key, group);
        var ext = c.Call("XPENDING", key, group, "-", "+", "100");
        return Convert.ToHexString(summary) + " " + string.Join(",", ext.Items!.Select(p => $"{p.Items![0].Text}|{p.Items[1].Text}|{p.Items[3].Integer}"));
    }

    private static void AssertSameStream(RespConnection a, RespConnection b, string key)
    {
        Assert.Equal(Convert.ToHexString(a.CallRaw("XINFO", "STREAM", key, "FULL")), Convert.ToHexString(b.CallRaw("XINFO", "STREAM", key, "FULL")));
        Assert.Equal(Convert.ToHexString(a.CallRaw("XINFO", "STREAM", key)), Convert.ToHexString(b.CallRaw("XINFO", "STREAM", key)));
        Assert.Equal(Convert.ToHexString(a.CallRaw("XRANGE", key, "-", "+")), Convert.ToHexString(b.CallRaw("XRANGE", key, "-", "+")));
        foreach (var g in new[] { "g1", "42" }) Assert.Equal(Pending(a, key, g), Pending(b, key, g));
    }

    private void Move(ServerProcess from, ServerProcess to, string key)
    {
        using var src = from.Connect();
        using var dst = to.Connect();
        Build(src, key);
        var dump = src.Call("DUMP", key);
        Assert.False(dump.IsNull);
        dst.Call("DEL", key);
        var r = dst.Call("RESTORE", key, "0", dump.Bytes!);
        Assert.True(r.Text == "OK", r.ToString());
        AssertSameStream(src, dst, key);
        // The copy keeps working: new entries and group reads behave alike on both.
        foreach (var c in new[] { src, dst })
        {
            c.Call("XADD", key, "1000-0", "name", "after", "n", "1");
            c.Call("XREADGROUP", "GROUP", "g1", "carol", "COUNT", "10", "STREAMS", key, ">");
        }
        Assert.Equal(Convert.ToHexString(src.CallRaw("XRANGE", key, "-", "+")), Convert.ToHexString(dst.CallRaw("XRANGE", key, "-", "+")));
        Assert.Equal(Pending(src, key, "g1"), Pending(dst, key, "g1"));
        Assert.Equal(Convert.ToHexString(src.CallRaw("XINFO", "STREAM", key)), Convert.ToHexString(dst.CallRaw("XINFO", "STREAM", key)));
    }

    [Fact]
    public void Redis_stream_restored_on_basalt_matches()
    {
        Move(_f.Redis, _f.Basalt, "srdbd:r2b");
    }

    [Fact]
    public void Basalt_stream_restored_on_redis_matches()
    {
        Move(_f.Basalt, _f.Redis, "srdbd:b2r");
    }

    [Fact]
    public void Same_commands_give_the_same_dump_on_both()
    {
        const string key = "srdbd:same";
        byte[]? first = null;
        foreach (var server in new[] { _f.Redis, _f.Basalt })
        {
            using var c = server.Connect();
            c.Call("DEL", key);
            c.Call("CONFIG", "SET", "stream-node-max-entries", "5");
            // LZF output is not canonical (compressors may pick different matches), so compare uncompressed dumps.
            c.Call("CONFIG", "SET", "rdbcompression", "no");
            for (int i = 1; i <= 17; i++) c.Call("XADD", key, $"5-{i}", "k", i % 3 == 0 ? "x" + i : i.ToString(), "long", new string('l', 30));
            c.Call("XDEL", key, "5-3", "5-11");
            c.Call("XTRIM", key, "MAXLEN", "=", "13");
            c.Call("XGROUP", "CREATE", key, "g", "5-9", "ENTRIESREAD", "7");
            var dump = c.Call("DUMP", key).Bytes!;
            c.Call("CONFIG", "SET", "rdbcompression", "yes");
            if (first is null) first = dump;
            else Assert.True(Convert.ToHexString(first) == Convert.ToHexString(dump), Convert.ToHexString(first) + "\n" + Convert.ToHexString(dump));
        }
    }
}
