using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>Basalt and Redis 7.0 replicating from each other (real processes both ways).</summary>
public class ReplicationInteropTests
{
    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public void Basalt_replica_of_redis_master_full_sync_stream_and_partial_resync(string diskless)
    {
        using var master = ServerProcess.StartRedis([.. Repl.Fast, "--repl-diskless-sync", diskless]);
        Repl.Populate(master, "ri");
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        Repl.WaitInSync(master, replica);

        using var m = master.Connect();
        using var r = replica.Connect();
        Assert.InRange(r.Call("TTL", "ri:ttl").Integer, 990, 1000);
        r.Call("SELECT", "3");
        Assert.Equal("three", r.Call("GET", "ri:db3").Text);

        // The stream: transactions, other databases, expirations.
        m.Call("MULTI"); m.Call("INCR", "ri:n"); m.Call("LPUSH", "ri:l", "w"); m.Call("EXEC");
        m.Call("SELECT", "5");
        m.Call("SET", "ri:five", "5", "PX", "100000");
        Repl.WaitInSync(master, replica);

        var info = Repl.Info(replica);
        Assert.Equal("slave", info["role"]);
        Assert.Equal("127.0.0.1", info["master_host"]);
        Assert.Equal(master.Port.ToString(), info["master_port"]);
        Assert.Equal("0", info["master_sync_in_progress"]);
        Assert.Equal(Repl.Field(master, "master_replid"), info["master_replid"]);
        Assert.Equal("1", info["slave_read_only"]);
        Assert.Equal(info["slave_repl_offset"], info["slave_read_repl_offset"]);
        Assert.Contains("state=online", Repl.Field(master, "slave0"));
        Assert.Contains("flags=M", r.Call("CLIENT", "LIST", "TYPE", "master").Text);

        // Killing the link on the replica side: it reconnects and continues from its offset.
        Assert.Equal(1, r.Call("CLIENT", "KILL", "TYPE", "master").Integer);
        m.Call("SET", "ri:while-down", "1");
        Tools.WaitUntil(() => Repl.Field(master, "sync_partial_ok", "stats") == "1", Repl.Timeout, "partial resync");
        Repl.WaitInSync(master, replica);
        // Killing it on the master side: again a partial resync.
        Assert.Equal(1, m.Call("CLIENT", "KILL", "TYPE", "replica").Integer);
        m.Call("DEL", "ri:while-down");
        Tools.WaitUntil(() => Repl.Field(master, "sync_partial_ok", "stats") == "2", Repl.Timeout, "second partial resync");
        Repl.WaitInSync(master, replica);
        Assert.Equal("1", Repl.Field(master, "sync_full", "stats"));
        Assert.Equal("0", Repl.Field(master, "sync_partial_err", "stats"));
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public void Redis_replica_of_basalt_master_full_sync_stream_and_partial_resync(string diskless)
    {
        using var master = ServerProcess.StartBasalt([.. Repl.Fast, "--repl-diskless-sync", diskless]);
        Repl.Populate(master, "br");
        using var replica = ServerProcess.StartRedis([.. Repl.Fast, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        Repl.WaitInSync(master, replica);
        Assert.Equal("1", Repl.Field(master, "sync_full", "stats"));

        using var m = master.Connect();
        m.Call("MULTI"); m.Call("SET", "br:a", "1"); m.Call("SELECT", "7"); m.Call("SET", "br:b", "2"); m.Call("EXEC");
        m.Call("HINCRBY", "br:h", "f", "5");
        Repl.WaitInSync(master, replica);
        Assert.Contains("state=online", Repl.Field(master, "slave0"));

        Assert.Equal(1, m.Call("CLIENT", "KILL", "TYPE", "replica").Integer);
        m.Call("SET", "br:while-down", "x");
        Tools.WaitUntil(() => Repl.Field(master, "sync_partial_ok", "stats") == "1", Repl.Timeout, "partial resync");
        Repl.WaitInSync(master, replica);
        Assert.Equal("1", Repl.Field(master, "sync_full", "stats"));
    }

    [Fact]
    public void Replica_hides_expired_keys_but_leaves_deleting_them_to_the_master()
    {
        using var master = ServerProcess.StartRedis(Repl.Fast);
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        using var m = master.Connect();
        using var r = replica.Connect();
        Assert.Equal("OK", m.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0").Text);
        m.Call("SET", "ex:k", "v", "PX", "150");
        Repl.WaitInSync(master, replica);
        Thread.Sleep(300); // let the TTL pass (nothing to poll: the point is that nothing happens)
        Assert.True(r.Call("GET", "ex:k").IsNull);
        Assert.Equal(0, r.Call("EXISTS", "ex:k").Integer);
        Assert.Equal(1, r.Call("DBSIZE").Integer); // still there: only the master's DEL removes it
        Assert.True(m.Call("GET", "ex:k").IsNull); // the master expires it and propagates a DEL
        Tools.WaitUntil(() => r.Call("DBSIZE").Integer == 0, Repl.Timeout, "the master's DEL");
    }

    [Fact]
    public void Full_sync_replaces_the_replica_function_libraries_with_the_masters()
    {
        using var master = ServerProcess.StartRedis(Repl.Fast);
        using var replica = ServerProcess.StartBasalt(Repl.Fast);
        using var m = master.Connect();
        using var r = replica.Connect();
        m.Call("FUNCTION", "LOAD", "#!lua name=mlib\nredis.register_function('mf', function() return 1 end)");
        r.Call("FUNCTION", "LOAD", "#!lua name=rlib\nredis.register_function('rf', function() return 2 end)");
        Assert.Equal("OK", r.Call("REPLICAOF", "127.0.0.1", master.Port.ToString()).Text);
        Repl.WaitLinkUp(replica);
        var libs = r.Call("FUNCTION", "LIST").Items!;
        Assert.Single(libs);
        Assert.Equal("mlib", libs[0].Items![1].Text);
    }

    [Fact]
    public void Chained_basalt_replica_forwards_the_exact_stream_to_a_redis_sub_replica()
    {
        using var master = ServerProcess.StartRedis(Repl.Fast);
        using var middle = ServerProcess.StartBasalt([.. Repl.Fast, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(middle);
        Repl.Populate(master, "ch");
        using var leaf = ServerProcess.StartRedis([.. Repl.Fast, "--replicaof", "127.0.0.1", middle.Port.ToString()]);
        Repl.WaitLinkUp(leaf);
        using var m = master.Connect();
        m.Call("MULTI"); m.Call("INCR", "ch:n"); m.Call("RPUSH", "ch:l2", "a"); m.Call("EXEC");
        Repl.WaitInSync(master, middle, leaf);
        // Same history everywhere: one replication id and offset.
        Assert.Equal(Repl.Field(master, "master_replid"), Repl.Field(leaf, "master_replid"));
        Assert.Equal(Repl.Field(master, "master_repl_offset"), Repl.Field(leaf, "master_repl_offset"));
    }

    [Fact]
    public void Random_write_load_leaves_master_and_both_kinds_of_replica_with_equal_digests()
    {
        using var master = ServerProcess.StartBasalt(Repl.Fast);
        using var r1 = ServerProcess.StartBasalt([.. Repl.Fast, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        using var r2 = ServerProcess.StartRedis([.. Repl.Fast, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(r1);
        Repl.WaitLinkUp(r2);
        var rng = new Random(7);
        using var c = master.Connect();
        for (int i = 0; i < 600; i++)
        {
            string k = "rw:" + rng.Next(40);
            switch (rng.Next(13))
            {
                case 0: c.Call("SET", k, rng.Next().ToString()); break;
                case 1: c.Call("INCRBY", "rw:ctr" + rng.Next(3), rng.Next(100).ToString()); break;
                case 2: c.Call("RPUSH", "rw:list" + rng.Next(3), "e" + i); break;
                case 3: c.Call("HSET", "rw:hash" + rng.Next(3), "f" + rng.Next(10), i.ToString()); break;
                case 4: c.Call("ZADD", "rw:zset" + rng.Next(3), rng.Next(1000).ToString(), "m" + rng.Next(20)); break;
                case 5: c.Call("SADD", "rw:set" + rng.Next(3), "m" + rng.Next(30)); break;
                case 6: c.Call("DEL", k); break;
                case 7: c.Call("EXPIRE", k, "1000"); break;
                case 8: c.Call("SELECT", rng.Next(4).ToString()); break;
                case 9: c.Call("MULTI"); c.Call("APPEND", k, "x"); c.Call("LPOP", "rw:list0"); c.Call("EXEC"); break;
                // Random effects replicate as their rewritten forms (SREM, the generated id).
                case 10: c.Call("SPOP", "rw:set" + rng.Next(3)); break;
                case 11: c.Call("XADD", "rw:stream", "*", "i", i.ToString()); break;
                case 12: c.Call("SRANDMEMBER", "rw:set0"); c.Call("INCRBYFLOAT", "rw:f", "0.1"); break;
            }
        }
        Repl.WaitInSync(master, r1, r2);
    }
}
