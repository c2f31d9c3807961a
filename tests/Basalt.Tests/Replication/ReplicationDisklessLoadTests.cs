using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>
/// repl-diskless-load on the replica side: where the payload goes (temp file or parser), what clients see while it
/// loads (old data, -LOADING, async loading) and what stays when loading fails. A fake master paces the payload.
/// </summary>
public class ReplicationDisklessLoadTests
{
    private const string Loading = "LOADING Redis is loading the dataset in memory";
    private static readonly string IdA = new('a', 40), IdB = new('b', 40);

    private static ServerProcess StartReplica(string mode, FakeMaster fake, params string[] oldKeys)
    {
        var replica = ServerProcess.StartBasalt("--repl-diskless-load", mode);
        using var c = replica.Connect();
        foreach (var k in oldKeys) c.Call("SET", k, "old");
        c.Call("REPLICAOF", "127.0.0.1", fake.Port.ToString());
        return replica;
    }

    private static string[] TempFiles(ServerProcess s) => Directory.GetFiles(s.Dir, "temp-*.rdb");

    private static void WaitField(ServerProcess s, string section, string name, string value) =>
        Tools.WaitUntil(() => Repl.Field(s, name, section) == value, Repl.Timeout, $"{name}:{value}");

    [Fact]
    public void Disabled_keeps_serving_the_old_data_during_the_transfer_then_loads_the_temp_file()
    {
        var payload = FakeMaster.RedisRdb("dl", 300);
        using var fake = new FakeMaster();
        using var replica = StartReplica("disabled", fake, "dl:old");
        fake.AcceptFullResync(IdA, 100);
        int half = payload.Length / 2;
        fake.Send($"${payload.Length}\r\n");
        fake.Send(payload.AsSpan(0, half));
        WaitField(replica, "replication", "master_sync_read_bytes", half.ToString());

        using var c = replica.Connect();
        Assert.Equal("old", c.Call("GET", "dl:old").Text);
        Assert.Equal("0", Repl.Field(replica, "loading", "persistence"));
        Assert.Single(TempFiles(replica));

        fake.Send(payload.AsSpan(half));
        Repl.WaitLinkUp(replica);
        Assert.True(c.Call("GET", "dl:old").IsNull);
        Assert.Equal("dl-value-7", c.Call("GET", "dl:7").Text);
        Assert.Equal(300, c.Call("DBSIZE").Integer);
        Assert.Equal("100", Repl.Field(replica, "master_repl_offset"));
        Assert.Equal(IdA, Repl.Field(replica, "master_replid"));
        Assert.Empty(TempFiles(replica));
    }

    [Fact]
    public void On_empty_db_parses_from_the_socket_and_answers_LOADING_meanwhile()
    {
        var payload = FakeMaster.RedisRdb("oe", 300);
        using var fake = new FakeMaster();
        using var replica = StartReplica("on-empty-db", fake);
        fake.AcceptFullResync(IdA, 0);
        int half = payload.Length / 2;
        fake.Send($"${payload.Length}\r\n");
        fake.Send(payload.AsSpan(0, half));
        Tools.WaitUntil(() => Repl.Field(replica, "loading_loaded_bytes", "persistence") is { Length: > 0 } v && long.Parse(v) > 0,
            Repl.Timeout, "loading progress");

        var info = Repl.Info(replica, "persistence");
        Assert.Equal("1", info["loading"]);
        Assert.Equal("0", info["async_loading"]);
        Assert.Equal(payload.Length.ToString(), info["loading_total_bytes"]);
        Assert.InRange(long.Parse(info["loading_loaded_bytes"]), 1, half);
        Assert.InRange(long.Parse(info["loading_start_time"]), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Contains("loading_eta_seconds", info.Keys);
        Assert.Empty(TempFiles(replica));

        using var c = replica.Connect();
        var get = c.Call("GET", "oe:1");
        Assert.True(get.IsError);
        Assert.Equal(Loading, get.Text);
        Assert.Equal(Loading, c.Call("PING").Text); // PING is not flagged "loading" in Redis 7.0 either
        Assert.Equal(Loading, c.Call("DBSIZE").Text);
        Assert.Equal("hi", c.Call("ECHO", "hi").Text);
        var role = c.Call("ROLE").Items!;
        Assert.Equal("sync", role[3].Text);
        // Inside MULTI the refusal flags the transaction, as any rejected command does.
        Assert.Equal("OK", c.Call("MULTI").Text);
        Assert.Equal(Loading, c.Call("GET", "oe:1").Text);
        Assert.StartsWith("EXECABORT", c.Call("EXEC").Text);

        fake.Send(payload.AsSpan(half));
        Repl.WaitLinkUp(replica);
        Assert.Equal("oe-value-299", c.Call("GET", "oe:299").Text);
        Assert.Equal(300, c.Call("DBSIZE").Integer);
        info = Repl.Info(replica, "persistence");
        Assert.Equal("0", info["loading"]);
        Assert.DoesNotContain("loading_total_bytes", info.Keys);
    }

    [Fact]
    public void On_empty_db_with_data_behaves_as_disabled()
    {
        var payload = FakeMaster.RedisRdb("od", 100);
        using var fake = new FakeMaster();
        using var replica = StartReplica("on-empty-db", fake, "od:old");
        fake.AcceptFullResync(IdA, 0);
        int half = payload.Length / 2;
        fake.Send($"${payload.Length}\r\n");
        fake.Send(payload.AsSpan(0, half));
        WaitField(replica, "replication", "master_sync_read_bytes", half.ToString());
        using var c = replica.Connect();
        Assert.Equal("old", c.Call("GET", "od:old").Text);
        Assert.Single(TempFiles(replica));
        fake.Send(payload.AsSpan(half));
        Repl.WaitLinkUp(replica);
        Assert.True(c.Call("GET", "od:old").IsNull);
        Assert.Equal(100, c.Call("DBSIZE").Integer);
    }

    [Fact]
    public void Swapdb_resync_of_the_same_history_serves_the_old_data_until_the_new_dataset_is_complete()
    {
        var first = FakeMaster.RedisRdb("sa", 200);
        var second = FakeMaster.RedisRdb("sb", 200);
        using var fake = new FakeMaster();
        using var replica = StartReplica("swapdb", fake);
        fake.AcceptFullResync(IdA, 0);
        // The first sync EOF-marked, as a diskless master sends it.
        string mark = new('m', 40);
        fake.Send($"$EOF:{mark}\r\n");
        fake.Send(first);
        fake.Send(mark);
        Repl.WaitLinkUp(replica);
        using var c = replica.Connect();
        Assert.Equal("sa-value-5", c.Call("GET", "sa:5").Text);

        // The master comes back with the same history but cannot continue it: a full resync of the same replid.
        fake.Drop();
        var psync = fake.AcceptFullResync(IdA, 500);
        Assert.Equal(IdA, psync[1]);
        int half = second.Length / 2;
        fake.Send($"${second.Length}\r\n");
        fake.Send(second.AsSpan(0, half));
        WaitField(replica, "persistence", "async_loading", "1");
        Assert.Equal("0", Repl.Field(replica, "loading", "persistence"));
        Assert.Equal("sa-value-5", c.Call("GET", "sa:5").Text);
        Assert.True(c.Call("GET", "sb:5").IsNull); // nothing of the new dataset is visible yet
        Assert.Equal(200, c.Call("DBSIZE").Integer);
        Assert.Equal(Loading, c.Call("BGSAVE").Text); // flagged no-async-loading

        fake.Send(second.AsSpan(half));
        Repl.WaitLinkUp(replica);
        Assert.True(c.Call("GET", "sa:5").IsNull);
        Assert.Equal("sb-value-5", c.Call("GET", "sb:5").Text);
        Assert.Equal(200, c.Call("DBSIZE").Integer);
        Assert.Equal("0", Repl.Field(replica, "async_loading", "persistence"));
        Assert.Equal("500", Repl.Field(replica, "master_repl_offset"));
        Assert.Empty(TempFiles(replica));
    }

    [Fact]
    public void Swapdb_keeps_the_old_data_when_loading_fails()
    {
        var payload = FakeMaster.RedisRdb("sf", 200);
        using var fake = new FakeMaster();
        using var replica = StartReplica("swapdb", fake, "sf:old");
        // Another history than ours: loading blocks clients (-LOADING), but the old data is only set aside.
        fake.AcceptFullResync(IdB, 0);
        int half = payload.Length / 2;
        fake.Send($"${payload.Length}\r\n");
        fake.Send(payload.AsSpan(0, half));
        WaitField(replica, "persistence", "loading", "1");
        using var c = replica.Connect();
        Assert.Equal(Loading, c.Call("GET", "sf:old").Text);

        fake.Drop();
        WaitField(replica, "persistence", "loading", "0");
        Assert.Equal("old", c.Call("GET", "sf:old").Text);
        Assert.True(c.Call("GET", "sf:1").IsNull);
        Assert.Equal(1, c.Call("DBSIZE").Integer);
        Assert.NotEqual(IdB, Repl.Field(replica, "master_replid"));

        // The next attempt succeeds and replaces it.
        fake.AcceptFullResync(IdB, 0);
        fake.Send($"${payload.Length}\r\n");
        fake.Send(payload);
        Repl.WaitLinkUp(replica);
        Assert.True(c.Call("GET", "sf:old").IsNull);
        Assert.Equal(200, c.Call("DBSIZE").Integer);
    }

    [Fact]
    public void On_empty_db_load_failure_leaves_an_empty_dataset_and_a_broken_eof_mark_fails()
    {
        var payload = FakeMaster.RedisRdb("ef", 50);
        using var fake = new FakeMaster();
        using var replica = StartReplica("on-empty-db", fake);
        fake.AcceptFullResync(IdA, 0);
        fake.Send($"$EOF:{new string('m', 40)}\r\n");
        fake.Send(payload);
        fake.Send(new string('x', 40)); // not the announced mark: the parser finished but the mark is wrong
        Tools.WaitUntil(() => replica.Output.Contains("EOF marker is broken"), Repl.Timeout, "broken mark detected");
        WaitField(replica, "persistence", "loading", "0");
        using var c = replica.Connect();
        Assert.Equal(0, c.Call("DBSIZE").Integer);
        Assert.Equal("down", Repl.Field(replica, "master_link_status"));
    }

    [Theory]
    [InlineData("disabled", "yes")]
    [InlineData("disabled", "no")]
    [InlineData("on-empty-db", "yes")]
    [InlineData("on-empty-db", "no")]
    [InlineData("swapdb", "yes")]
    [InlineData("swapdb", "no")]
    public void Basalt_master_and_replica_sync_in_every_load_mode(string mode, string disklessSync)
    {
        using var master = ServerProcess.StartBasalt([.. Repl.Fast, "--repl-diskless-sync", disklessSync]);
        Repl.Populate(master, "lm");
        using (var f = master.Connect()) f.Call("FUNCTION", "LOAD", "#!lua name=lmlib\nredis.register_function('lmf', function() return 7 end)");
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--repl-diskless-load", mode]);
        using var c = replica.Connect();
        c.Call("SET", "lm:stale", "1");
        c.Call("REPLICAOF", "127.0.0.1", master.Port.ToString());
        Repl.WaitLinkUp(replica);
        Repl.WaitInSync(master, replica);
        Assert.True(c.Call("GET", "lm:stale").IsNull);
        Assert.Equal("lmlib", c.Call("FUNCTION", "LIST").Items![0].Items![1].Text); // libraries come with the snapshot
        using var m = master.Connect();
        m.Call("SET", "lm:after", "x");
        Repl.WaitInSync(master, replica);
        Assert.Equal("x", c.Call("GET", "lm:after").Text);
    }

    [Theory]
    [InlineData("on-empty-db")]
    [InlineData("swapdb")]
    public void Basalt_replica_loads_a_redis_masters_diskless_payload_from_the_socket(string mode)
    {
        using var master = ServerProcess.StartRedis([.. Repl.Fast, "--repl-diskless-sync", "yes"]);
        Repl.Populate(master, "rl");
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--repl-diskless-load", mode, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        Repl.WaitInSync(master, replica);
        // The log is captured asynchronously: poll for the line that says the socket fed the parser directly.
        Tools.WaitUntil(() => replica.Output.Contains("to parser"), Repl.Timeout, "direct-to-parser log line\n" + replica.Output);
        Assert.Empty(TempFiles(replica));
    }
}
