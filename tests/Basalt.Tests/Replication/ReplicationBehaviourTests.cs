using System.Diagnostics;
using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>WAIT, min-replicas-to-write, read-only replicas, stale data, promotion with replid2.</summary>
public class ReplicationBehaviourTests
{
    [Fact]
    public void Wait_counts_acknowledging_replicas_and_times_out_without_blocking_the_server()
    {
        using var master = ServerProcess.StartBasalt(Repl.Fast);
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        using var c = master.Connect();
        using var other = master.Connect();
        c.Call("SET", "w:k", "v");
        Assert.Equal(1, c.Call("WAIT", "1", "5000").Integer);

        var sw = Stopwatch.StartNew();
        c.Send("WAIT", "2", "300");
        Assert.Equal("PONG", other.Call("PING").Text); // the server keeps serving others meanwhile
        Assert.Equal(1, c.Read().Integer);
        Assert.InRange(sw.ElapsedMilliseconds, 250, 5000);

        // Pipelined commands after WAIT are answered after it.
        c.Send("WAIT", "1", "5000");
        c.Send("GET", "w:k");
        Assert.Equal(1, c.Read().Integer);
        Assert.Equal("v", c.Read().Text);

        using var r = replica.Connect();
        Assert.StartsWith("ERR WAIT cannot be used with replica instances.", r.Call("WAIT", "0", "0").Text);
        var role = c.Call("ROLE");
        Assert.Equal("master", role.Items![0].Text);
        Assert.Single(role.Items[2].Items!);
        Assert.Equal(replica.Port.ToString(), role.Items[2].Items![0].Items![1].Text);
    }

    [Fact]
    public void Min_replicas_to_write_refuses_writes_without_enough_good_replicas()
    {
        using var master = ServerProcess.StartBasalt(Repl.Fast);
        using var c = master.Connect();
        Assert.Equal("OK", c.Call("CONFIG", "SET", "min-replicas-to-write", "1").Text);
        Assert.Equal("NOREPLICAS Not enough good replicas to write.", c.Call("SET", "mr:k", "v").Text);
        Assert.True(c.Call("GET", "mr:k").IsNull); // reads still work
        Assert.Equal("0", Repl.Field(master, "min_slaves_good_slaves"));
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        Tools.WaitUntil(() => Repl.Field(master, "min_slaves_good_slaves") == "1", Repl.Timeout, "a good replica");
        Assert.Equal("OK", c.Call("SET", "mr:k", "v").Text);
        Assert.Equal("OK", c.Call("CONFIG", "SET", "min-replicas-to-write", "2").Text);
        Assert.Equal("NOREPLICAS Not enough good replicas to write.", c.Call("SET", "mr:k", "v").Text);
    }

    [Fact]
    public void Replica_refuses_writes_and_with_stale_data_off_refuses_reads_while_the_link_is_down()
    {
        using var master = ServerProcess.StartBasalt(Repl.Fast);
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        using var r = replica.Connect();
        Assert.Equal("READONLY You can't write against a read only replica.", r.Call("SET", "ro:k", "v").Text);
        r.Call("MULTI");
        Assert.Equal("READONLY You can't write against a read only replica.", r.Call("INCR", "ro:k").Text);
        Assert.StartsWith("EXECABORT", r.Call("EXEC").Text);
        Assert.Equal("OK", r.Call("CONFIG", "SET", "replica-read-only", "no").Text);
        Assert.Equal("OK", r.Call("SET", "ro:local", "v").Text);

        // A master nobody listens on: the link stays down.
        int deadPort = ServerProcess.FreePort();
        Assert.Equal("OK", r.Call("REPLICAOF", "127.0.0.1", deadPort.ToString()).Text);
        Assert.Equal("OK Already connected to specified master", r.Call("REPLICAOF", "127.0.0.1", deadPort.ToString()).Text);
        Assert.Equal("OK", r.Call("CONFIG", "SET", "replica-serve-stale-data", "no").Text);
        Assert.Equal("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", r.Call("GET", "ro:local").Text);
        Assert.StartsWith("MASTERDOWN", r.Call("PING").Text); // as in Redis 7.0, PING is not a stale command
        Assert.StartsWith("# Replication", r.Call("INFO", "replication").Text); // stale-allowed commands still run
        var info = Repl.Info(replica);
        Assert.Equal("down", info["master_link_status"]);
        Assert.Equal("-1", info["master_last_io_seconds_ago"]);
        Assert.True(info.ContainsKey("master_link_down_since_seconds"));
        var role = r.Call("ROLE");
        Assert.Equal("slave", role.Items![0].Text);
        Assert.Equal(deadPort, role.Items[2].Integer);
        Assert.Contains(role.Items[3].Text, new[] { "connect", "connecting" });
        Assert.Equal("127.0.0.1 " + deadPort, r.Call("CONFIG", "GET", "replicaof").Items![1].Text);
        Assert.Equal("OK", r.Call("REPLICAOF", "NO", "ONE").Text);
        Assert.Equal("", r.Call("CONFIG", "GET", "replicaof").Items![1].Text);
        Assert.Equal("v", r.Call("GET", "ro:local").Text);
    }

    [Fact]
    public void Promoted_replica_keeps_the_old_history_as_replid2_so_others_continue_partially()
    {
        using var a = ServerProcess.StartBasalt(Repl.Fast);
        using var b = ServerProcess.StartBasalt([.. Repl.Fast, "--replicaof", "127.0.0.1", a.Port.ToString()]);
        using var c = ServerProcess.StartRedis([.. Repl.Fast, "--replicaof", "127.0.0.1", a.Port.ToString()]);
        Repl.WaitLinkUp(b);
        Repl.WaitLinkUp(c);
        Repl.Populate(a, "pr");
        Repl.WaitInSync(a, b, c);
        string oldId = Repl.Field(a, "master_replid");
        long oldOffset = long.Parse(Repl.Field(b, "master_repl_offset"));

        using var bc = b.Connect();
        Assert.Equal("OK", bc.Call("REPLICAOF", "NO", "ONE").Text);
        var info = Repl.Info(b);
        Assert.Equal("master", info["role"]);
        Assert.Equal(oldId, info["master_replid2"]);
        Assert.Equal((oldOffset + 1).ToString(), info["second_repl_offset"]);
        Assert.NotEqual(oldId, info["master_replid"]);
        Assert.Equal("OK", bc.Call("SET", "pr:after", "1").Text);

        // A Redis replica and the old master both move to B and continue without a full resync.
        using (var cc = c.Connect()) Assert.Equal("OK", cc.Call("REPLICAOF", "127.0.0.1", b.Port.ToString()).Text);
        using (var ac = a.Connect()) Assert.Equal("OK", ac.Call("REPLICAOF", "127.0.0.1", b.Port.ToString()).Text);
        Repl.WaitLinkUp(c);
        Repl.WaitLinkUp(a);
        Repl.WaitInSync(b, a, c);
        var stats = Repl.Info(b, "stats");
        Assert.Equal("0", stats["sync_full"]);
        Assert.Equal("2", stats["sync_partial_ok"]);
        Assert.Equal(Repl.Field(b, "master_replid"), Repl.Field(c, "master_replid"));
        Assert.Equal(oldId, Repl.Field(a, "master_replid2"));
        using var check = a.Connect();
        Assert.Equal("1", check.Call("GET", "pr:after").Text);
    }
}
