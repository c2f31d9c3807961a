using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>FAILOVER (coordinated failover) with Basalt and Redis 7.0 on either side.</summary>
public class ReplicationFailoverTests
{
    private static ServerProcess Start(bool redis, params string[] args) =>
        redis ? ServerProcess.StartRedis([.. Repl.Fast, .. args]) : ServerProcess.StartBasalt([.. Repl.Fast, .. args]);

    /// <summary>Runs the whole switch: the master pauses, the replica catches up and is promoted, the old master follows it partially.</summary>
    private static void RunFailover(bool redisMaster, bool redisReplica, bool withTarget)
    {
        using var master = Start(redisMaster);
        using var replica = Start(redisReplica, "--replicaof", "127.0.0.1", master.Port.ToString());
        Repl.WaitLinkUp(replica);
        Repl.Populate(master, "fo");
        Repl.WaitInSync(master, replica);
        string oldId = Repl.Field(master, "master_replid");

        using var m = master.Connect();
        var reply = withTarget ? m.Call("FAILOVER", "TO", "127.0.0.1", replica.Port.ToString(), "TIMEOUT", "10000") : m.Call("FAILOVER");
        Assert.Equal("OK", reply.Text);

        // Roles swap: the old master follows the promoted replica.
        Tools.WaitUntil(() => Repl.Field(replica, "role") == "master" && Repl.Field(master, "master_link_status") == "up", Repl.Timeout, "roles swapped");
        Assert.Equal("slave", Repl.Field(master, "role"));
        Assert.Equal(replica.Port.ToString(), Repl.Field(master, "master_port"));
        Tools.WaitUntil(() => Repl.Field(master, "master_failover_state") == "no-failover", Repl.Timeout, "failover state cleared");
        // The old history continues: a partial resync, the old id kept as replid2.
        var info = Repl.Info(replica);
        Assert.Equal(oldId, info["master_replid2"]);
        Assert.Equal("1", Repl.Field(replica, "sync_partial_ok", "stats"));
        Assert.Equal("0", Repl.Field(replica, "sync_full", "stats"));
        Assert.Equal(info["master_replid"], Repl.Field(master, "master_replid"));

        // Writes now flow the other way; the old master refuses them and its paused clients are released.
        using var r = replica.Connect();
        r.Call("SET", "fo:after", "1");
        r.Call("HSET", "fo:h", "c", "3");
        Repl.WaitInSync(replica, master);
        Assert.StartsWith("READONLY", m.Call("SET", "fo:x", "1").Text);
    }

    [Fact] public void Basalt_master_fails_over_to_a_redis_replica() => RunFailover(false, true, withTarget: false);
    [Fact] public void Basalt_master_fails_over_to_a_named_basalt_replica() => RunFailover(false, false, withTarget: true);
    [Fact] public void Redis_master_fails_over_to_a_named_basalt_replica() => RunFailover(true, false, withTarget: true);
    [Fact] public void Basalt_master_fails_over_to_a_basalt_replica() => RunFailover(false, false, withTarget: false);

    /// <summary>The same commands against a Basalt pair and a Redis pair give the same replies and states.</summary>
    [Fact]
    public void Failover_errors_abort_and_timeout_match_redis()
    {
        var basalt = Script(false);
        var redis = Script(true);
        Assert.Equal(redis, basalt);
    }

    private static List<string> Script(bool redis)
    {
        var log = new List<string>();
        string replicaPort = "<none>";
        using var master = Start(redis);
        using var m = master.Connect();
        string Do(params object[] a)
        {
            var v = m.Call(a);
            string s = v.IsError ? "-" + v.Text : v.Text ?? v.Integer.ToString();
            log.Add(string.Join(' ', a).Replace(replicaPort, "<port>") + " => " + s);
            return s;
        }
        string State() { var s = Repl.Field(master, "master_failover_state"); log.Add("state " + s); return s; }

        foreach (var args in new[]
        {
            new object[] { "FAILOVER" }, ["FAILOVER", "ABORT"], ["FAILOVER", "TIMEOUT", "0"], ["FAILOVER", "TIMEOUT", "-5"],
            ["FAILOVER", "TIMEOUT", "x"], ["FAILOVER", "TO", "127.0.0.1"], ["FAILOVER", "TO", "h", "p"], ["FAILOVER", "FORCE", "FORCE"],
            ["FAILOVER", "TO", "h", "1", "TO", "h", "2"], ["FAILOVER", "TIMEOUT", "5", "TIMEOUT", "6"], ["FAILOVER", "ABORT", "x"],
            ["FAILOVER", "bogus"], ["FAILOVER", "FORCE", "TIMEOUT", "10"],
        }) Do(args);
        State();

        using var replica = Start(redis, "--replicaof", "127.0.0.1", master.Port.ToString());
        replicaPort = replica.Port.ToString();
        Repl.WaitLinkUp(replica);
        Tools.WaitUntil(() => Repl.Field(master, "slave0").Contains("state=online"), Repl.Timeout, "replica online");
        using (var rc = replica.Connect())
        {
            var v = rc.Call("FAILOVER");
            log.Add("on replica => " + v.Text);
        }
        Do("FAILOVER", "TO", "127.0.0.1", "1");
        Do("FAILOVER", "TO", "127.0.0.1", replica.Port.ToString(), "FORCE");
        Do("FAILOVER", "FORCE", "TIMEOUT", "100");

        // A stopped replica cannot catch up with a write made meanwhile: the failover waits.
        replica.Signal("STOP");
        try
        {
            Do("SET", "k", "1");
            Do("FAILOVER", "TIMEOUT", "60000");
            State();
            Do("FAILOVER");
            Do("FAILOVER", "TO", "127.0.0.1", replica.Port.ToString());
            // Writes wait while the failover waits; reads do not.
            using var writer = master.Connect();
            writer.Send("SET", "k", "2");
            Do("GET", "k");
            Do("FAILOVER", "ABORT");
            State();
            log.Add("paused write => " + writer.Read().Text);
            Do("GET", "k");
            Do("FAILOVER", "ABORT");

            // Without FORCE a timeout gives up and leaves the master as it was.
            Do("SET", "k", "3");
            Do("FAILOVER", "TIMEOUT", "300");
            State();
            Tools.WaitUntil(() => Repl.Field(master, "master_failover_state") == "no-failover", Repl.Timeout, "timeout abort");
            State();
            log.Add("role " + Repl.Field(master, "role"));
            Do("SET", "k", "4");
        }
        finally
        {
            replica.Signal("CONT");
        }
        return log;
    }

    /// <summary>FORCE: after the timeout the master switches even though the replica never confirmed the last writes.</summary>
    [Fact]
    public void Force_fails_over_after_the_timeout_to_a_replica_that_never_caught_up()
    {
        using var master = Start(false);
        using var replica = Start(false, "--replicaof", "127.0.0.1", master.Port.ToString());
        Repl.WaitLinkUp(replica);
        Repl.Populate(master, "force");
        Repl.WaitInSync(master, replica);
        using var m = master.Connect();
        replica.Signal("STOP");
        try
        {
            m.Call("SET", "force:k", "1");
            Assert.Equal("OK", m.Call("FAILOVER", "TO", "127.0.0.1", replica.Port.ToString(), "FORCE", "TIMEOUT", "200").Text);
            Assert.Equal("waiting-for-sync", Repl.Field(master, "master_failover_state"));
            Tools.WaitUntil(() => Repl.Field(master, "master_failover_state") == "failover-in-progress", Repl.Timeout, "forced switch");
            Assert.Equal("slave", Repl.Field(master, "role"));
        }
        finally
        {
            replica.Signal("CONT");
        }
        Tools.WaitUntil(() => Repl.Field(replica, "role") == "master" && Repl.Field(master, "master_link_status") == "up", Repl.Timeout, "roles swapped");
        Tools.WaitUntil(() => Repl.Field(master, "master_failover_state") == "no-failover", Repl.Timeout, "failover done");
        Repl.WaitInSync(replica, master);
    }
}
