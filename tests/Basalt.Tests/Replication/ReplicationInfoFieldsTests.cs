using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>INFO fields of replication traffic and memory, and the replication-related INFO key sets against Redis.</summary>
public class ReplicationInfoFieldsTests
{
    private static long Stat(ServerProcess s, string name) => long.Parse(Repl.Field(s, name, "stats"));

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Repl_traffic_counters_agree_between_master_and_replica(bool redisMaster, bool redisReplica)
    {
        using var master = redisMaster ? ServerProcess.StartRedis(Repl.Fast) : ServerProcess.StartBasalt(Repl.Fast);
        Repl.Populate(master, "nb");
        Assert.Equal(0, Stat(master, "total_net_repl_output_bytes"));
        string[] args = [.. Repl.Fast, "--replicaof", "127.0.0.1", master.Port.ToString()];
        using var replica = redisReplica ? ServerProcess.StartRedis(args) : ServerProcess.StartBasalt(args);
        Repl.WaitLinkUp(replica);
        Repl.WaitInSync(master, replica);
        long outAfterSync = Stat(master, "total_net_repl_output_bytes");
        Assert.True(outAfterSync > 500, $"snapshot counted: {outAfterSync}");
        Tools.WaitUntil(() => Stat(replica, "total_net_repl_input_bytes") == Stat(master, "total_net_repl_output_bytes"), Repl.Timeout, "in == out");

        long clientOut = Stat(master, "total_net_output_bytes");
        using (var m = master.Connect()) m.Call("SET", "nb:big", new string('x', 20_000));
        Repl.WaitInSync(master, replica);
        Assert.InRange(Stat(master, "total_net_repl_output_bytes") - outAfterSync, 20_000, 21_000);
        Tools.WaitUntil(() => Stat(replica, "total_net_repl_input_bytes") == Stat(master, "total_net_repl_output_bytes"), Repl.Timeout, "in == out after the stream");
        // As Redis 7.0: the totals include replication traffic.
        Assert.True(Stat(master, "total_net_output_bytes") - clientOut >= 20_000);
        Assert.True(Stat(replica, "total_net_input_bytes") >= Stat(replica, "total_net_repl_input_bytes"));
        Assert.Equal(0, Stat(replica, "total_net_repl_output_bytes"));
    }

    [Fact]
    public void Mem_replication_backlog_follows_the_backlog()
    {
        using var master = ServerProcess.StartBasalt([.. Repl.Fast, "--repl-backlog-size", "262144"]);
        Assert.Equal("0", Repl.Field(master, "mem_replication_backlog", "memory"));
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        Assert.Equal("262144", Repl.Field(master, "mem_replication_backlog", "memory"));
        Assert.True(long.Parse(Repl.Field(master, "mem_total_replication_buffers", "memory")) >= 262144);
        // The replica keeps a backlog of its own (for its replicas and a later promotion), sized by its own config.
        Assert.Equal("1048576", Repl.Field(replica, "mem_replication_backlog", "memory"));
    }

    private static string[] Keys(ServerProcess s, string section) =>
        Repl.Info(s, section).Keys.Where(k => !k.StartsWith("slave0")).ToArray();

    [Fact]
    public void Replication_info_key_sets_match_redis_on_master_and_replica()
    {
        using var rm = ServerProcess.StartRedis(Repl.Fast);
        using var bm = ServerProcess.StartBasalt(Repl.Fast);
        using var rr = ServerProcess.StartRedis([.. Repl.Fast, "--replicaof", "127.0.0.1", rm.Port.ToString()]);
        using var br = ServerProcess.StartBasalt([.. Repl.Fast, "--replicaof", "127.0.0.1", bm.Port.ToString()]);
        Repl.WaitLinkUp(rr);
        Repl.WaitLinkUp(br);
        foreach (var section in new[] { "replication", "stats", "persistence" })
        {
            Assert.Equal(Keys(rm, section), Keys(bm, section));
            Assert.Equal(Keys(rr, section), Keys(br, section));
        }
        var rMem = Keys(rm, "memory").Where(k => k.Contains("repl") || k.Contains("slaves")).ToArray();
        var bMem = Keys(bm, "memory").Where(k => k.Contains("repl") || k.Contains("slaves")).ToArray();
        Assert.Equal(rMem, bMem);
        Assert.Contains("slave0", Repl.Info(bm).Keys);
    }
}
