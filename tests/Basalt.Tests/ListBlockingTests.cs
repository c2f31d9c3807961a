using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Blocking list commands with several connections against Basalt.</summary>
public class ListBlockingTests : ListBlockingTestsBase, IClassFixture<BasaltFixture>
{
    public ListBlockingTests(BasaltFixture f) : base(f.Server) { }
}

/// <summary>The same scenarios against redis-server 7.0, proving the expected bytes are Redis's.</summary>
public class ListBlockingReferenceTests : ListBlockingTestsBase, IClassFixture<ListBlockingReferenceTests.RedisFixture>
{
    public sealed class RedisFixture : IDisposable
    {
        public ServerProcess Server { get; } = ServerProcess.StartRedis();
        public void Dispose() => Server.Dispose();
    }

    public ListBlockingReferenceTests(RedisFixture f) : base(f.Server) { }
}

public abstract class ListBlockingTestsBase
{
    private readonly ServerProcess _server;
    protected ListBlockingTestsBase(ServerProcess server) => _server = server;

    private static string Raw(byte[] b) => Encoding.Latin1.GetString(b);

    /// <summary>
    /// Sends "RPUSH marker x" and the blocking command in one write: they run in one batch under the lock,
    /// so once the RPUSH reply arrives the blocking command has executed (and blocked).
    /// </summary>
    private static void BlockWithMarker(RespConnection c, string marker, params object[] blockingCmd)
    {
        c.SendRaw([.. RespValue.EncodeCommand("RPUSH", marker, "x"), .. RespValue.EncodeCommand(blockingCmd)]);
        var r = c.Read();
        Assert.Equal(RespType.Integer, r.Type);
    }

    [Fact]
    public void Blpop_is_unblocked_by_a_push_from_another_connection()
    {
        using var a = _server.Connect();
        using var b = _server.Connect();
        BlockWithMarker(a, "bl1:m", "BLPOP", "bl1:none", "bl1:k", "0");
        Assert.Equal(":2\r\n", Raw(b.CallRaw("LPUSH", "bl1:k", "v1", "v2")));
        Assert.Equal("*2\r\n$5\r\nbl1:k\r\n$2\r\nv2\r\n", Raw(a.ReadRaw()));
        Assert.Equal("*1\r\n$2\r\nv1\r\n", Raw(b.CallRaw("LRANGE", "bl1:k", "0", "-1")));
        // The unblocked connection works normally again.
        Assert.Equal("+PONG\r\n", Raw(a.CallRaw("PING")));
    }

    [Fact]
    public void Blocked_clients_are_served_in_fifo_order()
    {
        using var c1 = _server.Connect();
        using var c2 = _server.Connect();
        using var c3 = _server.Connect();
        using var p = _server.Connect();
        BlockWithMarker(c1, "fifo:m1", "BRPOP", "fifo:k", "0");
        BlockWithMarker(c2, "fifo:m2", "BRPOP", "fifo:k", "0");
        BlockWithMarker(c3, "fifo:m3", "BRPOP", "fifo:k", "0");
        Assert.Equal(":3\r\n", Raw(p.CallRaw("RPUSH", "fifo:k", "a", "b", "c")));
        Assert.Equal("*2\r\n$6\r\nfifo:k\r\n$1\r\nc\r\n", Raw(c1.ReadRaw()));
        Assert.Equal("*2\r\n$6\r\nfifo:k\r\n$1\r\nb\r\n", Raw(c2.ReadRaw()));
        Assert.Equal("*2\r\n$6\r\nfifo:k\r\n$1\r\na\r\n", Raw(c3.ReadRaw()));
        Assert.Equal(":0\r\n", Raw(p.CallRaw("EXISTS", "fifo:k")));
    }

    [Fact]
    public void One_push_serves_only_as_many_clients_as_elements()
    {
        using var c1 = _server.Connect();
        using var c2 = _server.Connect();
        using var p = _server.Connect();
        BlockWithMarker(c1, "few:m1", "BLPOP", "few:k", "0");
        BlockWithMarker(c2, "few:m2", "BLPOP", "few:k", "0");
        p.CallRaw("RPUSH", "few:k", "only");
        Assert.Equal("*2\r\n$5\r\nfew:k\r\n$4\r\nonly\r\n", Raw(c1.ReadRaw()));
        p.CallRaw("RPUSH", "few:k", "second");
        Assert.Equal("*2\r\n$5\r\nfew:k\r\n$6\r\nsecond\r\n", Raw(c2.ReadRaw()));
    }

    [Fact]
    public void Blpop_timeout_returns_null_array()
    {
        using var a = _server.Connect();
        var sw = Stopwatch.StartNew();
        Assert.Equal("*-1\r\n", Raw(a.CallRaw("BLPOP", "to:none", "0.2")));
        Assert.True(sw.ElapsedMilliseconds >= 150, $"returned after {sw.ElapsedMilliseconds} ms");
        Assert.Equal("*-1\r\n", Raw(a.CallRaw("BLMOVE", "to:none", "to:d", "LEFT", "LEFT", "0.05")));
        Assert.Equal("*-1\r\n", Raw(a.CallRaw("BLMPOP", "0.05", "1", "to:none", "LEFT")));
        a.CallRaw("HELLO", "3");
        Assert.Equal("_\r\n", Raw(a.CallRaw("BRPOPLPUSH", "to:none", "to:d", "0.05")));
    }

    [Fact]
    public void Blmove_moves_the_pushed_element_to_the_destination()
    {
        using var a = _server.Connect();
        using var b = _server.Connect();
        BlockWithMarker(a, "bm:m", "BLMOVE", "bm:src", "bm:dst", "RIGHT", "LEFT", "0");
        b.CallRaw("RPUSH", "bm:src", "x", "y");
        Assert.Equal("$1\r\ny\r\n", Raw(a.ReadRaw()));
        Assert.Equal("*1\r\n$1\r\ny\r\n", Raw(b.CallRaw("LRANGE", "bm:dst", "0", "-1")));
        Assert.Equal("*1\r\n$1\r\nx\r\n", Raw(b.CallRaw("LRANGE", "bm:src", "0", "-1")));
    }

    [Fact]
    public void Blmove_chain_serves_a_client_waiting_on_the_destination()
    {
        using var a = _server.Connect();
        using var c = _server.Connect();
        using var p = _server.Connect();
        BlockWithMarker(a, "ch:m1", "BLMOVE", "ch:1", "ch:2", "LEFT", "LEFT", "0");
        BlockWithMarker(c, "ch:m2", "BLPOP", "ch:2", "0");
        p.CallRaw("LPUSH", "ch:1", "z");
        Assert.Equal("$1\r\nz\r\n", Raw(a.ReadRaw()));
        Assert.Equal("*2\r\n$4\r\nch:2\r\n$1\r\nz\r\n", Raw(c.ReadRaw()));
        Assert.Equal(":0\r\n", Raw(p.CallRaw("EXISTS", "ch:2")));
    }

    [Fact]
    public void Blmpop_is_served_with_count()
    {
        using var a = _server.Connect();
        using var b = _server.Connect();
        BlockWithMarker(a, "mp:m", "BLMPOP", "0", "2", "mp:a", "mp:b", "RIGHT", "COUNT", "2");
        b.CallRaw("RPUSH", "mp:b", "1", "2", "3");
        Assert.Equal("*2\r\n$4\r\nmp:b\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n", Raw(a.ReadRaw()));
    }

    [Fact]
    public void Blocked_client_stays_blocked_when_key_gets_another_type()
    {
        using var a = _server.Connect();
        using var b = _server.Connect();
        BlockWithMarker(a, "wt:m", "BLPOP", "wt:k", "0");
        Assert.Equal("+OK\r\n", Raw(b.CallRaw("SET", "wt:k", "str")));
        Assert.Equal(":1\r\n", Raw(b.CallRaw("DEL", "wt:k")));
        b.CallRaw("RPUSH", "wt:k", "v");
        Assert.Equal("*2\r\n$4\r\nwt:k\r\n$1\r\nv\r\n", Raw(a.ReadRaw()));
    }

    [Fact]
    public void Disconnected_blocked_client_does_not_take_later_pushes()
    {
        using var p = _server.Connect();
        var a = _server.Connect();
        BlockWithMarker(a, "dc:m", "BLPOP", "dc:k", "0");
        a.Dispose();
        // Once the server has seen the close, a pushed element stays in the list.
        Tools.WaitUntil(() =>
        {
            p.Call("RPUSH", "dc:k", "v");
            return p.Call("LLEN", "dc:k").Integer > 0;
        }, TimeSpan.FromSeconds(10), "the pushed element to stay");
        using var c = _server.Connect();
        Assert.Equal("*2\r\n$4\r\ndc:k\r\n$1\r\nv\r\n", Raw(c.CallRaw("BLPOP", "dc:k", "0")));
    }

    [Fact]
    public void Pipelined_ping_after_blpop_is_answered_only_after_unblock()
    {
        using var tcp = new TcpClient { NoDelay = true };
        tcp.Connect("127.0.0.1", _server.Port);
        var s = tcp.GetStream();
        s.ReadTimeout = 10_000;
        s.Write([.. RespValue.EncodeCommand("RPUSH", "pp:m", "x"), .. RespValue.EncodeCommand("BLPOP", "pp:k", "0"), .. RespValue.EncodeCommand("PING")]);
        var got = new List<byte>();
        var buf = new byte[256];
        while (got.Count < 4) got.AddRange(buf.AsSpan(0, s.Read(buf)).ToArray());
        Assert.Equal(":1\r\n", Encoding.ASCII.GetString(got.ToArray()));
        // Nothing else may arrive while blocked: give the server time to (wrongly) answer PING.
        using var p = _server.Connect();
        p.Call("PING");
        Thread.Sleep(200);
        Assert.Equal(0, tcp.Available);
        p.Call("LPUSH", "pp:k", "v");
        string expect = "*2\r\n$4\r\npp:k\r\n$1\r\nv\r\n+PONG\r\n";
        got.Clear();
        while (got.Count < expect.Length) got.AddRange(buf.AsSpan(0, s.Read(buf)).ToArray());
        Assert.Equal(expect, Encoding.ASCII.GetString(got.ToArray()));
    }

    [Fact]
    public void Input_sent_while_blocked_is_processed_after_unblock()
    {
        using var a = _server.Connect();
        using var p = _server.Connect();
        BlockWithMarker(a, "ib:m", "BLPOP", "ib:k", "0");
        a.Send("SET", "ib:s", "1");
        a.Send("GET", "ib:s");
        p.CallRaw("PING");
        // The SET must not have run while the client is blocked.
        Assert.Equal("$-1\r\n", Raw(p.CallRaw("GET", "ib:s")));
        p.CallRaw("RPUSH", "ib:k", "v");
        Assert.Equal("*2\r\n$4\r\nib:k\r\n$1\r\nv\r\n", Raw(a.ReadRaw()));
        Assert.Equal("+OK\r\n", Raw(a.ReadRaw()));
        Assert.Equal("$1\r\n1\r\n", Raw(a.ReadRaw()));
    }

    [Fact]
    public void Redis_benchmark_list_tests_complete()
    {
        var r = Tools.Run("redis-benchmark", ["-p", _server.Port.ToString(), "-t", "lpush,rpush,lpop,rpop,lrange_100", "-n", "2000", "-q"], timeoutMs: 120_000);
        Assert.Equal(0, r.ExitCode);
        foreach (var name in new[] { "LPUSH", "RPUSH", "LPOP", "RPOP", "LRANGE_100" })
            Assert.Contains(name, r.StdOut);
    }
}
