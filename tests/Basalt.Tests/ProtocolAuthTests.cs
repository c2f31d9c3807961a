using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>A Basalt and a redis-server that both have requirepass set.</summary>
public sealed class AuthDifferentialFixture : IDisposable
{
    public const string Password = "s3cret";
    public ServerProcess Basalt { get; } = ServerProcess.StartBasalt("--requirepass", Password);
    public ServerProcess Redis { get; } = ServerProcess.StartRedis("--requirepass", Password);
    public void Dispose()
    {
        Basalt.Dispose();
        Redis.Dispose();
    }
}

/// <summary>AUTH/requirepass flows and the tighter limits for unauthenticated clients, byte for byte against redis-server.</summary>
public class ProtocolAuthTests : IClassFixture<AuthDifferentialFixture>
{
    private readonly AuthDifferentialFixture _f;
    public ProtocolAuthTests(AuthDifferentialFixture f) => _f = f;

    private static string Exchange(ServerProcess server, string raw, bool closes)
    {
        using var c = server.Connect();
        c.SendRaw(Encoding.Latin1.GetBytes(closes ? raw : raw + "*1\r\n$4\r\nQUIT\r\n"));
        return Encoding.Latin1.GetString(c.ReadUntilClosed());
    }

    private static string Cmd(params string[] args)
    {
        var sb = new StringBuilder($"*{args.Length}\r\n");
        foreach (var a in args) sb.Append($"${Encoding.Latin1.GetByteCount(a)}\r\n{a}\r\n");
        return sb.ToString();
    }

    private void AssertSame(string raw, bool closes, string expected)
    {
        string b = Exchange(_f.Basalt, raw, closes), r = Exchange(_f.Redis, raw, closes);
        Assert.Equal(r, b);
        Assert.Equal(expected, b);
    }

    private const string NoAuth = "-NOAUTH Authentication required.\r\n";
    private const string WrongPass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

    [Fact]
    public void Commands_before_auth_get_noauth()
    {
        AssertSame(Cmd("GET", "a") + "PING\r\n" + Cmd("SELECT", "1"), false, NoAuth + NoAuth + NoAuth + "+OK\r\n");
    }

    [Fact]
    public void Wrong_password_gets_wrongpass_and_right_one_unlocks()
    {
        AssertSame(Cmd("AUTH", "nope") + Cmd("AUTH", "someone", AuthDifferentialFixture.Password) + Cmd("AUTH", AuthDifferentialFixture.Password) + Cmd("PING")
            + Cmd("AUTH", "bad") + Cmd("PING"),
            false, WrongPass + WrongPass + "+OK\r\n+PONG\r\n" + WrongPass + "+PONG\r\n+OK\r\n");
    }

    [Fact]
    public void Auth_with_default_user_and_syntax_error()
    {
        AssertSame(Cmd("AUTH", "a", "b", "c") + Cmd("AUTH", "default", AuthDifferentialFixture.Password) + Cmd("ECHO", "in"),
            false, "-ERR syntax error\r\n+OK\r\n$2\r\nin\r\n+OK\r\n");
    }

    [Fact]
    public void Hello_requires_auth_or_its_auth_option()
    {
        string b = Exchange(_f.Basalt, Cmd("HELLO", "3"), false), r = Exchange(_f.Redis, Cmd("HELLO", "3"), false);
        Assert.Equal(r, b);
        Assert.StartsWith("-NOAUTH HELLO must be called with the client already authenticated", b);
        AssertSame(Cmd("HELLO", "3", "AUTH", "default", "bad"), false, WrongPass + "+OK\r\n");
        using var c = _f.Basalt.Connect();
        var hello = c.Call("HELLO", "3", "AUTH", "default", AuthDifferentialFixture.Password);
        Assert.Equal(RespTypeMap, hello.Type);
        Assert.Equal("PONG", c.Call("PING").Text);
    }

    private const Basalt.Protocol.RespType RespTypeMap = Basalt.Protocol.RespType.Map;

    [Theory]
    [InlineData("*11\r\n", "unauthenticated multibulk length")]
    [InlineData("*1\r\n$16385\r\n", "unauthenticated bulk length")]
    public void Unauthenticated_clients_get_small_request_limits(string raw, string error)
    {
        AssertSame(raw, true, $"-ERR Protocol error: {error}\r\n");
    }

    [Fact]
    public void Limits_lift_after_auth_in_the_same_pipeline()
    {
        string big = new('z', 20_000);
        AssertSame(Cmd("AUTH", AuthDifferentialFixture.Password) + Cmd("ECHO", big) + Cmd("ECHO", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"), false,
            $"+OK\r\n$20000\r\n{big}\r\n-ERR wrong number of arguments for 'echo' command\r\n+OK\r\n");
    }
}
