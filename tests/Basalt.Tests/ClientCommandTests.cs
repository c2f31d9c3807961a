using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

public class ClientCommandTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public ClientCommandTests(DifferentialFixture f) => _f = f;

    private static List<string> FieldNames(string line) =>
        line.TrimEnd('\n').Split(' ').Select(kv => kv[..kv.IndexOf('=')]).ToList();

    [Fact]
    public void Client_list_and_info_have_redis_fields_in_redis_order()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var bl = b.Call("CLIENT", "LIST").Text!;
        var rl = r.Call("CLIENT", "LIST").Text!;
        Assert.EndsWith("\n", bl);
        Assert.Equal(FieldNames(rl.Split('\n')[0]), FieldNames(bl.Split('\n')[0]));
        Assert.Equal(FieldNames(r.Call("CLIENT", "INFO").Text!), FieldNames(b.Call("CLIENT", "INFO").Text!));
    }

    [Fact]
    public void Client_info_describes_the_caller()
    {
        using var c = _f.Basalt.Connect();
        long id = c.Call("CLIENT", "ID").Integer;
        Assert.Equal("OK", c.Call("CLIENT", "SETNAME", "worker-1").Text);
        Assert.Equal("OK", c.Call("SELECT", "3").Text);
        var info = c.Call("CLIENT", "INFO").Text!;
        var fields = info.TrimEnd('\n').Split(' ').ToDictionary(kv => kv[..kv.IndexOf('=')], kv => kv[(kv.IndexOf('=') + 1)..]);
        Assert.Equal(id.ToString(), fields["id"]);
        Assert.Equal("worker-1", fields["name"]);
        Assert.Equal("3", fields["db"]);
        Assert.Equal("N", fields["flags"]);
        Assert.Equal("client|info", fields["cmd"]);
        Assert.Equal("default", fields["user"]);
        Assert.Equal("2", fields["resp"]);
        Assert.Equal("-1", fields["multi"]);
        Assert.Equal("worker-1", c.Call("CLIENT", "GETNAME").Text);
        Assert.Contains($"id={id} ", c.Call("CLIENT", "LIST", "ID", id.ToString()).Text);
    }

    [Fact]
    public void Setname_rejects_spaces_and_empty_name_clears_it()
    {
        using var c = _f.Basalt.Connect();
        Assert.True(c.Call("CLIENT", "GETNAME").IsNull);
        var err = c.Call("CLIENT", "SETNAME", "a b");
        Assert.Equal("ERR Client names cannot contain spaces, newlines or special characters.", err.Text);
        c.Call("CLIENT", "SETNAME", "x");
        c.Call("CLIENT", "SETNAME", "");
        Assert.True(c.Call("CLIENT", "GETNAME").IsNull);
    }

    /// <summary>Replies that do not depend on connection details are byte-identical to Redis.</summary>
    [Theory]
    [InlineData("CLIENT", "SETNAME", "a\nb")]
    [InlineData("CLIENT", "LIST", "TYPE", "bad")]
    [InlineData("CLIENT", "LIST", "ID", "abc")]
    [InlineData("CLIENT", "LIST", "ID")]
    [InlineData("CLIENT", "LIST", "TYPE", "normal", "ID", "1")]
    [InlineData("CLIENT", "LIST", "ID", "999999")]
    [InlineData("CLIENT", "LIST", "TYPE", "pubsub")]
    [InlineData("CLIENT", "LIST", "TYPE", "master")]
    [InlineData("CLIENT", "LIST", "foo")]
    [InlineData("CLIENT", "KILL", "1.2.3.4:5")]
    [InlineData("CLIENT", "KILL", "ID", "999999")]
    [InlineData("CLIENT", "KILL", "ID", "0")]
    [InlineData("CLIENT", "KILL", "ID", "abc")]
    [InlineData("CLIENT", "KILL", "TYPE", "bad")]
    [InlineData("CLIENT", "KILL", "MAXAGE", "5")]
    [InlineData("CLIENT", "KILL", "USER", "nobody")]
    [InlineData("CLIENT", "KILL", "SKIPME", "maybe")]
    [InlineData("CLIENT", "KILL", "ADDR", "1.1.1.1:1", "SKIPME", "no")]
    [InlineData("CLIENT", "KILL", "ID")]
    [InlineData("CLIENT", "KILL", "ID", "1", "TYPE")]
    [InlineData("CLIENT", "KILL")]
    [InlineData("CLIENT", "PAUSE", "abc")]
    [InlineData("CLIENT", "PAUSE", "-1")]
    [InlineData("CLIENT", "PAUSE", "10", "bad")]
    [InlineData("CLIENT", "PAUSE", "10", "write", "x")]
    [InlineData("CLIENT", "REPLY", "bad")]
    [InlineData("CLIENT", "NO-EVICT", "maybe")]
    [InlineData("CLIENT", "NO-EVICT", "ON")]
    [InlineData("CLIENT", "NO-TOUCH", "on")]
    [InlineData("CLIENT", "SETINFO", "lib-name", "x")]
    [InlineData("CLIENT", "UNBLOCK", "x")]
    [InlineData("CLIENT", "UNBLOCK", "1", "foo")]
    [InlineData("CLIENT", "UNBLOCK", "999999")]
    [InlineData("CLIENT", "UNBLOCK", "1", "timeout", "x")]
    [InlineData("CLIENT", "GETREDIR")]
    [InlineData("CLIENT", "TRACKINGINFO")]
    [InlineData("CLIENT", "HELP")]
    [InlineData("CLIENT", "HELP", "x")]
    [InlineData("CLIENT", "FOO")]
    [InlineData("CLIENT")]
    [InlineData("CLIENT", "GETNAME", "x")]
    public void Replies_match_redis(params string[] cmd)
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var args = cmd.Cast<object>().ToArray();
        Assert.Equal(Encoding.UTF8.GetString(r.CallRaw(args)), Encoding.UTF8.GetString(b.CallRaw(args)));
    }

    [Fact]
    public void Kill_by_id_closes_that_connection_only()
    {
        using var killer = _f.Basalt.Connect();
        using var victim = _f.Basalt.Connect();
        using var bystander = _f.Basalt.Connect();
        long id = victim.Call("CLIENT", "ID").Integer;
        Assert.Equal(1, killer.Call("CLIENT", "KILL", "ID", id.ToString()).Integer);
        Assert.True(victim.WaitClosed());
        Tools.WaitUntil(() => !killer.Call("CLIENT", "LIST").Text!.Contains($"id={id} "), TimeSpan.FromSeconds(5), "killed client to leave CLIENT LIST");
        Assert.Equal("PONG", bystander.Call("PING").Text);
        Assert.Equal(0, killer.Call("CLIENT", "KILL", "ID", id.ToString()).Integer);
    }

    [Fact]
    public void Kill_old_form_by_address_and_skipme_protects_the_caller()
    {
        using var killer = _f.Basalt.Connect();
        using var victim = _f.Basalt.Connect();
        var addr = victim.Call("CLIENT", "INFO").Text!.Split(' ').Single(f => f.StartsWith("addr="))["addr=".Length..];
        Assert.Equal("OK", killer.Call("CLIENT", "KILL", addr).Text);
        Assert.True(victim.WaitClosed());

        var self = killer.Call("CLIENT", "INFO").Text!.Split(' ').Single(f => f.StartsWith("addr="))["addr=".Length..];
        Assert.Equal(0, killer.Call("CLIENT", "KILL", "ADDR", self).Integer);
        Assert.Equal("PONG", killer.Call("PING").Text);
        Assert.Equal(1, killer.Call("CLIENT", "KILL", "ADDR", self, "SKIPME", "no").Integer);
        Assert.True(killer.WaitClosed());
    }

    [Fact]
    public void Reply_off_and_skip_suppress_replies()
    {
        using var c = _f.Basalt.Connect();
        c.Send("CLIENT", "REPLY", "OFF");
        c.Send("SET", "client:reply", "1");
        c.Send("CLIENT", "REPLY", "ON");
        Assert.Equal("OK", c.Read().Text);
        c.Send("CLIENT", "REPLY", "SKIP");
        c.Send("ECHO", "skipped");
        c.Send("ECHO", "shown");
        Assert.Equal("shown", c.Read().Text);
        Assert.Equal("1", c.Call("GET", "client:reply").Text);
    }

    [Fact]
    public void No_evict_sets_the_e_flag()
    {
        using var c = _f.Basalt.Connect();
        Assert.Equal("OK", c.Call("CLIENT", "NO-EVICT", "on").Text);
        Assert.Contains(" flags=e ", c.Call("CLIENT", "INFO").Text);
        Assert.Equal("OK", c.Call("CLIENT", "NO-EVICT", "off").Text);
        Assert.Contains(" flags=N ", c.Call("CLIENT", "INFO").Text);
    }
}
