using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests.Persistence;

/// <summary>
/// The append-only file against real Redis 7.0: identical incr files for deterministic commands, restarts that
/// rebuild the same dataset (DEBUG DIGEST), each server loading the other's directory, and the manifest layout.
/// </summary>
public class AofTests
{
    private static readonly string[][] DeterministicCommands =
    [
        ["SET", "k1", "v"], ["INCR", "n"], ["LPUSH", "l", "a", "b"], ["HSET", "h", "f", "v", "g", "w"], ["SADD", "s", "x", "y"],
        ["ZADD", "z", "1.5", "m"], ["DEL", "missing"], ["INCR", "k1"], // no change / error: not written
        ["SELECT", "3"], ["SET", "k", "1"], ["MULTI"], ["SET", "a", "1"], ["INCRBY", "a", "5"], ["SELECT", "5"], ["SET", "b", "2"], ["EXEC"],
        ["SET", "in5", "x"], ["SELECT", "0"], ["APPEND", "k1", "x"], ["RPUSH", "l", "c"], ["HINCRBY", "h", "c", "3"],
        ["SREM", "s", "x"], ["ZINCRBY", "z", "2", "m"], ["MSET", "a", "1", "b", "2"], ["DEL", "k1", "a"], ["LPOP", "l"],
        ["SET", "big", new string('x', 3000)], ["HDEL", "h", "g"], ["RENAME", "b", "b2"], ["SETRANGE", "b2", "3", "yy"],
    ];

    private static void RunAll(ServerProcess s, IEnumerable<string[]> commands)
    {
        using var c = s.Connect();
        foreach (var cmd in commands) c.Call(cmd.Cast<object>().ToArray());
    }

    [Fact]
    public void Incr_file_is_byte_identical_to_redis_for_deterministic_commands()
    {
        using var bd = new AofDir();
        using var rd = new AofDir();
        // always: Redis may postpone an everysec write while a background fsync runs; always writes before replying.
        var basalt = bd.StartBasalt("--appendfsync", "always");
        var redis = rd.StartRedis("--appendfsync", "always");
        try
        {
            RunAll(basalt, DeterministicCommands);
            RunAll(redis, DeterministicCommands);
            var expected = Encoding.Latin1.GetString(rd.Read("appendonly.aof.1.incr.aof"));
            var actual = Encoding.Latin1.GetString(bd.Read("appendonly.aof.1.incr.aof"));
            Assert.Contains("MULTI", expected);
            Assert.Equal(expected, actual);
        }
        finally
        {
            basalt.Dispose();
            redis.Dispose();
        }
    }

    [Theory]
    [InlineData("yes", "rdb")]
    [InlineData("no", "aof")]
    public void Manifest_and_file_names_match_redis_on_first_start(string preamble, string baseExt)
    {
        using var bd = new AofDir();
        using var rd = new AofDir();
        var basalt = bd.StartBasalt("--aof-use-rdb-preamble", preamble);
        var redis = rd.StartRedis("--aof-use-rdb-preamble", preamble);
        try
        {
            Assert.Equal($"file appendonly.aof.1.base.{baseExt} seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n", bd.Manifest);
            Assert.Equal(rd.Manifest, bd.Manifest);
            Assert.Equal(
                Directory.GetFiles(rd.AofPath).Select(Path.GetFileName).Order(),
                Directory.GetFiles(bd.AofPath).Select(Path.GetFileName).Order());
        }
        finally
        {
            basalt.Dispose();
            redis.Dispose();
        }
    }

    private static void LoadAllTypes(ServerProcess s)
    {
        using var c = s.Connect();
        for (int i = 0; i < 150; i++) c.Call("RPUSH", "list", "e" + i);
        for (int i = 0; i < 100; i++) c.Call("SADD", "set", "m" + i);
        c.Call("SADD", "intset", "1", "2", "3");
        for (int i = 0; i < 70; i++) c.Call("ZADD", "zset", (i * 0.25).ToString(System.Globalization.CultureInfo.InvariantCulture), "z" + i);
        for (int i = 0; i < 80; i++) c.Call("HSET", "hash", "f" + i, "v" + i);
        c.Call("SET", "str", "hello");
        c.Call("SET", "num", "12345");
        // Strings grown by APPEND/SETRANGE are kept with spare room: the rewrite must write only the value.
        for (int i = 0; i < 50; i++) c.Call("APPEND", "appended", "chunk" + i);
        c.Call("SETRANGE", "grown", "100", "end");
        c.Call("SET", "ttl", "x", "EX", "100000");
        c.Call("XADD", "stream", "1-1", "a", "1");
        c.Call("XADD", "stream", "2-1", "b", "2");
        c.Call("XADD", "stream", "3-1", "c", "3");
        c.Call("XDEL", "stream", "2-1");
        c.Call("XGROUP", "CREATE", "stream", "g1", "0");
        c.Call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "1", "STREAMS", "stream", ">");
        c.Call("XGROUP", "CREATECONSUMER", "stream", "g1", "bob");
        c.Call("XADD", "empty", "5-5", "f", "v");
        c.Call("XDEL", "empty", "5-5");
        c.Call("SELECT", "7");
        c.Call("SET", "db7", "seven");
        c.Call("HSET", "h7", "a", "b");
    }

    [Theory]
    [InlineData("yes", "rdb")]
    [InlineData("no", "aof")]
    public void Restart_rebuilds_the_same_dataset_from_incr_and_from_a_rewritten_base(string preamble, string baseExt)
    {
        using var dir = new AofDir();
        var s = dir.StartBasalt("--aof-use-rdb-preamble", preamble);
        LoadAllTypes(s);
        string digest = AofDir.Digest(s);
        Assert.NotEqual(new string('0', 40), digest);
        AofDir.Shutdown(s);

        s = dir.StartBasalt("--aof-use-rdb-preamble", preamble);
        Assert.Equal(digest, AofDir.Digest(s));
        using (var c = s.Connect())
        {
            Assert.Equal("Background append only file rewriting started", c.Call("BGREWRITEAOF").Text);
            AofDir.WaitRewrites(s, 1);
            c.Call("SET", "after-rewrite", "1");
        }
        Assert.Equal($"file appendonly.aof.2.base.{baseExt} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n", dir.Manifest);
        Assert.False(File.Exists(dir.File("appendonly.aof.1.incr.aof")), "history files are deleted");
        Assert.False(File.Exists(dir.File($"appendonly.aof.1.base.{baseExt}")), "history files are deleted");
        digest = AofDir.Digest(s);
        AofDir.Shutdown(s);

        s = dir.StartBasalt("--aof-use-rdb-preamble", preamble);
        try { Assert.Equal(digest, AofDir.Digest(s)); }
        finally { s.Dispose(); }
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public void Redis_loads_basalts_directory_and_basalt_loads_redis_directory(string preamble)
    {
        using var bd = new AofDir();
        var b = bd.StartBasalt("--aof-use-rdb-preamble", preamble);
        LoadAllTypes(b);
        using (var c = b.Connect()) { c.Call("BGREWRITEAOF"); }
        AofDir.WaitRewrites(b, 1);
        using (var c = b.Connect()) { c.Call("SET", "tail", "written-after-rewrite"); c.Call("LPUSH", "list", "head"); }
        string digest = AofDir.Digest(b);
        var keys = AofDir.KeyDigests(b);
        AofDir.Shutdown(b);
        var r = bd.StartRedis("--aof-use-rdb-preamble", preamble);
        try
        {
            Assert.Equal(keys, AofDir.KeyDigests(r));
            Assert.Equal(digest, AofDir.Digest(r));
            AofDir.WaitLog(r, "Ready to accept connections"); // the loading log is complete
            Assert.DoesNotContain("CRITICAL", r.Output);
        }
        finally { AofDir.Shutdown(r); }

        using var rd = new AofDir();
        r = rd.StartRedis("--aof-use-rdb-preamble", preamble);
        LoadAllTypes(r);
        using (var c = r.Connect()) { c.Call("BGREWRITEAOF"); }
        Tools.WaitUntil(() => AofDir.Info(r, "persistence")["aof_rewrites"] == "1" && AofDir.Info(r, "persistence")["aof_rewrite_in_progress"] == "0",
            TimeSpan.FromSeconds(20), "redis rewrite");
        using (var c = r.Connect()) c.Call("SET", "tail", "x");
        digest = AofDir.Digest(r);
        AofDir.Shutdown(r);
        b = rd.StartBasalt("--aof-use-rdb-preamble", preamble);
        try { Assert.Equal(digest, AofDir.Digest(b)); }
        finally { b.Dispose(); }
    }

    [Fact]
    public void Old_style_single_file_is_migrated_into_the_directory_like_redis()
    {
        string content = AofDir.Cmd("SELECT", "0") + AofDir.Cmd("SET", "a", "1") + AofDir.Cmd("RPUSH", "l", "x", "y");
        using var bd = new AofDir();
        using var rd = new AofDir();
        File.WriteAllText(Path.Combine(bd.Path, "appendonly.aof"), content);
        File.WriteAllText(Path.Combine(rd.Path, "appendonly.aof"), content);
        var b = bd.StartBasalt();
        var r = rd.StartRedis();
        try
        {
            using (var c = b.Connect()) Assert.Equal("1", c.Call("GET", "a").Text);
            Assert.Equal(AofDir.Digest(r), AofDir.Digest(b));
            Assert.Equal(rd.Manifest, bd.Manifest);
            Assert.Equal("file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n", bd.Manifest);
            Assert.False(File.Exists(Path.Combine(bd.Path, "appendonly.aof")));
            AofDir.WaitLog(b, "Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir).");
        }
        finally
        {
            b.Dispose();
            r.Dispose();
        }
    }

    [Fact]
    public void Timestamp_annotations_are_written_and_skipped_on_load()
    {
        using var dir = new AofDir();
        var s = dir.StartBasalt("--aof-timestamp-enabled", "yes");
        using (var c = s.Connect()) { c.Call("SET", "a", "1"); c.Call("SET", "b", "2"); }
        string incr = Encoding.Latin1.GetString(dir.Read("appendonly.aof.1.incr.aof"));
        Assert.Matches(@"^#TS:\d{10}\r\n\*2\r\n\$6\r\nSELECT", incr);
        AofDir.Shutdown(s);
        s = dir.StartBasalt();
        try
        {
            using var c = s.Connect();
            Assert.Equal("2", c.Call("GET", "b").Text);
        }
        finally { s.Dispose(); }
        // Redis reads the annotated file too.
        var r = dir.StartRedis();
        try { using var c = r.Connect(); Assert.Equal("1", c.Call("GET", "a").Text); }
        finally { r.Dispose(); }
    }

    [Fact]
    public void Appendonly_turned_on_at_runtime_writes_a_base_with_the_existing_data()
    {
        using var dir = new AofDir();
        var s = ServerProcess.StartBasalt("--dir", dir.Path, "--enable-debug-command", "yes", "--aof-use-rdb-preamble", "no");
        using (var c = s.Connect())
        {
            c.Call("SET", "before", "1");
            c.Call("RPUSH", "l", "a", "b");
            Assert.Equal("0", AofDir.Info(s, "persistence")["aof_enabled"]);
            Assert.Equal("OK", c.Call("CONFIG", "SET", "appendonly", "yes").Text);
            AofDir.WaitRewrites(s, 1);
            c.Call("SET", "after", "2");
        }
        Assert.Equal("file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n", dir.Manifest);
        string digest = AofDir.Digest(s);
        using (var c = s.Connect()) c.Call("CONFIG", "SET", "appendonly", "no");
        using (var c = s.Connect()) c.Call("SET", "not-logged", "x");
        s.Dispose();
        s = dir.StartBasalt();
        try
        {
            Assert.Equal(digest, AofDir.Digest(s));
            using var c = s.Connect();
            Assert.True(c.Call("GET", "not-logged").IsNull);
        }
        finally { s.Dispose(); }
    }

    [Fact]
    public void Bgrewriteaof_replies_and_info_fields_follow_redis()
    {
        using var bd = new AofDir();
        var b = bd.StartBasalt();
        using var rd = new AofDir();
        var r = rd.StartRedis();
        try
        {
            var bi = AofDir.Info(b, "persistence");
            var ri = AofDir.Info(r, "persistence");
            Assert.Equal(ri.Keys.Where(k => k.StartsWith("aof_")).Order(), bi.Keys.Where(k => k.StartsWith("aof_")).Order());
            Assert.Equal("1", bi["aof_enabled"]);
            Assert.Equal("ok", bi["aof_last_write_status"]);

            using var c = b.Connect();
            c.Call("DEBUG", "POPULATE", "20000");
            // Two in one batch: the second sees the first one running.
            c.SendRaw(AofDir.Cmd("BGREWRITEAOF") + AofDir.Cmd("BGREWRITEAOF"));
            Assert.Equal("Background append only file rewriting started", c.Read().Text);
            var second = c.Read();
            Assert.Equal("ERR Background append only file rewriting already in progress", second.Text);
            AofDir.WaitRewrites(b, 1);
            bi = AofDir.Info(b, "persistence");
            Assert.Equal("ok", bi["aof_last_bgrewrite_status"]);
            Assert.Equal(bi["aof_current_size"], bi["aof_base_size"]);
            Assert.True(long.Parse(bi["aof_base_size"]) > 20000 * 20);
        }
        finally
        {
            b.Dispose();
            r.Dispose();
        }
    }

    [Fact]
    public void Bgrewriteaof_during_bgsave_is_scheduled_and_runs_after_it()
    {
        using var dir = new AofDir();
        var s = dir.StartBasalt();
        try
        {
            using var c = s.Connect();
            c.Call("DEBUG", "POPULATE", "20000");
            c.SendRaw(AofDir.Cmd("BGSAVE") + AofDir.Cmd("BGREWRITEAOF") + AofDir.Cmd("INFO", "persistence"));
            Assert.Equal("Background saving started", c.Read().Text);
            Assert.Equal("Background append only file rewriting scheduled", c.Read().Text);
            string info = c.Read().Text!;
            Assert.Contains("aof_rewrite_scheduled:1", info);
            Assert.Contains("aof_pending_rewrite:1", info);
            AofDir.WaitRewrites(s, 1);
            Assert.Equal("0", AofDir.Info(s, "persistence")["aof_rewrite_scheduled"]);
            Assert.StartsWith("file appendonly.aof.2.base.rdb seq 2 type b\n", dir.Manifest);
        }
        finally { s.Dispose(); }
    }

    [Fact]
    public void Auto_rewrite_starts_when_the_aof_grows_past_min_size_and_percentage()
    {
        using var dir = new AofDir();
        var s = dir.StartBasalt("--auto-aof-rewrite-min-size", "4kb", "--auto-aof-rewrite-percentage", "100");
        try
        {
            using var c = s.Connect();
            c.Call("SET", "small", "1");
            Assert.Equal("0", AofDir.Info(s, "persistence")["aof_rewrites"]);
            for (int i = 0; i < 20; i++) c.Call("SET", "k" + i, string.Concat(Enumerable.Range(0, 10).Select(_ => Guid.NewGuid().ToString("N"))));
            AofDir.WaitRewrites(s, 1);
            AofDir.WaitLog(s, "Starting automatic rewriting of AOF on");
            var info = AofDir.Info(s, "persistence");
            // Right after the rewrite the base is the whole size; it doesn't fire again until it doubles.
            Assert.True(long.Parse(info["aof_base_size"]) > 4096);
            c.Call("SET", "one-more", "x");
            Assert.Equal("1", AofDir.Info(s, "persistence")["aof_rewrites"]);
        }
        finally { s.Dispose(); }
    }

    [Fact]
    public void Bgrewriteaof_with_appendonly_off_writes_only_a_base_like_redis()
    {
        using var bd = new AofDir();
        using var rd = new AofDir();
        var b = ServerProcess.StartBasalt("--dir", bd.Path);
        var r = ServerProcess.StartRedis("--dir", rd.Path);
        try
        {
            foreach (var s in new[] { b, r })
            {
                using var c = s.Connect();
                c.Call("SET", "a", "1");
                Assert.Equal("Background append only file rewriting started", c.Call("BGREWRITEAOF").Text);
                AofDir.WaitRewrites(s, 1);
                Assert.Equal("0", AofDir.Info(s, "persistence")["aof_enabled"]);
            }
            Assert.Equal("file appendonly.aof.1.base.rdb seq 1 type b\n", bd.Manifest);
            Assert.Equal(rd.Manifest, bd.Manifest);
            Assert.Equal(["appendonly.aof.1.base.rdb", "appendonly.aof.manifest"], Directory.GetFiles(bd.AofPath).Select(Path.GetFileName).Order());
        }
        finally
        {
            b.Dispose();
            r.Dispose();
        }
        // The base alone is a loadable AOF.
        var s2 = bd.StartBasalt();
        try { using var c = s2.Connect(); Assert.Equal("1", c.Call("GET", "a").Text); }
        finally { s2.Dispose(); }
    }

    [Fact]
    public void Command_form_base_is_byte_identical_to_redis_rewrite()
    {
        // One key per database, so the hash-table order of keys in a database does not matter.
        string[][] setup =
        [
            ["SET", "s", "v"], ["PEXPIREAT", "s", "4000000000000"], ["SELECT", "1"], ["RPUSH", "l", "a", "b", "c"],
            ["SELECT", "2"], ["SADD", "is", "3", "1", "2"], ["SELECT", "3"], ["HSET", "h", "f1", "v1", "f2", "v2"],
            ["SELECT", "4"], ["ZADD", "z", "2", "b", "1", "a", "1.5", "c"], ["SELECT", "5"], ["XADD", "st", "1-1", "f", "v"],
            ["XADD", "st", "2-2", "g", "w"], ["XDEL", "st", "1-1"], ["XGROUP", "CREATE", "st", "grp", "0"],
            ["XREADGROUP", "GROUP", "grp", "alice", "COUNT", "1", "STREAMS", "st", ">"], ["XGROUP", "CREATECONSUMER", "st", "grp", "bob"],
            ["SELECT", "6"], ["RPUSH", "long", .. Enumerable.Range(0, 130).Select(i => "e" + i)],
        ];
        using var bd = new AofDir();
        using var rd = new AofDir();
        var b = bd.StartBasalt("--aof-use-rdb-preamble", "no");
        var r = rd.StartRedis("--aof-use-rdb-preamble", "no");
        try
        {
            foreach (var s in new[] { b, r })
            {
                RunAll(s, setup);
                using (var c = s.Connect()) c.Call("BGREWRITEAOF");
                AofDir.WaitRewrites(s, 1);
            }
            // XCLAIM ... TIME <delivery time> is when each server delivered the entry.
            static string Normalize(byte[] f) => System.Text.RegularExpressions.Regex.Replace(Encoding.Latin1.GetString(f), @"TIME\r\n\$13\r\n\d{13}", "TIME");
            string expected = Normalize(rd.Read("appendonly.aof.2.base.aof"));
            Assert.Contains("XCLAIM", expected);
            Assert.Equal(expected, Normalize(bd.Read("appendonly.aof.2.base.aof")));
        }
        finally
        {
            b.Dispose();
            r.Dispose();
        }
    }

    [Fact]
    public void Loading_ignores_maxmemory()
    {
        using var dir = new AofDir();
        var s = dir.StartBasalt();
        using (var c = s.Connect()) for (int i = 0; i < 200; i++) c.Call("SET", "k" + i, new string('x', 1000));
        AofDir.Shutdown(s);
        s = dir.StartBasalt("--maxmemory", "1mb", "--maxmemory-policy", "noeviction");
        try
        {
            using var c = s.Connect();
            Assert.Equal(200, c.Call("DBSIZE").Integer);
            Assert.Equal("1048576", c.Call("CONFIG", "GET", "maxmemory").Items![1].Text);
        }
        finally { s.Dispose(); }
    }
}
