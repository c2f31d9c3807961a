using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>rdb-del-sync-files: the snapshot a replica received stays as its dump file unless it persists nothing and asks for removal.</summary>
public class ReplicationSyncFileTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Received_snapshot_is_kept_as_the_dump_file_unless_rdb_del_sync_files(bool delete)
    {
        using var master = ServerProcess.StartBasalt(Repl.Fast);
        using (var c = master.Connect()) c.Call("SET", "sync:file", "v");
        using var replica = ServerProcess.StartBasalt([.. Repl.Fast, "--rdb-del-sync-files", delete ? "yes" : "no",
            "--replicaof", "127.0.0.1", master.Port.ToString()]);
        Repl.WaitLinkUp(replica);
        using (var r = replica.Connect()) Assert.Equal("v", r.Call("GET", "sync:file").Text);
        var dump = Path.Combine(replica.Dir, "dump.rdb");
        Assert.Equal(!delete, File.Exists(dump));
        Assert.Empty(Directory.GetFiles(replica.Dir, "temp-*.rdb"));
    }
}
