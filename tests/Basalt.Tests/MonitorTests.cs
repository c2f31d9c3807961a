using System.Text;
using System.Text.RegularExpressions;
using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests;

public class MonitorTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public MonitorTests(DifferentialFixture f) => _f = f;

    private static string StripTimeAndAddress(string line) => Regex.Replace(line, @"^\d+\.\d{6} \[(\d+) [^\]]+\]", "T [$1 A]");

    [Fact]
    public void Monitor_sees_other_clients_commands_quoted_like_redis()
    {
        foreach (var server in new[] { _f.Basalt, _f.Redis })
        {
            using var monitor = server.Connect();
            using var other = server.Connect();
            Assert.Equal("OK", monitor.Call("MONITOR").Text);
            var addr = other.Call("CLIENT", "INFO").Text!.Split(' ').Single(f => f.StartsWith("addr="))["addr=".Length..];
            other.Call("SET", "mon:k\"\\\n\x01"u8.ToArray(), new byte[] { 0xc3, 0xa9, (byte)' ', (byte)'x' });
            other.Call("SELECT", "2");
            other.Call("CONFIG", "GET", "hz"); // admin commands are not shown
            other.Call("AUTH", "secret");
            other.Call("NOSUCHCOMMAND");       // rejected commands are not shown
            other.Call("GET", "mon:k");

            var info = monitor.Read().Text!;
            Assert.Equal("T [0 A] \"CLIENT\" \"INFO\"", StripTimeAndAddress(info));
            var set = monitor.Read().Text!;
            Assert.Matches(@"^\d+\.\d{6} \[0 " + Regex.Escape(addr) + @"\] ", set);
            Assert.Equal("T [0 A] \"SET\" \"mon:k\\\"\\\\\\n\\x01\" \"\\xc3\\xa9 x\"", StripTimeAndAddress(set));
            Assert.Equal("T [2 A] \"SELECT\" \"2\"", StripTimeAndAddress(monitor.Read().Text!));
            Assert.Equal("T [2 A] \"AUTH\" \"(redacted)\"", StripTimeAndAddress(monitor.Read().Text!));
            Assert.Equal("T [2 A] \"GET\" \"mon:k\"", StripTimeAndAddress(monitor.Read().Text!));
        }
    }

    [Fact]
    public void Monitor_client_cannot_touch_keys_and_reset_ends_monitoring()
    {
        foreach (var server in new[] { _f.Basalt, _f.Redis })
        {
            using var m = server.Connect();
            Assert.Equal("OK", m.Call("MONITOR").Text);
            Assert.Equal("ERR Replica can't interact with the keyspace", m.Call("GET", "x").Text);
            Assert.Contains(" flags=O ", m.Call("CLIENT", "INFO").Text);
            // Its own CLIENT INFO is echoed to it after the reply.
            Assert.EndsWith("\"CLIENT\" \"INFO\"", m.Read().Text);
            Assert.Equal("RESET", m.Call("RESET").Text);
            Assert.True(m.Call("GET", "mon:none").IsNull);
        }
    }

    [Fact]
    public void A_second_monitor_command_gets_no_reply()
    {
        using var m = _f.Basalt.Connect();
        m.Send("MONITOR");
        m.Send("MONITOR");
        m.Send("PING");
        Assert.Equal("OK", m.Read().Text);
        Assert.Equal("PONG", m.Read().Text);
        Assert.EndsWith("\"PING\"", m.Read().Text);
    }

    [Fact]
    public void A_closed_monitor_stops_receiving_and_others_keep_working()
    {
        var m = _f.Basalt.Connect();
        Assert.Equal("OK", m.Call("MONITOR").Text);
        m.Dispose();
        using var c = _f.Basalt.Connect();
        for (int i = 0; i < 20; i++) Assert.Equal("OK", c.Call("SET", "mon:after", i.ToString()).Text);
        Tools.WaitUntil(() => !c.Call("CLIENT", "LIST").Text!.Contains("flags=O"), TimeSpan.FromSeconds(5), "monitor to disappear");
    }

    [Fact]
    public void Quoting_escapes_like_redis_repr()
    {
        var w = new RespWriter(64);
        Basalt.Server.Introspection.MonitorFeed.WriteQuoted(w, "a\"b\\c\r\n\t\a\b\x7f~ "u8);
        Assert.Equal("\"a\\\"b\\\\c\\r\\n\\t\\a\\b\\x7f~ \"", Encoding.ASCII.GetString(w.WrittenSpan));
    }
}
