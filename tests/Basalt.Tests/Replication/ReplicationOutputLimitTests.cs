using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>client-output-buffer-limit replica: a replica too far behind is disconnected and resyncs.</summary>
public class ReplicationOutputLimitTests
{
    private static ServerProcess Start(bool redis, params string[] args) =>
        redis ? ServerProcess.StartRedis([.. Repl.Fast, .. args]) : ServerProcess.StartBasalt([.. Repl.Fast, .. args]);

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Stopped_replica_over_the_hard_limit_is_dropped_and_resyncs(bool redisMaster, bool redisReplica)
    {
        using var master = Start(redisMaster, "--repl-backlog-size", "16384");
        using var replica = Start(redisReplica, "--replicaof", "127.0.0.1", master.Port.ToString());
        Repl.WaitLinkUp(replica);
        Repl.Populate(master, "ol");
        Repl.WaitInSync(master, replica);
        using var m = master.Connect();
        Assert.Equal("OK", m.Call("CONFIG", "SET", "client-output-buffer-limit", "replica 262144 131072 60").Text);
        replica.Signal("STOP");
        try
        {
            // Far more than the socket buffers hold: the rest waits in the replica's output buffer.
            string big = new('v', 128 * 1024);
            for (int i = 0; i < 120 && Repl.Field(master, "connected_slaves") != "0"; i++) m.Call("SET", "ol:big" + (i % 20), big);
            Tools.WaitUntil(() => master.Output.Contains("scheduled to be closed ASAP for overcoming of output buffer limits."), Repl.Timeout, "limit log line");
            Assert.Matches(@"Client id=\d+ addr=127\.0\.0\.1:\d+ .*flags=S .* scheduled to be closed ASAP", master.Output);
            Tools.WaitUntil(() => Repl.Field(master, "connected_slaves") == "0", Repl.Timeout, "replica dropped");
        }
        finally { replica.Signal("CONT"); }
        // The dropped output (at least the limit) is more than the 16 KB backlog holds: a full resync.
        Tools.WaitUntil(() => Repl.Field(master, "sync_full", "stats") == "2", Repl.Timeout, "full resync");
        Repl.WaitInSync(master, replica);
    }

    [Fact]
    public void Replica_over_the_soft_limit_for_its_seconds_is_dropped()
    {
        using var master = Start(false);
        using var replica = Start(false, "--replicaof", "127.0.0.1", master.Port.ToString());
        Repl.WaitLinkUp(replica);
        Repl.Populate(master, "os");
        Repl.WaitInSync(master, replica);
        using var m = master.Connect();
        Assert.Equal("OK", m.Call("CONFIG", "SET", "client-output-buffer-limit", "replica 0 65536 3").Text);
        replica.Signal("STOP");
        try
        {
            string big = new('v', 128 * 1024);
            for (int i = 0; i < 80; i++) m.Call("SET", "os:big" + (i % 10), big);
            // Over the soft limit now, but not for 3 seconds yet.
            Assert.Equal("1", Repl.Field(master, "connected_slaves"));
            Tools.WaitUntil(() => Repl.Field(master, "connected_slaves") == "0", Repl.Timeout, "replica dropped after the soft seconds");
            // The log is read from the process's stdout asynchronously: poll for the line rather than reading once.
            Tools.WaitUntil(() => master.Output.Contains("for overcoming of output buffer limits."), Repl.Timeout, "limit log line");
        }
        finally { replica.Signal("CONT"); }
        Tools.WaitUntil(() => Repl.Field(master, "sync_full", "stats") == "2", Repl.Timeout, "full resync");
        Repl.WaitInSync(master, replica);
    }
}
