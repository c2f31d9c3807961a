using System.Diagnostics;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>CLIENT PAUSE is server-wide, so these tests have their own server and run one at a time.</summary>
public class ClientPauseTests : IClassFixture<BasaltFixture>
{
    private readonly ServerProcess _server;
    public ClientPauseTests(BasaltFixture f) => _server = f.Server;

    [Fact]
    public void Pause_write_delays_a_set_but_not_a_get()
    {
        using var admin = _server.Connect();
        using var writer = _server.Connect();
        using var reader = _server.Connect();
        reader.Call("SET", "pause:k", "old");
        var sw = Stopwatch.StartNew();
        Assert.Equal("OK", admin.Call("CLIENT", "PAUSE", "1500", "WRITE").Text);
        writer.Send("SET", "pause:k", "new");
        // Reads go through at once and still see the old value: the SET is held back, not executed.
        Assert.Equal("old", reader.Call("GET", "pause:k").Text);
        Assert.True(sw.ElapsedMilliseconds < 1200, $"GET took {sw.ElapsedMilliseconds} ms");
        Assert.Equal("old", reader.Call("GET", "pause:k").Text);
        Assert.Equal("OK", writer.Read().Text);
        Assert.True(sw.ElapsedMilliseconds >= 1400, $"SET answered after {sw.ElapsedMilliseconds} ms");
        Assert.Equal("new", reader.Call("GET", "pause:k").Text);
    }

    [Fact]
    public void Unpause_releases_delayed_commands_in_order()
    {
        using var admin = _server.Connect();
        using var writer = _server.Connect();
        Assert.Equal("OK", admin.Call("CLIENT", "PAUSE", "20000", "WRITE").Text);
        // A pipelined batch stops at the first write: the PING before it is answered.
        writer.Send("PING");
        writer.Send("SET", "pause:counter", "first");
        writer.Send("GET", "pause:counter");
        writer.Send("SET", "pause:counter", "second");
        Assert.Equal("PONG", writer.Read().Text);
        Assert.True(admin.Call("GET", "pause:counter").IsNull);
        var sw = Stopwatch.StartNew();
        Assert.Equal("OK", admin.Call("CLIENT", "UNPAUSE").Text);
        Assert.Equal("OK", writer.Read().Text);
        Assert.Equal("first", writer.Read().Text);
        Assert.Equal("OK", writer.Read().Text);
        Assert.True(sw.ElapsedMilliseconds < 5000);
        Assert.Equal("second", admin.Call("GET", "pause:counter").Text);
    }

    [Fact]
    public void Pause_all_delays_reads_too()
    {
        using var admin = _server.Connect();
        using var reader = _server.Connect();
        var sw = Stopwatch.StartNew();
        Assert.Equal("OK", admin.Call("CLIENT", "PAUSE", "700", "ALL").Text);
        Assert.Equal("PONG", reader.Call("PING").Text);
        Assert.True(sw.ElapsedMilliseconds >= 600, $"PING answered after {sw.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void A_client_waiting_on_a_pause_can_be_killed()
    {
        using var admin = _server.Connect();
        using var victim = _server.Connect();
        long id = victim.Call("CLIENT", "ID").Integer;
        Assert.Equal("OK", admin.Call("CLIENT", "PAUSE", "20000", "WRITE").Text);
        victim.Send("SET", "pause:victim", "1");
        Assert.Equal(1, admin.Call("CLIENT", "KILL", "ID", id.ToString()).Integer);
        Assert.True(victim.WaitClosed());
        Assert.Equal("OK", admin.Call("CLIENT", "UNPAUSE").Text);
        Assert.True(admin.Call("GET", "pause:victim").IsNull);
    }
}
