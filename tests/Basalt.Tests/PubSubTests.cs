using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Pub/Sub behaviour on Basalt alone: ordering, clean-up on disconnect and RESET, introspection, slow subscribers.</summary>
public class PubSubTests : IClassFixture<BasaltFixture>
{
    private readonly ServerProcess _s;
    public PubSubTests(BasaltFixture f) => _s = f.Server;

    private static void Subscribe(RespConnection c, string cmd, params string[] names)
    {
        c.Send([cmd, .. names]);
        foreach (var n in names)
        {
            var v = c.Read();
            Assert.Equal(cmd.ToLowerInvariant(), v.Items![0].Text);
            Assert.Equal(n, v.Items[1].Text);
        }
    }

    private static long NumSub(RespConnection c, string sub, string channel) => c.Call("PUBSUB", sub, channel).Items![1].Integer;

    [Fact]
    public void Messages_arrive_in_publish_order_channel_message_before_pattern_message()
    {
        using var sub = _s.Connect();
        using var pub = _s.Connect();
        Subscribe(sub, "SUBSCRIBE", "ord:ch");
        Subscribe(sub, "PSUBSCRIBE", "ord:*");
        var batch = new List<byte>();
        for (int i = 0; i < 500; i++) batch.AddRange(RespValue.EncodeCommand(["PUBLISH", "ord:ch", "m" + i]));
        pub.SendRaw(batch.ToArray());
        for (int i = 0; i < 500; i++) Assert.Equal(2, pub.Read().Integer);
        for (int i = 0; i < 500; i++)
        {
            var m = sub.Read();
            Assert.Equal(["message", "ord:ch", "m" + i], m.Items!.Select(x => x.Text));
            var pm = sub.Read();
            Assert.Equal(["pmessage", "ord:*", "ord:ch", "m" + i], pm.Items!.Select(x => x.Text));
        }
        Assert.Empty(PubSubDifferentialTests.Pending(sub));
    }

    [Fact]
    public void Disconnect_drops_all_subscriptions_of_the_client()
    {
        using var p = _s.Connect();
        // Subscribers of earlier tests are torn down asynchronously: take the baseline once they are gone.
        Tools.WaitUntil(() => string.IsNullOrEmpty(p.Call("CLIENT", "LIST", "TYPE", "pubsub").Text?.Trim()),
            TimeSpan.FromSeconds(5), "earlier subscribers to disconnect");
        long patterns = p.Call("PUBSUB", "NUMPAT").Integer;
        long channels = PubSubDifferentialTests.InfoField(p, "pubsub_channels");
        long shards = PubSubDifferentialTests.InfoField(p, "pubsubshard_channels");
        var sub = _s.Connect();
        Subscribe(sub, "SUBSCRIBE", "dc:a", "dc:b");
        Subscribe(sub, "PSUBSCRIBE", "dc:*");
        Subscribe(sub, "SSUBSCRIBE", "dc:s");
        Assert.Equal(1, NumSub(p, "NUMSUB", "dc:a"));
        Assert.Equal(channels + 2, PubSubDifferentialTests.InfoField(p, "pubsub_channels"));
        Assert.Equal(patterns + 1, PubSubDifferentialTests.InfoField(p, "pubsub_patterns"));
        Assert.Equal(shards + 1, PubSubDifferentialTests.InfoField(p, "pubsubshard_channels"));
        sub.Dispose();
        Tools.WaitUntil(() => NumSub(p, "NUMSUB", "dc:a") == 0, TimeSpan.FromSeconds(5), "subscriber clean-up");
        Assert.Equal(0, NumSub(p, "NUMSUB", "dc:b"));
        Assert.Equal(0, NumSub(p, "SHARDNUMSUB", "dc:s"));
        Assert.Equal(patterns, p.Call("PUBSUB", "NUMPAT").Integer);
        Assert.Equal(0, p.Call("PUBLISH", "dc:a", "x").Integer);
        Assert.Equal(channels, PubSubDifferentialTests.InfoField(p, "pubsub_channels"));
    }

    [Fact]
    public void Reset_leaves_subscribed_mode_and_drops_subscriptions()
    {
        using var p = _s.Connect();
        using var sub = _s.Connect();
        Subscribe(sub, "SUBSCRIBE", "rs:a");
        Subscribe(sub, "PSUBSCRIBE", "rs:*");
        Assert.Equal(2, p.Call("PUBLISH", "rs:a", "x").Integer);
        sub.Read(); sub.Read();
        Assert.Equal("RESET", sub.Call("RESET").Text);
        Assert.True(sub.Call("GET", "rs:k").IsNull);
        Assert.Equal(0, p.Call("PUBLISH", "rs:a", "x").Integer);
        Assert.Equal(0, NumSub(p, "NUMSUB", "rs:a"));
        Assert.Equal("PONG", sub.Call("PING").Text);
    }

    [Fact]
    public void Client_list_shows_subscription_counts_type_and_flag()
    {
        using var p = _s.Connect();
        using var sub = _s.Connect();
        long id = sub.Call("CLIENT", "ID").Integer;
        Subscribe(sub, "SUBSCRIBE", "cl:a", "cl:b");
        Subscribe(sub, "PSUBSCRIBE", "cl:*", "cl:?", "cl:*");
        Subscribe(sub, "SSUBSCRIBE", "cl:s");
        string line = p.Call("CLIENT", "LIST", "ID", id.ToString()).Text!;
        Assert.Contains(" flags=P ", line);
        Assert.Contains(" sub=2 psub=2 ssub=1 ", line);
        Assert.Contains($"id={id} ", p.Call("CLIENT", "LIST", "TYPE", "pubsub").Text);
        Assert.DoesNotContain($"id={id} ", p.Call("CLIENT", "LIST", "TYPE", "normal").Text);
        Assert.Contains(" sub=0 psub=0 ssub=0 ", p.Call("CLIENT", "INFO").Text);

        Assert.True(p.Call("CLIENT", "KILL", "TYPE", "pubsub").Integer >= 1);
        Assert.True(sub.WaitClosed());
        Tools.WaitUntil(() => NumSub(p, "NUMSUB", "cl:a") == 0, TimeSpan.FromSeconds(5), "killed subscriber clean-up");
    }

    [Fact]
    public void A_client_that_publishes_to_itself_gets_the_message_before_the_reply_in_resp3()
    {
        using var c = _s.Connect();
        c.Call("HELLO", "3");
        Subscribe(c, "SUBSCRIBE", "self:c");
        c.Send("PUBLISH", "self:c", "hi");
        var push = c.Read();
        Assert.Equal(RespType.Push, push.Type);
        Assert.Equal(["message", "self:c", "hi"], push.Items!.Select(x => x.Text));
        Assert.Equal(1, c.Read().Integer);
        Assert.Equal("OK", c.Call("SET", "self:k", "v").Text); // RESP3 subscribers may run any command
        Assert.Equal("v", c.Call("GET", "self:k").Text);
    }
}

/// <summary>Slow subscribers are cut off by the pubsub output buffer limit without holding up anyone else.</summary>
public class PubSubSlowSubscriberTests
{
    [Fact]
    public void A_subscriber_that_never_reads_is_disconnected_while_publisher_and_others_keep_working()
    {
        using var server = ServerProcess.StartBasalt("--client-output-buffer-limit", "pubsub 1mb 0 0");
        using var pub = server.Connect();
        using var good = server.Connect();
        using var slow = server.Connect();
        long slowId = slow.Call("CLIENT", "ID").Integer;
        foreach (var c in new[] { good, slow })
        {
            c.Send("SUBSCRIBE", "slow:ch");
            Assert.Equal("subscribe", c.Read().Items![0].Text);
        }
        // 200 messages of 100 KB = 20 MB; slow never reads, good reads each one.
        string payload = new('x', 100_000);
        var receivers = new List<long>();
        for (int i = 0; i < 200; i++)
        {
            receivers.Add(pub.Call("PUBLISH", "slow:ch", payload).Integer);
            var m = good.Read();
            Assert.Equal("message", m.Items![0].Text);
            Assert.Equal(100_000, m.Items[2].Bytes!.Length);
        }
        Assert.Equal(2, receivers[0]);
        Assert.Equal(1, receivers[^1]); // slow was dropped on the way
        Assert.DoesNotContain($"id={slowId} ", pub.Call("CLIENT", "LIST").Text);
        // Not slow.WaitClosed(): draining the ~4 MB the kernel still holds for it crawls on zero-window probes (Redis too).
        Assert.Equal(1, pub.Call("PUBLISH", "slow:ch", "after").Integer);
        Assert.Equal("after", good.Read().Items![2].Text);
        Assert.Equal("PONG", pub.Call("PING").Text);
        Tools.WaitUntil(() => server.Output.Contains("scheduled to be closed ASAP for overcoming of output buffer limits."), TimeSpan.FromSeconds(30), "log line");
    }
}
