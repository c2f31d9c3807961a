using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>masterauth / masteruser against password-protected masters, and replica-announce-ip/port as masters show them.</summary>
public class ReplicationAuthAnnounceTests
{
    [Fact]
    public void Basalt_replica_authenticates_to_a_redis_master_with_requirepass()
    {
        using var master = ServerProcess.StartRedis([.. Repl.Fast, "--requirepass", "s3cret"]);
        using (var m = master.Connect()) { m.Call("AUTH", "s3cret"); m.Call("SET", "au:k", "v"); }
        using var wrong = ServerProcess.StartBasalt([.. Repl.Fast, "--masterauth", "nope", "--replicaof", "127.0.0.1", master.Port.ToString()]);
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--masterauth", "s3cret", "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        using var r = replica.Connect();
        Tools.WaitUntil(() => r.Call("GET", "au:k").Text == "v", Repl.Timeout, "key replicated");
        // A wrong password never gets a link up.
        Tools.WaitUntil(() => wrong.Output.Contains("Unable to AUTH to MASTER"), Repl.Timeout, "AUTH refused");
        Assert.Equal("down", Repl.Field(wrong, "master_link_status"));
        using var m2 = master.Connect();
        m2.Call("AUTH", "s3cret");
        Assert.Contains("connected_slaves:1\r\n", m2.Call("INFO", "replication").Text);
    }

    [Fact]
    public void Basalt_replica_authenticates_as_an_acl_user_of_a_redis_master()
    {
        using var master = ServerProcess.StartRedis([.. Repl.Fast, "--requirepass", "adminpw"]);
        using (var m = master.Connect())
        {
            m.Call("AUTH", "adminpw");
            Assert.Equal("OK", m.Call("ACL", "SETUSER", "repl", "on", ">replpw", "+psync", "+replconf", "+ping").Text);
            m.Call("SET", "acl:k", "v");
        }
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--masteruser", "repl", "--masterauth", "replpw", "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        using var r = replica.Connect();
        Tools.WaitUntil(() => r.Call("GET", "acl:k").Text == "v", Repl.Timeout, "key replicated");
        using var m2 = master.Connect();
        m2.Call("AUTH", "adminpw");
        Assert.Contains("user=repl", m2.Call("CLIENT", "LIST", "TYPE", "replica").Text);
    }

    [Fact]
    public void Redis_replica_authenticates_to_a_basalt_master_with_requirepass()
    {
        using var master = ServerProcess.StartBasalt([.. Repl.Fast, "--requirepass", "s3cret"]);
        using (var m = master.Connect()) { m.Call("AUTH", "s3cret"); m.Call("SET", "ra:k", "v"); }
        using var replica = ServerProcess.StartRedis([.. Repl.Fast, "--masterauth", "s3cret", "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        using var r = replica.Connect();
        Tools.WaitUntil(() => r.Call("GET", "ra:k").Text == "v", Repl.Timeout, "key replicated");
        using var m2 = master.Connect();
        m2.Call("AUTH", "s3cret");
        m2.Call("SET", "ra:k2", "w");
        Tools.WaitUntil(() => r.Call("GET", "ra:k2").Text == "w", Repl.Timeout, "stream replicated");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Master_shows_the_announced_replica_address(bool redisReplica)
    {
        using var master = ServerProcess.StartBasalt(Repl.Fast);
        string[] args = [.. Repl.Fast, "--replica-announce-ip", "10.20.30.40", "--replica-announce-port", "4242", "--replicaof", "127.0.0.1", master.Port.ToString()];
        using var replica = redisReplica ? ServerProcess.StartRedis(args) : ServerProcess.StartBasalt(args);
        Repl.WaitLinkUp(replica);
        Tools.WaitUntil(() => Repl.Field(master, "slave0").Contains("state=online"), Repl.Timeout, "replica online");
        Assert.StartsWith("ip=10.20.30.40,port=4242,state=online,", Repl.Field(master, "slave0"));
        using var m = master.Connect();
        var role = m.Call("ROLE").Items!;
        Assert.Equal("master", role[0].Text);
        var entry = Assert.Single(role[2].Items!).Items!;
        Assert.Equal("10.20.30.40", entry[0].Text);
        Assert.Equal("4242", entry[1].Text);
    }

    [Fact]
    public void Announced_port_alone_keeps_the_connection_ip()
    {
        using var master = ServerProcess.StartBasalt(Repl.Fast);
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--replica-announce-port", "5151", "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        Tools.WaitUntil(() => Repl.Field(master, "slave0").Contains("state=online"), Repl.Timeout, "replica online");
        Assert.StartsWith("ip=127.0.0.1,port=5151,", Repl.Field(master, "slave0"));
    }
}
