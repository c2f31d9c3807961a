using Basalt.Tests.Support;

namespace Basalt.Tests;

public class ExpiryActiveTests : IClassFixture<BasaltFixture>
{
    private readonly ServerProcess _server;
    public ExpiryActiveTests(BasaltFixture f) => _server = f.Server;

    [Fact]
    public void Active_expiry_reclaims_keys_nobody_reads()
    {
        using var c = _server.Connect();
        c.Call("SELECT", "2");
        c.Call("FLUSHDB");
        for (int i = 0; i < 1000; i++) c.Send("SET", "ae:" + i, "v", "PX", "100");
        for (int i = 0; i < 1000; i++) Assert.Equal("OK", c.Read().Text);
        c.Call("SET", "ae:forever", "v");
        Assert.True(c.Call("DBSIZE").Integer > 1); // not all expired at once
        // Only DBSIZE (which never reclaims) is polled: the keys must go by the background cycle alone.
        Tools.WaitUntil(() => c.Call("DBSIZE").Integer == 1, TimeSpan.FromSeconds(15), "active expiry of 1000 keys");
        Assert.Equal(1, c.Call("EXISTS", "ae:forever").Integer);
        c.Call("FLUSHDB");
    }

    [Fact]
    public void Expired_key_is_never_returned_by_reads()
    {
        using var c = _server.Connect();
        c.Call("SELECT", "1");
        c.Call("SET", "ev:k", "v", "PX", "30");
        Tools.WaitUntil(() => c.Call("PTTL", "ev:k").Integer == -2, TimeSpan.FromSeconds(5), "expiry");
        Assert.True(c.Call("GET", "ev:k").IsNull);
        Assert.Equal(0, c.Call("EXISTS", "ev:k").Integer);
        Assert.Equal("none", c.Call("TYPE", "ev:k").Text);
        Assert.Empty(c.Call("KEYS", "ev:*").Items!);
    }
}
