using Basalt.Server.Introspection;
using Basalt.Tests.Support;

namespace Basalt.Tests;

public class ClientOutputLimitTests
{
    [Fact]
    public void A_client_that_never_reads_is_closed_at_the_hard_limit_while_others_keep_working()
    {
        using var server = ServerProcess.StartBasalt("--client-output-buffer-limit", "normal 1mb 0 0");
        using var good = server.Connect();
        using var greedy = server.Connect();
        Assert.Equal("OK", good.Call("SET", "obl:big", new string('x', 100_000)).Text);
        long greedyId = greedy.Call("CLIENT", "ID").Integer;
        // 200 pipelined GETs of 100 KB = 20 MB of replies that greedy never reads.
        var batch = new List<byte>();
        for (int i = 0; i < 200; i++) batch.AddRange(Basalt.Protocol.RespValue.EncodeCommand(["GET", "obl:big"]));
        greedy.SendRaw(batch.ToArray());
        Tools.WaitUntil(() => !good.Call("CLIENT", "LIST").Text!.Contains($"id={greedyId} "), TimeSpan.FromSeconds(10), "greedy client to be closed");
        Assert.True(greedy.WaitClosed());
        Assert.Equal("PONG", good.Call("PING").Text);
        Assert.Equal(100_000, good.Call("GET", "obl:big").Text!.Length);
        Tools.WaitUntil(() => server.Output.Contains("scheduled to be closed ASAP for overcoming of output buffer limits."), TimeSpan.FromSeconds(5), "log line");
    }

    [Fact]
    public void Default_limits_leave_normal_clients_unlimited()
    {
        using var server = ServerProcess.StartBasalt();
        using var c = server.Connect();
        c.Call("SET", "obl:big", new string('x', 100_000));
        var batch = new List<byte>();
        for (int i = 0; i < 50; i++) batch.AddRange(Basalt.Protocol.RespValue.EncodeCommand(["GET", "obl:big"]));
        c.SendRaw(batch.ToArray());
        for (int i = 0; i < 50; i++) Assert.Equal(100_000, c.Read().Text!.Length);
    }

    [Fact]
    public void Limit_string_parses_over_redis_defaults()
    {
        var limits = new OutputLimits.Limit[4];
        Assert.True(OutputLimits.Parse("normal 1mb 512kb 10", limits));
        Assert.Equal(new OutputLimits.Limit(1024 * 1024, 512 * 1024, 10), limits[(int)ClientType.Normal]);
        Assert.Equal(new OutputLimits.Limit(32L << 20, 8L << 20, 60), limits[(int)ClientType.PubSub]);
        Assert.Equal(new OutputLimits.Limit(256L << 20, 64L << 20, 60), limits[(int)ClientType.Replica]);
        Assert.False(OutputLimits.Parse("normal 1 2", limits));
        Assert.False(OutputLimits.Parse("bogus 1 2 3", limits));
    }
}
