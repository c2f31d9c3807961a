using System.Diagnostics;
using System.Text;
using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>XREAD/XREADGROUP BLOCK with several connections against Basalt.</summary>
public class StreamBlockingTests : StreamBlockingTestsBase, IClassFixture<BasaltFixture>
{
    public StreamBlockingTests(BasaltFixture f) : base(f.Server) { }
}

/// <summary>The same scenarios against redis-server 7.0, proving the expected bytes are Redis's.</summary>
public class StreamBlockingReferenceTests : StreamBlockingTestsBase, IClassFixture<StreamBlockingReferenceTests.RedisFixture>
{
    public sealed class RedisFixture : IDisposable
    {
        public ServerProcess Server { get; } = ServerProcess.StartRedis();
        public void Dispose() => Server.Dispose();
    }

    public StreamBlockingReferenceTests(RedisFixture f) : base(f.Server) { }
}

public abstract class StreamBlockingTestsBase
{
    private readonly ServerProcess _server;
    protected StreamBlockingTestsBase(ServerProcess server) => _server = server;

    private static string Raw(byte[] b) => Encoding.Latin1.GetString(b);

    /// <summary>Sends "SET marker x" and the blocking command in one write; once +OK arrives the command has run (and blocked).</summary>
    private static void BlockWithMarker(RespConnection c, string marker, params object[] blockingCmd)
    {
        c.SendRaw([.. RespValue.EncodeCommand("SET", marker, "x"), .. RespValue.EncodeCommand(blockingCmd)]);
        Assert.Equal("+OK\r\n", Raw(c.ReadRaw()));
    }

    [Fact]
    public void Xread_block_is_served_by_xadd_from_another_connection()
    {
        using var a = _server.Connect();
        using var b = _server.Connect();
        b.Call("DEL", "xb1:s", "xb1:t");
        b.Call("XADD", "xb1:s", "1-0", "f", "old");
        BlockWithMarker(a, "xb1:m", "XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "xb1:t", "xb1:s", "$", "$");
        Assert.Equal("$3\r\n2-0\r\n", Raw(b.CallRaw("XADD", "xb1:s", "2-0", "f", "new")));
        Assert.Equal("*1\r\n*2\r\n$5\r\nxb1:s\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$3\r\nnew\r\n", Raw(a.ReadRaw()));
        Assert.Equal("+PONG\r\n", Raw(a.CallRaw("PING")));
    }

    [Fact]
    public void Xread_block_on_a_missing_key_is_served_when_it_is_created()
    {
        using var a = _server.Connect();
        using var b = _server.Connect();
        b.Call("DEL", "xb2:s");
        BlockWithMarker(a, "xb2:m", "XREAD", "BLOCK", "0", "STREAMS", "xb2:s", "$");
        b.Call("XADD", "xb2:s", "5-1", "k", "v");
        Assert.Equal("*1\r\n*2\r\n$5\r\nxb2:s\r\n*1\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n", Raw(a.ReadRaw()));
    }

    [Fact]
    public void Xread_block_times_out_with_a_null_array()
    {
        using var a = _server.Connect();
        a.Call("DEL", "xb3:s");
        var sw = Stopwatch.StartNew();
        Assert.Equal("*-1\r\n", Raw(a.CallRaw("XREAD", "BLOCK", "100", "STREAMS", "xb3:s", "$")));
        Assert.True(sw.ElapsedMilliseconds >= 90, $"returned after {sw.ElapsedMilliseconds} ms");
        a.Call("HELLO", "3");
        Assert.Equal("_\r\n", Raw(a.CallRaw("XREAD", "BLOCK", "50", "STREAMS", "xb3:s", "$")));
    }

    [Fact]
    public void Xreadgroup_block_delivers_new_entries_and_records_them_pending()
    {
        using var a = _server.Connect();
        using var b = _server.Connect();
        b.Call("DEL", "xb4:s");
        b.Call("XGROUP", "CREATE", "xb4:s", "g", "$", "MKSTREAM");
        BlockWithMarker(a, "xb4:m", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "xb4:s", ">");
        // No consumer is created while it only waits.
        Assert.Equal("*0\r\n", Raw(b.CallRaw("XINFO", "CONSUMERS", "xb4:s", "g")));
        b.Call("XADD", "xb4:s", "3-0", "f", "v");
        Assert.Equal("*1\r\n*2\r\n$5\r\nxb4:s\r\n*1\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", Raw(a.ReadRaw()));
        Assert.Equal("*4\r\n:1\r\n$3\r\n3-0\r\n$3\r\n3-0\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n", Raw(b.CallRaw("XPENDING", "xb4:s", "g")));
    }

    [Fact]
    public void Two_group_readers_do_not_get_the_same_entry()
    {
        using var a = _server.Connect();
        using var c = _server.Connect();
        using var b = _server.Connect();
        b.Call("DEL", "xb5:s");
        b.Call("XGROUP", "CREATE", "xb5:s", "g", "$", "MKSTREAM");
        BlockWithMarker(a, "xb5:m", "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "xb5:s", ">");
        BlockWithMarker(c, "xb5:m", "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "xb5:s", ">");
        b.Call("XADD", "xb5:s", "1-0", "f", "1");
        Assert.Contains("1-0", Raw(a.ReadRaw()));
        // The second reader keeps waiting until another entry arrives.
        b.Call("XADD", "xb5:s", "2-0", "f", "2");
        Assert.Contains("2-0", Raw(c.ReadRaw()));
    }

    [Fact]
    public void Destroying_the_group_unblocks_readers_with_nogroup()
    {
        using var a = _server.Connect();
        using var b = _server.Connect();
        b.Call("DEL", "xb6:s");
        b.Call("XGROUP", "CREATE", "xb6:s", "g", "$", "MKSTREAM");
        BlockWithMarker(a, "xb6:m", "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "xb6:s", ">");
        Assert.Equal(":1\r\n", Raw(b.CallRaw("XGROUP", "DESTROY", "xb6:s", "g")));
        Assert.Equal("-NOGROUP the consumer group this client was blocked on no longer exists\r\n", Raw(a.ReadRaw()));
    }

    [Fact]
    public void Xsetid_does_not_wake_a_blocked_reader()
    {
        using var a = _server.Connect();
        using var b = _server.Connect();
        b.Call("DEL", "xb9:s");
        b.Call("XADD", "xb9:s", "1-0", "f", "v");
        BlockWithMarker(a, "xb9:m", "XREAD", "BLOCK", "0", "STREAMS", "xb9:s", "$");
        Assert.Equal("+OK\r\n", Raw(b.CallRaw("XSETID", "xb9:s", "5-0")));
        // Still blocked: the next reply it gets is for the entry added afterwards.
        b.Call("XADD", "xb9:s", "6-0", "f", "w");
        Assert.Equal("*1\r\n*2\r\n$5\r\nxb9:s\r\n*1\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n", Raw(a.ReadRaw()));
    }

    [Fact]
    public void Block_inside_multi_replies_null_at_once()
    {
        using var a = _server.Connect();
        a.Call("DEL", "xb7:s");
        a.Call("MULTI");
        a.Call("XREAD", "BLOCK", "0", "STREAMS", "xb7:s", "$");
        Assert.Equal("*1\r\n*-1\r\n", Raw(a.CallRaw("EXEC")));
    }

    [Fact]
    public void Block_with_data_available_replies_at_once()
    {
        using var a = _server.Connect();
        a.Call("DEL", "xb8:s");
        a.Call("XADD", "xb8:s", "1-0", "f", "v");
        Assert.Equal("*1\r\n*2\r\n$5\r\nxb8:s\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
            Raw(a.CallRaw("XREAD", "BLOCK", "0", "STREAMS", "xb8:s", "0")));
        Assert.Equal("-ERR timeout is negative\r\n", Raw(a.CallRaw("XREAD", "BLOCK", "-1", "STREAMS", "xb8:s", "0")));
        Assert.Equal("-ERR timeout is not an integer or out of range\r\n", Raw(a.CallRaw("XREAD", "BLOCK", "1.5", "STREAMS", "xb8:s", "0")));
    }
}
