using Basalt.Server;

namespace Basalt.Tests.Replication;

/// <summary>Propagated forms that cannot be compared with Redis byte for byte (random choices, clocks), checked in-process.</summary>
public class PropagationTests
{
    [Fact]
    public void Spop_with_count_propagates_one_srem_per_popped_member_in_a_transaction()
    {
        var h = new PropagationHarness();
        h.Call("SADD", "s", "a", "b", "c", "d", "e", "f");
        h.Take();
        var popped = h.Call("SPOP", "s", "3")!.Items!.Select(i => i.Text!).ToArray();
        var lines = h.Take();
        Assert.Equal(3, popped.Length);
        Assert.Equal("MULTI", lines[0]);
        Assert.Equal("EXEC", lines[^1]);
        Assert.Equal(popped.Select(m => "SREM s " + m), lines[1..^1]);
    }

    [Fact]
    public void Spop_of_one_member_propagates_srem_and_of_the_whole_set_del()
    {
        var h = new PropagationHarness();
        h.Call("SADD", "s", "a", "b", "c");
        h.Take();
        var m = h.Call("SPOP", "s")!.Text;
        Assert.Equal(["SREM s " + m], h.Take());
        h.Call("SPOP", "s", "10");
        Assert.Equal(["DEL s"], h.Take());
    }

    [Fact]
    public void Random_reads_and_failed_writes_propagate_nothing()
    {
        var h = new PropagationHarness();
        h.Call("SADD", "s", "a", "b");
        h.Call("SET", "str", "x");
        h.Take();
        h.Call("SRANDMEMBER", "s", "2");
        h.Call("SPOP", "s", "0");
        h.Call("LPUSH", "str", "x");
        h.Call("INCR", "str");
        h.Call("SET", "k", "v", "EX", "0");
        Assert.Empty(h.Take());
    }

    [Fact]
    public void Relative_expires_propagate_absolute_times_close_to_now()
    {
        var h = new PropagationHarness();
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        h.Call("SET", "k", "v", "EX", "100");
        h.Call("EXPIRE", "k", "150", "GT");
        h.Call("GETEX", "k", "PX", "200000");
        long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var lines = h.Take();
        Assert.Equal(3, lines.Length);
        long At(string line, int i) => long.Parse(line.Split(' ')[i]);
        Assert.StartsWith("SET k v PXAT ", lines[0]);
        Assert.InRange(At(lines[0], 4), before + 100_000, after + 100_000);
        Assert.Matches(@"^PEXPIREAT k \d+ GT$", lines[1]);
        Assert.InRange(At(lines[1], 2), before + 150_000, after + 150_000);
        Assert.InRange(At(lines[2], 2), before + 200_000, after + 200_000);
    }

    [Fact]
    public void Xreadgroup_propagates_xclaim_with_the_delivery_time_and_the_group_position()
    {
        var h = new PropagationHarness();
        h.Call("XADD", "s", "1-1", "f", "v");
        h.Call("XADD", "s", "1-2", "f", "v");
        h.Call("XGROUP", "CREATE", "s", "g", "0");
        h.Take();
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        h.Call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">");
        var lines = h.Take();
        Assert.Equal(4, lines.Length);
        Assert.Matches(@"^XCLAIM s g c 0 1-1 TIME \d{13} RETRYCOUNT 1 FORCE JUSTID LASTID 1-1$", lines[1]);
        Assert.Matches(@"^XCLAIM s g c 0 1-2 TIME \d{13} RETRYCOUNT 1 FORCE JUSTID LASTID 1-2$", lines[2]);
        Assert.InRange(long.Parse(lines[1].Split(' ')[7]), before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        // Re-reading the history changes delivery counts locally only.
        h.Call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0");
        Assert.Empty(h.Take());
    }

    [Fact]
    public void Nothing_is_recorded_without_a_sink_and_writes_still_apply()
    {
        var h = new PropagationHarness();
        h.Server.Propagator.RemoveSink(h.Sink);
        Assert.False(h.Server.Propagator.Active);
        h.Call("SET", "k", "v", "EX", "100");
        h.Call("SADD", "s", "a", "b");
        h.Call("SPOP", "s", "1");
        Assert.Empty(h.Take());
        Assert.Equal(1, h.Call("SCARD", "s")!.Integer);
        Assert.True(h.Call("PTTL", "k")!.Integer > 0);
    }

    [Fact]
    public void Key_expired_on_access_propagates_del_before_the_command_in_one_transaction()
    {
        var h = new PropagationHarness();
        h.Call("SET", "k", "v");
        h.Server.Databases[0].SetExpire("k"u8.ToArray(), Basalt.Server.Keyspace.Database.NowMs - 1000);
        h.Take();
        h.Call("SET", "k", "w", "KEEPTTL");
        Assert.Equal(["MULTI", "DEL k", "SET k w KEEPTTL", "EXEC"], h.Take());
    }

    private sealed class TargetSink : Basalt.Server.Replication.IPropagationSink
    {
        public readonly List<(string Command, Basalt.Server.Replication.PropagateTargets Targets)> Ops = new();
        public void Feed(Basalt.Server.Replication.PropagationUnit unit)
        {
            for (int i = 0; i < unit.Count; i++)
                Ops.Add((string.Join(' ', PropagationText.Decode(unit.Command(i).ToArray())), unit.Targets(i)));
        }
    }

    [Fact]
    public void Publish_goes_to_replicas_only_and_spublish_nowhere()
    {
        var h = new PropagationHarness();
        var sink = new TargetSink();
        h.Server.Propagator.AddSink(sink);
        h.Call("PUBLISH", "ch", "msg");
        h.Call("SPUBLISH", "ch", "msg");
        h.Call("SET", "k", "v");
        Assert.Equal([("PUBLISH ch msg", Basalt.Server.Replication.PropagateTargets.Replicas), ("SET k v", Basalt.Server.Replication.PropagateTargets.All)], sink.Ops);
    }
}
