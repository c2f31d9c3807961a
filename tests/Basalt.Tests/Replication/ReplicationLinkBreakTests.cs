using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>Link breaks with real processes: SIGSTOP/SIGCONT, an overrun backlog, kill -9 and restart.</summary>
public class ReplicationLinkBreakTests
{
    // The master pings every second so a live link never looks idle; timeouts are short.
    private static ServerProcess Start(bool redis, params string[] args)
    {
        string[] all = [.. Repl.Fast, "--repl-ping-replica-period", "1", .. args];
        return redis ? ServerProcess.StartRedis(all) : ServerProcess.StartBasalt(all);
    }

    private static string Stat(ServerProcess s, string name) => Repl.Field(s, name, "stats");

    private static void WaitInSyncPinging(ServerProcess master, ServerProcess replica)
    {
        // Pings move the offset every second: compare once both agree.
        Tools.WaitUntil(() => Repl.Field(replica, "slave_repl_offset") == Repl.Field(master, "master_repl_offset")
            && Repl.Digest(master) == Repl.Digest(replica), Repl.Timeout, "replica in sync");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Replica_paused_shorter_than_the_timeout_keeps_its_link(bool redisMaster, bool redisReplica)
    {
        using var master = Start(redisMaster, "--repl-timeout", "10");
        using var replica = Start(redisReplica, "--repl-timeout", "10", "--replicaof", "127.0.0.1", master.Port.ToString());
        Repl.WaitLinkUp(replica);
        Repl.Populate(master, "sp");
        WaitInSyncPinging(master, replica);
        using var m = master.Connect();
        replica.Signal("STOP");
        try
        {
            for (int i = 0; i < 20; i++) m.Call("SET", "sp:during" + i, i.ToString());
            Thread.Sleep(1000); // the pause itself is the point: nothing to poll while the replica is stopped
        }
        finally { replica.Signal("CONT"); }
        WaitInSyncPinging(master, replica);
        Assert.Equal("1", Stat(master, "sync_full"));
        Assert.Equal("0", Stat(master, "sync_partial_ok"));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Replica_paused_longer_than_the_timeout_is_dropped_and_resyncs_partially(bool redisMaster, bool redisReplica)
    {
        using var master = Start(redisMaster, "--repl-timeout", "2");
        using var replica = Start(redisReplica, "--repl-timeout", "2", "--replicaof", "127.0.0.1", master.Port.ToString());
        Repl.WaitLinkUp(replica);
        Repl.Populate(master, "lp");
        WaitInSyncPinging(master, replica);
        using var m = master.Connect();
        replica.Signal("STOP");
        try
        {
            m.Call("SET", "lp:during", "1");
            Tools.WaitUntil(() => Repl.Field(master, "connected_slaves") == "0", Repl.Timeout, "master drops the silent replica");
            m.Call("INCR", "lp:after-drop");
        }
        finally { replica.Signal("CONT"); }
        Tools.WaitUntil(() => Stat(master, "sync_partial_ok") == "1", Repl.Timeout, "partial resync");
        WaitInSyncPinging(master, replica);
        Assert.Equal("1", Stat(master, "sync_full"));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Overrun_backlog_forces_a_full_resync(bool redisMaster, bool redisReplica)
    {
        using var master = Start(redisMaster, "--repl-backlog-size", "16384", "--repl-timeout", "30");
        using var replica = Start(redisReplica, "--repl-timeout", "30", "--replicaof", "127.0.0.1", master.Port.ToString());
        Repl.WaitLinkUp(replica);
        Repl.Populate(master, "ov");
        WaitInSyncPinging(master, replica);
        using var m = master.Connect();
        replica.Signal("STOP");
        try
        {
            Assert.Equal(1, m.Call("CLIENT", "KILL", "TYPE", "replica").Integer);
            string big = new('x', 1000);
            for (int i = 0; i < 40; i++) m.Call("SET", "ov:big" + i, big); // 40 KB > the 16 KB backlog
        }
        finally { replica.Signal("CONT"); }
        Tools.WaitUntil(() => Stat(master, "sync_full") == "2", Repl.Timeout, "full resync");
        WaitInSyncPinging(master, replica);
        Assert.Equal("0", Stat(master, "sync_partial_ok"));
        Assert.Equal("1", Stat(master, "sync_partial_err"));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void Killed_replica_restarts_from_its_last_save_with_a_partial_resync(bool redisMaster, bool redisReplica)
    {
        var dir = Directory.CreateTempSubdirectory("repl-kill-").FullName;
        try
        {
            using var master = Start(redisMaster);
            string[] args = ["--dir", dir, "--replicaof", "127.0.0.1", master.Port.ToString()];
            using (var replica = Start(redisReplica, args))
            {
                Repl.WaitLinkUp(replica);
                Repl.Populate(master, "k9");
                WaitInSyncPinging(master, replica);
                using (var r = replica.Connect()) Assert.Equal("OK", r.Call("SAVE").Text);
                using (var m = master.Connect()) m.Call("SET", "k9:after-save", "1");
                WaitInSyncPinging(master, replica);
                replica.Signal("KILL");
                replica.WaitForExit(TimeSpan.FromSeconds(10));
            }
            using (var m = master.Connect()) m.Call("LPUSH", "k9:while-dead", "a");
            using var again = Start(redisReplica, args);
            Repl.WaitLinkUp(again);
            WaitInSyncPinging(master, again);
            Assert.Equal("1", Stat(master, "sync_full"));
            Assert.Equal("1", Stat(master, "sync_partial_ok"));
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch { }
        }
    }

    [Fact]
    public void Killed_replica_without_a_save_resyncs_fully()
    {
        using var master = Start(false);
        using (var replica = Start(false, "--replicaof", "127.0.0.1", master.Port.ToString()))
        {
            Repl.WaitLinkUp(replica);
            Repl.Populate(master, "kf");
            WaitInSyncPinging(master, replica);
            replica.Signal("KILL");
            replica.WaitForExit(TimeSpan.FromSeconds(10));
        }
        using (var m = master.Connect()) m.Call("SET", "kf:while-dead", "1");
        using var again = Start(false, "--replicaof", "127.0.0.1", master.Port.ToString());
        Repl.WaitLinkUp(again);
        WaitInSyncPinging(master, again);
        Assert.Equal("2", Stat(master, "sync_full"));
        Assert.Equal("0", Stat(master, "sync_partial_ok"));
    }
}
