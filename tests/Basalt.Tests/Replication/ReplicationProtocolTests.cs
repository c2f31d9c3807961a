using System.Text.RegularExpressions;
using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>The master side of the protocol seen byte by byte from a raw socket, on Basalt and Redis alike.</summary>
public class ReplicationProtocolTests
{
    public static TheoryData<bool> Servers => new() { false, true };

    private static ServerProcess Start(bool redis, params string[] extra) =>
        redis ? ServerProcess.StartRedis([.. Repl.Fast, .. extra]) : ServerProcess.StartBasalt([.. Repl.Fast, .. extra]);

    [Theory]
    [MemberData(nameof(Servers))]
    public void Handshake_full_resync_stream_bytes_and_partial_continue(bool redis)
    {
        using var master = Start(redis);
        using var c = master.Connect();
        c.Call("SET", "p:k", "v");

        string replid;
        long offset;
        using (var rr = new RawReplica(master.Port))
        {
            Assert.Equal("+PONG", rr.Call("PING"));
            Assert.Equal("+OK", rr.Call("REPLCONF", "listening-port", "4455"));
            Assert.Equal("+OK", rr.Call("REPLCONF", "capa", "eof", "capa", "psync2"));
            var full = rr.Call("PSYNC", "?", "-1");
            var m = Regex.Match(full, "^\\+FULLRESYNC ([0-9a-f]{40}) (\\d+)$");
            Assert.True(m.Success, full);
            replid = m.Groups[1].Value;
            offset = long.Parse(m.Groups[2].Value);
            var rdb = rr.ReadRdb();
            Assert.Equal("REDIS0010", System.Text.Encoding.ASCII.GetString(rdb, 0, 9));
            Assert.Equal(0xFF, rdb[^9]); // EOF opcode before the checksum
            // The stream starts after our first ACK; the first write after the snapshot selects its db.
            rr.Send("REPLCONF", "ACK", offset.ToString());
            Tools.WaitUntil(() => Repl.Field(master, "slave0").Contains("state=online"), Repl.Timeout, "replica online");
            // Redis ignores an ACK that arrives before it has seen the transfer end; real replicas ACK every second.
            rr.Send("REPLCONF", "ACK", offset.ToString());
            Assert.Contains("port=4455", Repl.Field(master, "slave0"));
            c.Call("SELECT", "3");
            c.Call("MULTI"); c.Call("SET", "p:a", "1"); c.Call("INCR", "p:n"); c.Call("EXEC");
            const string expected = "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$3\r\np:a\r\n$1\r\n1\r\n"
                + "*2\r\n$4\r\nINCR\r\n$3\r\np:n\r\n*1\r\n$4\r\nEXEC\r\n";
            Assert.Equal(expected, rr.Stream(expected.Length));
            Assert.Equal((offset + expected.Length).ToString(), Repl.Field(master, "master_repl_offset"));
            offset += expected.Length;
            Assert.Equal("1", Repl.Field(master, "connected_slaves"));
        }
        Tools.WaitUntil(() => Repl.Field(master, "connected_slaves") == "0", Repl.Timeout, "replica gone");
        c.Call("SET", "p:later", "2");
        const string later = "*3\r\n$3\r\nSET\r\n$7\r\np:later\r\n$1\r\n2\r\n";

        // Continuing from our offset: +CONTINUE with the id, then exactly the missed bytes.
        using (var rr = new RawReplica(master.Port))
        {
            Assert.Equal("+OK", rr.Call("REPLCONF", "capa", "eof", "capa", "psync2"));
            Assert.Equal("+CONTINUE " + replid, rr.Call("PSYNC", replid, (offset + 1).ToString()));
            Assert.Equal(later, rr.Stream(later.Length));
        }
        // Without capa psync2 the reply carries no id; an offset past the end is refused (full resync).
        using (var rr = new RawReplica(master.Port))
        {
            Assert.Equal("+CONTINUE", rr.Call("PSYNC", replid, (offset + 1 + later.Length).ToString()));
        }
        using (var rr = new RawReplica(master.Port))
        {
            Assert.StartsWith("+FULLRESYNC " + replid + " ", rr.Call("PSYNC", replid, (offset + 1000).ToString()));
        }
        var stats = Repl.Info(master, "stats");
        Assert.Equal("2", stats["sync_full"]);
        Assert.Equal("2", stats["sync_partial_ok"]);
        Assert.Equal("1", stats["sync_partial_err"]);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public void Master_pings_its_replicas_through_the_stream_every_ping_period(bool redis)
    {
        using var master = Start(redis, "--repl-ping-replica-period", "1");
        using var rr = new RawReplica(master.Port);
        Assert.Equal("+OK", rr.Call("REPLCONF", "capa", "eof", "capa", "psync2"));
        var full = rr.Call("PSYNC", "?", "-1");
        long offset = long.Parse(full.Split(' ')[2]);
        rr.ReadRdb();
        rr.Send("REPLCONF", "ACK", offset.ToString());
        Tools.WaitUntil(() => Repl.Field(master, "slave0").Contains("state=online"), Repl.Timeout, "replica online");
        rr.Send("REPLCONF", "ACK", offset.ToString());
        const string ping = "*1\r\n$4\r\nping\r\n";
        Assert.Equal(ping + ping, rr.Stream(2 * ping.Length));
        Tools.WaitUntil(() => long.Parse(Repl.Field(master, "master_repl_offset")) >= offset + 2 * ping.Length, Repl.Timeout, "offset counts the pings");
        Assert.Equal(0, (long.Parse(Repl.Field(master, "master_repl_offset")) - offset) % ping.Length);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public void Replica_handshake_offsets_and_getack_against_a_scripted_master(bool redis)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        using var replica = Start(redis, "--replicaof", "127.0.0.1", port.ToString());
        using var m = new RawReplica(listener.AcceptSocket());
        listener.Stop();
        Assert.Equal(["PING"], m.Command());
        m.SendRaw("+PONG\r\n"u8.ToArray());
        Assert.Equal(["REPLCONF", "listening-port", replica.Port.ToString()], m.Command());
        m.SendRaw("+OK\r\n"u8.ToArray());
        Assert.Equal(["REPLCONF", "capa", "eof", "capa", "psync2"], m.Command());
        m.SendRaw("+OK\r\n"u8.ToArray());
        Assert.Equal(["PSYNC", "?", "-1"], m.Command()); // started as a replica without data: nothing to continue
        const string id = "0123456789abcdef0123456789abcdef01234567";
        const string mark = "abcdefghijabcdefghijabcdefghijabcdefghij";
        m.SendRaw(System.Text.Encoding.ASCII.GetBytes($"+FULLRESYNC {id} 100\r\n\n\n$EOF:{mark}\r\n"));
        m.SendRaw([.. "REDIS0010"u8, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, .. System.Text.Encoding.ASCII.GetBytes(mark)]);
        Assert.Equal(["REPLCONF", "ACK", "100"], m.Command()); // loaded: the stream may start
        var set = "*3\r\n$3\r\nSET\r\n$4\r\nsm:k\r\n$1\r\nv\r\n"u8.ToArray();
        var getack = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"u8.ToArray();
        m.SendRaw([.. set, .. getack]);
        // The GETACK reply counts what was applied before it; periodic ACKs may come first.
        string ack;
        do ack = m.Command()[2]; while (ack == "100");
        Assert.Equal((100 + set.Length).ToString(), ack);
        Tools.WaitUntil(() => Repl.Field(replica, "master_repl_offset") == (100 + set.Length + getack.Length).ToString(), Repl.Timeout, "offset after GETACK");
        var info = Repl.Info(replica);
        Assert.Equal(id, info["master_replid"]);
        Assert.Equal("up", info["master_link_status"]);
        using var c = replica.Connect();
        Assert.Equal("v", c.Call("GET", "sm:k").Text);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public void Master_drops_a_replica_that_stops_acking_after_repl_timeout(bool redis)
    {
        using var master = Start(redis, "--repl-timeout", "1");
        using var rr = new RawReplica(master.Port);
        Assert.Equal("+OK", rr.Call("REPLCONF", "capa", "eof", "capa", "psync2"));
        long offset = long.Parse(rr.Call("PSYNC", "?", "-1").Split(' ')[2]);
        rr.ReadRdb();
        rr.Send("REPLCONF", "ACK", offset.ToString());
        Tools.WaitUntil(() => Repl.Field(master, "slave0").Contains("state=online"), Repl.Timeout, "replica online");
        // No more ACKs: the master gives up on it.
        Tools.WaitUntil(() => Repl.Field(master, "connected_slaves") == "0", Repl.Timeout, "timed-out replica dropped");
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public void Replica_times_out_a_silent_master_and_reconnects_asking_to_continue(bool redis)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        using var replica = Start(redis, "--replicaof", "127.0.0.1", port.ToString(), "--repl-timeout", "1");
        const string id = "89abcdef0123456789abcdef0123456789abcdef";
        const string mark = "0123456789012345678901234567890123456789";
        using (var m = new RawReplica(listener.AcceptSocket()))
        {
            m.Command(); m.SendRaw("+PONG\r\n"u8.ToArray());
            m.Command(); m.SendRaw("+OK\r\n"u8.ToArray());
            m.Command(); m.SendRaw("+OK\r\n"u8.ToArray());
            Assert.Equal("PSYNC", m.Command()[0]);
            m.SendRaw(System.Text.Encoding.ASCII.GetBytes($"+FULLRESYNC {id} 7\r\n$EOF:{mark}\r\n"));
            m.SendRaw([.. "REDIS0010"u8, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, .. System.Text.Encoding.ASCII.GetBytes(mark)]);
            Assert.Equal(["REPLCONF", "ACK", "7"], m.Command()); // nothing may follow the mark before this ACK
            m.SendRaw("*1\r\n$4\r\nping\r\n"u8.ToArray());
            Tools.WaitUntil(() => Repl.Field(replica, "master_repl_offset") == "21", Repl.Timeout, "ping applied");
            // Silence: no PINGs. After repl-timeout the replica drops the link and connects again.
            using var again = new RawReplica(listener.AcceptSocket());
            listener.Stop();
            Assert.Equal(["PING"], again.Command());
            again.SendRaw("+PONG\r\n"u8.ToArray());
            again.Command(); again.SendRaw("+OK\r\n"u8.ToArray());
            again.Command(); again.SendRaw("+OK\r\n"u8.ToArray());
            Assert.Equal(["PSYNC", id, "22"], again.Command());
            again.SendRaw(System.Text.Encoding.ASCII.GetBytes($"+CONTINUE {id}\r\n"));
            Tools.WaitUntil(() => Repl.Field(replica, "master_link_status") == "up", Repl.Timeout, "link up again");
        }
    }

    [Fact]
    public void Replicas_arriving_within_the_diskless_delay_share_one_snapshot()
    {
        using var master = ServerProcess.StartBasalt([.. Repl.Fast, "--repl-diskless-sync-delay", "1"]);
        using (var c = master.Connect()) c.Call("SET", "sh:k", "v");
        using var r1 = new RawReplica(master.Port);
        using var r2 = new RawReplica(master.Port);
        foreach (var r in new[] { r1, r2 }) Assert.Equal("+OK", r.Call("REPLCONF", "capa", "eof", "capa", "psync2"));
        r1.Send("PSYNC", "?", "-1");
        r2.Send("PSYNC", "?", "-1");
        string f1, f2;
        do f1 = r1.Line(); while (f1.Length == 0); // newlines keep the link alive during the delay
        do f2 = r2.Line(); while (f2.Length == 0);
        Assert.StartsWith("+FULLRESYNC ", f1);
        Assert.Equal(f1, f2);
        Assert.Equal(r1.ReadRdb().Length, r2.ReadRdb().Length);
        int Snapshots() => System.Text.RegularExpressions.Regex.Matches(master.Output, "Starting BGSAVE for SYNC").Count;
        Tools.WaitUntil(() => Snapshots() >= 1, Repl.Timeout, "the log line");
        Assert.Equal(1, Snapshots());
        Assert.Equal("2", Repl.Field(master, "sync_full", "stats"));
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public void Old_sync_gets_a_counted_rdb_payload_then_the_stream(bool redis)
    {
        using var master = Start(redis);
        using var c = master.Connect();
        c.Call("SET", "os:k", "v");
        using var rr = new RawReplica(master.Port);
        rr.Send("SYNC");
        string h;
        do h = rr.Line(); while (h.Length == 0);
        Assert.Matches("^\\$\\d+$", h); // no +FULLRESYNC line, no EOF mark
        var rdb = rr.Bytes(int.Parse(h[1..]));
        Assert.Equal("REDIS", System.Text.Encoding.ASCII.GetString(rdb, 0, 5));
        Tools.WaitUntil(() => Repl.Field(master, "slave0").Contains("state=online"), Repl.Timeout, "replica online");
        c.Call("SET", "os:k2", "v2");
        const string expected = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$5\r\nos:k2\r\n$2\r\nv2\r\n";
        Assert.Equal(expected, rr.Stream(expected.Length));
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public void Replconf_and_psync_errors_match(bool redis)
    {
        using var master = Start(redis);
        using var c = master.Connect();
        Assert.Equal("ERR Unrecognized REPLCONF option: foo", c.Call("REPLCONF", "foo", "bar").Text);
        Assert.Equal("ERR syntax error", c.Call("REPLCONF", "foo").Text);
        Assert.Equal("OK", c.Call("REPLCONF").Text);
        Assert.Equal("ERR value is not an integer or out of range", c.Call("REPLCONF", "listening-port", "x").Text);
        Assert.Equal("ERR wrong number of arguments for 'psync' command", c.Call("PSYNC", "x").Text);
        Assert.Equal("ERR Invalid master port", c.Call("REPLICAOF", "127.0.0.1", "70000").Text);
        Assert.Equal("ERR Invalid master port", c.Call("SLAVEOF", "127.0.0.1", "abc").Text);
        Assert.Equal("OK", c.Call("REPLICAOF", "NO", "ONE").Text);
        Assert.Equal("ERR timeout is negative", c.Call("WAIT", "0", "-1").Text);
        Assert.Equal("ERR value is not an integer or out of range", c.Call("WAIT", "x", "0").Text);
        Assert.Equal(0, c.Call("WAIT", "0", "0").Integer);
        var role = c.Call("ROLE");
        Assert.Equal("master", role.Items![0].Text);
        Assert.Empty(role.Items[2].Items!);
        var info = Repl.Info(master);
        Assert.Equal("master", info["role"]);
        Assert.Equal("0", info["connected_slaves"]);
        Assert.Equal("0000000000000000000000000000000000000000", info["master_replid2"]);
        Assert.Equal("-1", info["second_repl_offset"]);
        Assert.Equal("1048576", info["repl_backlog_size"]);
    }
}
