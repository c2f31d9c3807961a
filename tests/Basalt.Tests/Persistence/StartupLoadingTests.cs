using System.Text;
using Basalt.Tests.Support;
using Xunit;

namespace Basalt.Tests.Persistence;

/// <summary>
/// Startup loading as Redis 7.0 does it: the port opens first, clients get -LOADING (INFO shows loading:1) until the
/// whole RDB or AOF is in, then the data is served. key-load-delay keeps the load going until the test lets it finish
/// (CONFIG SET key-load-delay 0 is allowed while loading).
/// </summary>
public sealed class StartupLoadingTests
{
    private const int Keys = 20000;
    private const string LoadingReply = "-LOADING Redis is loading the dataset in memory\r\n";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>A directory holding dump.rdb with <see cref="Keys"/> keys (key:N → value:N) and a hash, written by Basalt.</summary>
    private static string MakeRdbDir()
    {
        string dir = Directory.CreateTempSubdirectory("loading-").FullName;
        using var s = ServerProcess.StartBasalt("--dir", dir, "--enable-debug-command", "yes");
        using (var c = s.Connect())
        {
            Assert.Equal("OK", c.Call("DEBUG", "POPULATE", Keys.ToString()).Text);
            c.Call("HSET", "sl:hash", "f", "v");
            Assert.Equal("OK", c.Call("SAVE").Text);
        }
        return dir;
    }

    /// <summary>An AOF directory (commands only, or with an RDB preamble) holding the same keys plus one incr command.</summary>
    private static string MakeAofDir(bool preamble)
    {
        string dir = Directory.CreateTempSubdirectory("loading-aof-").FullName;
        using var s = ServerProcess.StartBasalt("--dir", dir, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble ? "yes" : "no",
            "--enable-debug-command", "yes");
        using var c = s.Connect();
        Assert.Equal("OK", c.Call("DEBUG", "POPULATE", Keys.ToString()).Text);
        c.Call("BGREWRITEAOF");
        AofDir.WaitRewrites(s, 1);
        Assert.Equal("OK", c.Call("SET", "sl:incr", "tail").Text);
        try { c.Send("SHUTDOWN"); c.WaitClosed(); } catch { }
        s.WaitForExit(TimeSpan.FromSeconds(20));
        return dir;
    }

    private static Dictionary<string, string> Info(RespConnection c)
    {
        var d = new Dictionary<string, string>();
        foreach (var line in c.Call("INFO", "persistence").Text!.Split("\r\n"))
        {
            int i = line.IndexOf(':');
            if (i > 0) d[line[..i]] = line[(i + 1)..];
        }
        return d;
    }

    private static string Raw(RespConnection c, params object[] args) => Encoding.UTF8.GetString(c.CallRaw(args));

    /// <summary>While loading: -LOADING for data commands, loading:1 with the loading_* fields; then all the data.</summary>
    private static void ObserveLoadThenData(ServerProcess s, long totalBytes, int expectedKeys)
    {
        using var c = s.Connect();
        Assert.Equal(LoadingReply, Raw(c, "PING"));
        Assert.Equal(LoadingReply, Raw(c, "GET", "key:1"));
        Assert.Equal(LoadingReply, Raw(c, "DBSIZE"));
        Assert.Equal(LoadingReply, Raw(c, "SET", "sl:new", "x"));
        var info = Info(c);
        Assert.Equal("1", info["loading"]);
        Assert.Equal("0", info["async_loading"]);
        Assert.Equal(totalBytes.ToString(), info["loading_total_bytes"]);
        Assert.True(long.Parse(info["loading_start_time"]) > 0);
        Tools.WaitUntil(() => long.Parse(Info(c)["loading_loaded_bytes"]) > 0, Deadline, "loading progress");
        Assert.Equal("OK", c.Call("CONFIG", "SET", "key-load-delay", "0").Text);
        Tools.WaitUntil(() => c.Call("PING").Text == "PONG", Deadline, "loading to finish");
        Assert.Equal(expectedKeys, c.Call("DBSIZE").Integer);
        Assert.Equal("value:1", c.Call("GET", "key:1").Text);
        var after = Info(c);
        Assert.Equal("0", after["loading"]);
        Assert.False(after.ContainsKey("loading_total_bytes"));
    }

    [Fact]
    public void Rdb_LoadingAnswersLoadingThenServesTheWholeDataset()
    {
        string dir = MakeRdbDir();
        try
        {
            long size = new FileInfo(Path.Combine(dir, "dump.rdb")).Length;
            using var s = ServerProcess.StartWhileLoading(false, "--dir", dir, "--key-load-delay", "1000");
            ObserveLoadThenData(s, size, Keys + 1);
            using var c = s.Connect();
            Assert.Equal("v", c.Call("HGET", "sl:hash", "f").Text);
            Assert.Equal(Keys + 1, long.Parse(Info(c)["rdb_last_load_keys_loaded"]));
            // The process output is captured asynchronously: poll for the line rather than reading it once.
            Tools.WaitUntil(() => s.Output.Contains("Done loading RDB, keys loaded: " + (Keys + 1)), TimeSpan.FromSeconds(30),
                "the load's log line\n" + s.Output);
        }
        finally { try { Directory.Delete(dir, true); } catch { } }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Aof_LoadingAnswersLoadingThenServesTheWholeDataset(bool preamble)
    {
        string dir = MakeAofDir(preamble);
        try
        {
            long size = Directory.GetFiles(Path.Combine(dir, "appendonlydir")).Where(f => !f.EndsWith(".manifest")).Sum(f => new FileInfo(f).Length);
            using var s = ServerProcess.StartWhileLoading(false, "--dir", dir, "--appendonly", "yes", "--key-load-delay", "1000");
            ObserveLoadThenData(s, size, Keys + 1);
            using var c = s.Connect();
            Assert.Equal("tail", c.Call("GET", "sl:incr").Text);
            // The AOF is open again once loaded: a write now survives a restart.
            Assert.Equal("OK", c.Call("SET", "sl:after", "1").Text);
            Assert.Equal("1", Info(c)["aof_enabled"]);
        }
        finally { try { Directory.Delete(dir, true); } catch { } }
    }

    [Fact]
    public void Shutdown_DuringLoading_ExitsWithoutSavingOverTheFile()
    {
        string dir = MakeRdbDir();
        try
        {
            string dump = Path.Combine(dir, "dump.rdb");
            byte[] before = File.ReadAllBytes(dump);
            using var s = ServerProcess.StartWhileLoading(false, "--dir", dir, "--key-load-delay", "1000", "--save", "1 1");
            using (var c = s.Connect())
            {
                Assert.Equal("1", Info(c)["loading"]);
                c.Send("SHUTDOWN");
                Assert.True(c.WaitClosed());
            }
            Assert.Equal(0, s.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.DoesNotContain("Saving the final RDB snapshot", s.Output);
            Assert.Contains("ready to exit, bye bye", s.Output);
            Assert.Equal(before, File.ReadAllBytes(dump));
        }
        finally { try { Directory.Delete(dir, true); } catch { } }
    }

    [Fact]
    public void Sigterm_DuringLoading_ExitsWithoutSavingOverTheFile()
    {
        string dir = MakeRdbDir();
        try
        {
            string dump = Path.Combine(dir, "dump.rdb");
            byte[] before = File.ReadAllBytes(dump);
            using var s = ServerProcess.StartWhileLoading(false, "--dir", dir, "--key-load-delay", "1000", "--save", "1 1");
            s.Signal("TERM");
            Assert.Equal(0, s.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Contains("Received shutdown signal during loading, scheduling shutdown.", s.Output);
            Assert.DoesNotContain("Saving the final RDB snapshot", s.Output);
            Assert.Equal(before, File.ReadAllBytes(dump));
        }
        finally { try { Directory.Delete(dir, true); } catch { } }
    }

    [Fact]
    public void CorruptRdb_StillStopsTheServerWithTheFatalError()
    {
        string dir = MakeRdbDir();
        try
        {
            string dump = Path.Combine(dir, "dump.rdb");
            var bytes = File.ReadAllBytes(dump);
            File.WriteAllBytes(dump, bytes[..(bytes.Length / 2)]); // cut in the middle of the keys
            var r = Tools.Run(Path.Combine(ServerProcess.RepoRoot, "bin", "basalt-server"),
                ["--port", ServerProcess.FreePort().ToString(), "--bind", "127.0.0.1", "--save", "", "--dir", dir], timeoutMs: 60_000);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("Fatal error loading the DB " + dump, r.StdOut + r.StdErr);
            Assert.DoesNotContain("Ready to accept connections", r.StdOut + r.StdErr);
        }
        finally { try { Directory.Delete(dir, true); } catch { } }
    }

    [Fact]
    public void Replica_OfALoadingMaster_SyncsTheWholeDatasetOnceLoaded()
    {
        string dir = MakeRdbDir();
        try
        {
            using var master = ServerProcess.StartWhileLoading(false, "--dir", dir, "--key-load-delay", "1000");
            using var replica = ServerProcess.StartBasalt("--replicaof", "127.0.0.1", master.Port.ToString());
            using var r = replica.Connect();
            using var m = master.Connect();
            // The master refuses the handshake while loading: the replica keeps its (empty) dataset and retries.
            Tools.WaitUntil(() => replica.Output.Contains("LOADING"), Deadline, "the replica to meet -LOADING\n" + replica.Output);
            Assert.Equal("1", Info(m)["loading"]);
            Assert.Equal(0, r.Call("DBSIZE").Integer);
            Assert.Equal("OK", m.Call("CONFIG", "SET", "key-load-delay", "0").Text);
            Tools.WaitUntil(() => r.Call("DBSIZE").Integer == Keys + 1, Deadline, "the replica to sync");
            Assert.Equal("value:7", r.Call("GET", "key:7").Text);
        }
        finally { try { Directory.Delete(dir, true); } catch { } }
    }

    [Fact]
    public void LoadingReplies_MatchRedis()
    {
        string dir = MakeRdbDir();
        string redisDir = Directory.CreateTempSubdirectory("loading-redis-").FullName;
        try
        {
            File.Copy(Path.Combine(dir, "dump.rdb"), Path.Combine(redisDir, "dump.rdb"));
            // Redis serves clients only every loading-process-events-interval-bytes: the smallest interval keeps it responsive.
            string[] args = ["--key-load-delay", "1000", "--loading-process-events-interval-bytes", "1024"];
            using var b = ServerProcess.StartWhileLoading(false, ["--dir", dir, .. args]);
            using var r = ServerProcess.StartWhileLoading(true, ["--dir", redisDir, .. args]);
            using var bc = b.Connect();
            using var rc = r.Connect();
            object[][] commands =
            [
                ["PING"], ["GET", "key:1"], ["SET", "k", "v"], ["DBSIZE"], ["PSYNC", "?", "-1"],
                ["REPLCONF", "listening-port", "1"], ["SELECT", "1"], ["ECHO", "x"], ["CONFIG", "GET", "key-load-delay"],
                ["CONFIG", "GET", "*load-delay*"], ["CONFIG", "GET", "loading-process-events-interval-bytes"],
                ["MULTI"], ["GET", "x"], ["EXEC"], ["SELECT", "0"], ["FLUSHALL"], ["ROLE"],
            ];
            foreach (var cmd in commands)
                Assert.Equal(Raw(rc, cmd), Raw(bc, cmd));
            var bi = Info(bc);
            var ri = Info(rc);
            Assert.Equal("1", ri["loading"]);
            Assert.Equal(ri["loading"], bi["loading"]);
            Assert.Equal(ri["loading_total_bytes"], bi["loading_total_bytes"]);
            foreach (var f in new[] { "loading_start_time", "loading_rdb_used_mem", "loading_loaded_bytes", "loading_loaded_perc", "loading_eta_seconds" })
                Assert.True(bi.ContainsKey(f) && ri.ContainsKey(f), f);
            foreach (var c in new[] { bc, rc }) Assert.Equal("OK", c.Call("CONFIG", "SET", "key-load-delay", "0").Text);
            foreach (var c in new[] { bc, rc }) Tools.WaitUntil(() => c.Call("PING").Text == "PONG", Deadline, "loading to finish");
            Assert.Equal(rc.Call("DBSIZE").Integer, bc.Call("DBSIZE").Integer);
            Assert.Equal(Raw(rc, "GET", "key:3"), Raw(bc, "GET", "key:3"));
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch { }
            try { Directory.Delete(redisDir, true); } catch { }
        }
    }
}
