using System.Text;
using Basalt.Protocol;
using Basalt.Server;

namespace Basalt.Tests;

/// <summary>Transaction bookkeeping checked in-process: hooks come and go with the watches, state is dropped on every exit.</summary>
public class TransactionInProcessTests
{
    private static RespValue Call(RedisServer server, Client client, params string[] args)
    {
        var buf = new List<byte>();
        var refs = new ArgRef[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            var b = Encoding.UTF8.GetBytes(args[i]);
            refs[i] = new ArgRef { Offset = buf.Count, Length = b.Length };
            buf.AddRange(b);
        }
        client.Out.Reset();
        lock (server.ExecLock) server.Dispatcher.Execute(client, buf.ToArray(), refs, 0, args.Length);
        return RespValue.TryParse(client.Out.WrittenSpan, out _) ?? throw new InvalidOperationException("no reply");
    }

    [Theory]
    [InlineData("EXEC")]
    [InlineData("DISCARD")]
    [InlineData("UNWATCH")]
    [InlineData("RESET")]
    [InlineData("close")]
    public void Key_modification_hook_is_attached_only_while_a_key_is_watched(string end)
    {
        var h = new KeyInProcessHarness();
        var db = h.Server.Databases[0];
        var tx = h.Server.Dispatcher.Transactions;
        Assert.Null(db.KeyModified);
        Assert.Equal("OK", h.Call("WATCH", "ip:a", "ip:b", "ip:a").Text);
        Assert.NotNull(db.KeyModified);
        Assert.NotNull(db.Clearing);
        Assert.Equal(1, tx.WatchingClients);
        Assert.Null(h.Server.Databases[1].KeyModified);

        if (end is "EXEC" or "DISCARD") { h.Call("MULTI"); h.Call(end); }
        else if (end == "close") lock (h.Server.ExecLock) h.Server.ClientClosed?.Invoke(h.Client);
        else h.Call(end);

        Assert.Null(db.KeyModified);
        Assert.Null(db.Clearing);
        Assert.Equal(0, tx.WatchingClients);
        Assert.Null(tx.Get(h.Client));
        Assert.False(h.Client.Has(ClientFlags.Multi));
    }

    [Fact]
    public void Hook_stays_while_another_client_watches_the_same_key()
    {
        var h = new KeyInProcessHarness();
        var other = new Client(h.Server, 2) { Authenticated = true };
        var db = h.Server.Databases[0];
        h.Call("WATCH", "ip:k");
        Call(h.Server, other, "WATCH", "ip:k");
        h.Call("UNWATCH");
        Assert.NotNull(db.KeyModified);
        h.Call("SET", "ip:k", "1");
        Call(h.Server, other, "MULTI");
        Call(h.Server, other, "PING");
        Assert.True(Call(h.Server, other, "EXEC").IsNull);
        Assert.Null(db.KeyModified);
    }

    [Fact]
    public void Exec_notices_a_watched_key_whose_ttl_passed_without_deletion()
    {
        var h = new KeyInProcessHarness();
        h.Call("SET", "ip:t", "v");
        h.Call("WATCH", "ip:t");
        h.ExpireInPast("ip:t");
        h.Call("MULTI");
        h.Call("PING");
        Assert.True(h.Call("EXEC").IsNull);
        Assert.Equal(1, h.Call("DBSIZE").Integer); // nothing deleted it: the check was EXEC's own
    }

    [Fact]
    public void Key_already_expired_when_watched_is_no_change_when_it_is_reclaimed()
    {
        var h = new KeyInProcessHarness();
        h.Call("SET", "ip:e", "v");
        h.ExpireInPast("ip:e");
        h.Call("WATCH", "ip:e");
        Assert.Equal(0, h.Call("EXISTS", "ip:e").Integer); // reclaims it
        h.Call("MULTI");
        h.Call("PING");
        Assert.Equal("PONG", h.Call("EXEC").Items![0].Text);
    }

    [Fact]
    public void Execute_stored_runs_a_command_from_separate_arguments_and_restores_nothing_it_should_not()
    {
        var h = new KeyInProcessHarness();
        h.Client.Out.Reset();
        lock (h.Server.ExecLock)
            h.Server.Dispatcher.ExecuteStored(h.Client, [Encoding.UTF8.GetBytes("SET"), Encoding.UTF8.GetBytes("ip:s"), new byte[300]]);
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(h.Client.Out.WrittenSpan));
        Assert.Equal(300, h.Call("STRLEN", "ip:s").Integer);
        Assert.Equal(1, h.Server.Commands.Find("set")!.Calls);
    }

    [Fact]
    public void Queued_arguments_are_copies()
    {
        var h = new KeyInProcessHarness();
        h.Call("MULTI");
        var buf = Encoding.UTF8.GetBytes("SETip:qv1");
        var refs = new[] { new ArgRef { Offset = 0, Length = 3 }, new ArgRef { Offset = 3, Length = 4 }, new ArgRef { Offset = 7, Length = 2 } };
        h.Client.Out.Reset();
        lock (h.Server.ExecLock) h.Server.Dispatcher.Execute(h.Client, buf, refs, 0, 3);
        Assert.Equal("+QUEUED\r\n", Encoding.ASCII.GetString(h.Client.Out.WrittenSpan));
        Array.Fill(buf, (byte)'z'); // the receive buffer gets reused
        h.Call("EXEC");
        Assert.Equal("v1", h.Call("GET", "ip:q").Text);
    }
}
