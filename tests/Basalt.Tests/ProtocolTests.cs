using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Request parsing (inline and multibulk), malformed input and protocol errors, compared byte for byte with redis-server.</summary>
public class ProtocolTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public ProtocolTests(DifferentialFixture f) => _f = f;

    private const string Quit = "*1\r\n$4\r\nQUIT\r\n";

    /// <summary>Sends raw bytes and returns everything the server sends until it closes (QUIT is appended when the input should not close).</summary>
    private static string Exchange(ServerProcess server, string raw, bool closes)
    {
        using var c = server.Connect();
        c.SendRaw(Encoding.Latin1.GetBytes(closes ? raw : raw + Quit));
        return Encoding.Latin1.GetString(c.ReadUntilClosed());
    }

    private void AssertSameAsRedis(string raw, bool closes, string? expected = null)
    {
        string b = Exchange(_f.Basalt, raw, closes), r = Exchange(_f.Redis, raw, closes);
        Assert.Equal(r, b);
        if (expected is not null) Assert.Equal(expected, b);
    }

    [Theory]
    [InlineData("PING\r\n", "+PONG\r\n")]
    [InlineData("PING\n", "+PONG\r\n")]
    [InlineData("ECHO \"a\\x41b\\n\\t\"\r\n", "$5\r\naAb\n\t\r\n")]
    [InlineData("ECHO 'it\\'s'\r\n", "$4\r\nit's\r\n")]
    [InlineData("ECHO \"\"\r\n", "$0\r\n\r\n")]
    [InlineData("ECHO \"\\xZZ\"\r\n", "$3\r\nxZZ\r\n")]
    [InlineData("ECHO   spaced   \r\n", "$6\r\nspaced\r\n")]
    [InlineData("\r\n\r\n   \r\nPING\r\n", "+PONG\r\n")]
    [InlineData("ECHO a b\r\n", "-ERR wrong number of arguments for 'echo' command\r\n")]
    [InlineData("*0\r\n*-1\r\nPING\r\n", "+PONG\r\n")]
    [InlineData("$4\r\nPING\r\n", "-ERR unknown command '$4', with args beginning with: \r\n+PONG\r\n")]
    public void Inline_and_odd_requests_match_redis(string raw, string expected)
    {
        AssertSameAsRedis(raw, closes: false, expected + "+OK\r\n");
    }

    [Theory]
    [InlineData("ECHO \"abc\r\n", "unbalanced quotes in request")]
    [InlineData("ECHO \"a\"b\r\n", "unbalanced quotes in request")]
    [InlineData("'\r\n", "unbalanced quotes in request")]
    [InlineData("*abc\r\n", "invalid multibulk length")]
    [InlineData("*1 \r\n", "invalid multibulk length")]
    [InlineData("*01\r\n$4\r\nPING\r\n", "invalid multibulk length")]
    [InlineData("*2147483648\r\n", "invalid multibulk length")]
    [InlineData("*1\r\nx3\r\nabc\r\n", "expected '$', got 'x'")]
    [InlineData("*1\r\n$abc\r\n", "invalid bulk length")]
    [InlineData("*1\r\n$-5\r\n", "invalid bulk length")]
    [InlineData("*1\r\n$+4\r\nPING\r\n", "invalid bulk length")]
    [InlineData("*1\r\n$600000000\r\n", "invalid bulk length")]
    public void Malformed_request_gets_protocol_error_and_close(string raw, string error)
    {
        AssertSameAsRedis(raw, closes: true, $"-ERR Protocol error: {error}\r\n");
        AssertServerStillServes();
    }

    private void AssertServerStillServes()
    {
        using var other = _f.Basalt.Connect();
        Assert.Equal("PONG", other.Call("PING").Text);
    }

    [Fact]
    public void Replies_before_a_protocol_error_are_sent_then_the_connection_closes()
    {
        AssertSameAsRedis("*1\r\n$4\r\nPING\r\nPING\r\n*x\r\n", closes: true,
            "+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n");
    }

    [Theory]
    [InlineData('A', "too big inline request")]
    [InlineData('*', "too big mbulk count string")]
    [InlineData('$', "too big bulk count string")]
    public void Oversized_header_or_inline_line_is_refused(char kind, string error)
    {
        string raw = kind switch
        {
            'A' => new string('A', 70_000),
            '*' => "*" + new string('1', 70_000),
            _ => "*1\r\n$" + new string('1', 70_000),
        };
        AssertSameAsRedis(raw, closes: true, $"-ERR Protocol error: {error}\r\n");
        AssertServerStillServes();
    }

    [Fact]
    public void Other_connections_keep_working_after_a_protocol_error()
    {
        using var good = _f.Basalt.Connect();
        Assert.Equal("OK", good.Call("SET", "proto:survivor", "1").Text);
        using (var bad = _f.Basalt.Connect())
        {
            bad.SendRaw("*1\r\n$abc\r\n");
            Assert.Equal("-ERR Protocol error: invalid bulk length\r\n", Encoding.ASCII.GetString(bad.ReadUntilClosed()));
        }
        Assert.Equal("1", good.Call("GET", "proto:survivor").Text);
        using var fresh = _f.Basalt.Connect();
        Assert.Equal("PONG", fresh.Call("PING").Text);
    }

    [Fact]
    public void Inline_request_with_a_nul_before_the_newline_waits_like_redis()
    {
        // Redis looks for the newline with strchr: a NUL hides it, so no reply comes.
        foreach (var server in new[] { _f.Basalt, _f.Redis })
        {
            using var c = server.Connect();
            c.SendRaw("PING \"a\"\0\r\n");
            c.ReceiveTimeoutMs = 300;
            Assert.False(c.WaitClosed());
        }
    }

    [Fact]
    public void Ten_thousand_pipelined_commands_in_one_write_all_get_replies_in_order()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 5000; i++)
        {
            sb.Append($"*3\r\n$3\r\nSET\r\n${("pipe:" + i).Length}\r\npipe:{i}\r\n${i.ToString().Length}\r\n{i}\r\n");
            sb.Append($"*2\r\n$3\r\nGET\r\n${("pipe:" + i).Length}\r\npipe:{i}\r\n");
        }
        using var c = _f.Basalt.Connect();
        c.SendRaw(sb.ToString());
        for (int i = 0; i < 5000; i++)
        {
            Assert.Equal("OK", c.Read().Text);
            Assert.Equal(i.ToString(), c.Read().Text);
        }
        Assert.Equal("PONG", c.Call("PING").Text);
    }

    [Fact]
    public void Request_sent_one_byte_per_write_is_assembled()
    {
        using var c = _f.Basalt.Connect();
        foreach (byte b in Encoding.ASCII.GetBytes("*3\r\n$3\r\nSET\r\n$9\r\nproto:one\r\n$5\r\nbytes\r\nECHO \"in line\"\r\n"))
            c.SendRaw([b]);
        Assert.Equal("OK", c.Read().Text);
        Assert.Equal("in line", c.Read().Text);
        Assert.Equal("bytes", c.Call("GET", "proto:one").Text);
    }

    [Fact]
    public void Twenty_megabyte_value_round_trips()
    {
        var value = new byte[20 * 1024 * 1024];
        new Random(42).NextBytes(value);
        using var c = _f.Basalt.Connect();
        Assert.Equal("OK", c.Call("SET", "proto:big", value).Text);
        var got = c.Call("GET", "proto:big");
        Assert.Equal(value.Length, got.Bytes!.Length);
        Assert.True(value.AsSpan().SequenceEqual(got.Bytes));
        Assert.Equal(1, c.Call("DEL", "proto:big").Integer);
    }

    [Fact]
    public void Bulk_above_proto_max_bulk_len_is_refused()
    {
        using var basalt = ServerProcess.StartBasalt("--proto-max-bulk-len", "1mb");
        using var redis = ServerProcess.StartRedis("--proto-max-bulk-len", "1mb");
        foreach (var s in new[] { basalt, redis })
        {
            Assert.Equal("+OK\r\n", Exchange(s, "*2\r\n$4\r\nECHO\r\n$1048576\r\n" + new string('x', 1048576) + "\r\n", false)[^5..]);
            Assert.Equal("-ERR Protocol error: invalid bulk length\r\n", Exchange(s, "*2\r\n$4\r\nECHO\r\n$1048577\r\n", true));
        }
    }

    [Fact]
    public void Resp3_hello_switches_reply_shapes()
    {
        using var c = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var hello = c.CallRaw("HELLO", "3");
        Assert.StartsWith("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n", Encoding.ASCII.GetString(hello));
        r.Call("HELLO", "3");
        foreach (var cmd in new[] { new object[] { "GET", "proto:resp3:missing" }, ["SET", "proto:resp3", "v"], ["GET", "proto:resp3"], ["PING"], ["SELECT", "99"] })
            Assert.Equal(Encoding.ASCII.GetString(r.CallRaw(cmd)), Encoding.ASCII.GetString(c.CallRaw(cmd)));
        Assert.Equal("_\r\n", Encoding.ASCII.GetString(c.CallRaw("GET", "proto:resp3:missing")));
        c.Call("HELLO", "2");
        Assert.Equal("$-1\r\n", Encoding.ASCII.GetString(c.CallRaw("GET", "proto:resp3:missing")));
    }
}
