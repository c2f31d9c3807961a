using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>Restarts: a replica resumes from the id/offset saved in its RDB; a master keeps its old id as replid2.</summary>
public class ReplicationRestartTests
{
    /// <summary>A server in <paramref name="dir"/> (kept across restarts), or in its own temporary directory when null.</summary>
    private static ServerProcess Start(bool redis, string? dir, params string[] args)
    {
        string[] all = dir is null ? [.. Repl.Fast, .. args] : [.. Repl.Fast, "--dir", dir, .. args];
        return redis ? ServerProcess.StartRedis(all) : ServerProcess.StartBasalt(all);
    }

    private static void Shutdown(ServerProcess s)
    {
        using (var c = s.Connect())
        {
            c.Send("SHUTDOWN", "SAVE");
            c.WaitClosed();
        }
        s.WaitForExit(TimeSpan.FromSeconds(20));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Restarted_replica_resumes_with_a_partial_resync(bool redisMaster, bool redisReplica)
    {
        var dir = Directory.CreateTempSubdirectory("repl-restart-").FullName;
        try
        {
            using var master = Start(redisMaster, null);
            string[] replicaArgs = ["--replicaof", "127.0.0.1", master.Port.ToString()];
            using (var replica = Start(redisReplica, dir, replicaArgs))
            {
                Repl.WaitLinkUp(replica);
                Repl.Populate(master, "rs");
                Repl.WaitInSync(master, replica);
                Shutdown(replica);
            }
            Assert.True(File.Exists(Path.Combine(dir, "dump.rdb")));
            using var m = master.Connect();
            m.Call("SET", "rs:while-down", "1");
            m.Call("SELECT", "3");
            m.Call("RPUSH", "rs:l3", "a", "b");
            m.Call("SET", "rs:short", "v", "PX", "1000000");

            using var again = Start(redisReplica, dir, replicaArgs);
            Repl.WaitLinkUp(again);
            Repl.WaitInSync(master, again);
            Assert.Equal("1", Repl.Field(master, "sync_full", "stats"));
            Assert.Equal("1", Repl.Field(master, "sync_partial_ok", "stats"));
            Assert.Equal("0", Repl.Field(master, "sync_partial_err", "stats"));
            Assert.Equal(Repl.Field(master, "master_replid"), Repl.Field(again, "master_replid"));
            // The stream continues in the right database after the resume.
            m.Call("SET", "rs:after", "2");
            Repl.WaitInSync(master, again);
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch { }
        }
    }

    /// <summary>A restarted master takes a new id, keeps the saved one as replid2 and an empty backlog at the saved offset.</summary>
    [Fact]
    public void Restarted_master_keeps_its_history_as_replid2_like_redis()
    {
        var basalt = MasterRestart(false);
        var redis = MasterRestart(true);
        Assert.Equal(redis, basalt);
    }

    private static string MasterRestart(bool redis)
    {
        var mdir = Directory.CreateTempSubdirectory("repl-mr-").FullName;
        var rdir = Directory.CreateTempSubdirectory("repl-rr-").FullName;
        try
        {
            string oldId, offset;
            int port = ServerProcess.FreePort();
            using (var master = Start(redis, mdir))
            {
                using (var replica = Start(true, rdir, "--replicaof", "127.0.0.1", master.Port.ToString()))
                {
                    Repl.WaitLinkUp(replica);
                    Repl.Populate(master, "mr");
                    Repl.WaitInSync(master, replica);
                    oldId = Repl.Field(master, "master_replid");
                    offset = Repl.Field(master, "master_repl_offset");
                    Shutdown(replica);
                }
                Shutdown(master);
            }
            using var restarted = Start(redis, mdir);
            var info = Repl.Info(restarted);
            var shape = new List<string>
            {
                "replid2 is old " + (info["master_replid2"] == oldId),
                "replid is new " + (info["master_replid"] != oldId),
                "offset kept " + (info["master_repl_offset"] == offset),
                "second " + (long.Parse(info["second_repl_offset"]) - long.Parse(offset)),
                "backlog " + info["repl_backlog_active"] + " first " + (long.Parse(info["repl_backlog_first_byte_offset"]) - long.Parse(offset)) + " histlen " + info["repl_backlog_histlen"],
            };
            // The old replica, restarted, continues the old history with the restarted master.
            using var replica2 = Start(true, rdir, "--replicaof", "127.0.0.1", restarted.Port.ToString());
            Repl.WaitLinkUp(replica2);
            Repl.WaitInSync(restarted, replica2);
            shape.Add("full " + Repl.Field(restarted, "sync_full", "stats") + " partial " + Repl.Field(restarted, "sync_partial_ok", "stats"));
            return string.Join("\n", shape);
        }
        finally
        {
            try { Directory.Delete(mdir, true); } catch { }
            try { Directory.Delete(rdir, true); } catch { }
        }
    }
}
