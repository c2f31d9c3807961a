using Basalt.Tests.Support;

namespace Basalt.Tests;

public class SmokeTests : IClassFixture<BasaltFixture>
{
    private readonly ServerProcess _server;
    public SmokeTests(BasaltFixture f) => _server = f.Server;

    [Fact]
    public void Set_then_get_returns_the_value()
    {
        using var c = _server.Connect();
        Assert.Equal("OK", c.Call("SET", "smoke:k", "v1").Text);
        Assert.Equal("v1", c.Call("GET", "smoke:k").Text);
        Assert.True(c.Call("GET", "smoke:missing").IsNull);
    }

    [Fact]
    public void Unknown_command_gets_redis_wording()
    {
        using var c = _server.Connect();
        var r = c.Call("NOSUCH", "a", "b");
        Assert.Equal("ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' ", r.Text);
    }

    [Fact]
    public void Redis_cli_round_trip()
    {
        Assert.Equal("OK", _server.Cli("set", "smoke:cli", "hello").Trim());
        Assert.Equal("hello", _server.Cli("get", "smoke:cli").Trim());
    }
}
