using Basalt.Tests.Support;

namespace Basalt.Tests.Persistence;

/// <summary>SAVE/BGSAVE/save points/shutdown saves with real processes, and dump files exchanged with real Redis 7.0.</summary>
public class RdbPersistenceTests
{
    private static string NewDir() => Directory.CreateTempSubdirectory("basalt-rdb-").FullName;

    private static string Info(RespConnection c, string field)
    {
        var text = c.Call("INFO", "persistence").Text!;
        foreach (var line in text.Split("\r\n"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal)) return line[(field.Length + 1)..];
        throw new InvalidOperationException(field + " missing");
    }

    /// <summary>One key of every type and encoding, plus TTLs and a second database.</summary>
    internal static void Populate(RespConnection c)
    {
        c.Call("SET", "s:int", "12345");
        c.Call("SET", "s:short", "hello");
        c.Call("SET", "s:long", new string('x', 5000));
        c.Call("SET", "s:neg", "-9223372036854775808");
        c.Call("SET", "s:ttl", "v", "PX", "3600000");
        c.Call("RPUSH", "l:small", "a", "b", "1", "2");
        for (int i = 0; i < 20; i++) c.Call(new object[] { "RPUSH", "l:big" }.Concat(Enumerable.Range(i * 100, 100).Select(n => (object)("item" + n))).ToArray());
        c.Call("HSET", "h:small", "f1", "v1", "f2", "2");
        c.Call(new object[] { "HSET", "h:big" }.Concat(Enumerable.Range(0, 600).SelectMany(n => new object[] { "field" + n, "value" + n })).ToArray());
        c.Call("SADD", "set:int", "1", "2", "3", "-100");
        c.Call("SADD", "set:str", "a", "b", "c");
        c.Call(new object[] { "SADD", "set:big" }.Concat(Enumerable.Range(0, 700).Select(n => (object)("m" + n))).ToArray());
        c.Call("ZADD", "z:small", "1", "a", "2.5", "b", "-inf", "c");
        c.Call(new object[] { "ZADD", "z:big" }.Concat(Enumerable.Range(0, 300).SelectMany(n => new object[] { (n * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture), "member" + n })).ToArray());
        c.Call("XADD", "x:stream", "1-1", "f", "v");
        c.Call("XADD", "x:stream", "2-1", "f", "w", "g", "h");
        c.Call("XGROUP", "CREATE", "x:stream", "grp", "0");
        c.Call("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "1", "STREAMS", "x:stream", ">");
        c.Call("PFADD", "hll", "a", "b", "c");
        c.Call("SELECT", "3");
        c.Call("SET", "db3:key", "three");
        c.Call("EXPIRE", "db3:key", "7200");
        c.Call("SELECT", "0");
    }

    private static string Digest(RespConnection c)
    {
        var r = c.Call("DEBUG", "DIGEST");
        Assert.False(r.IsError, r.Text);
        Assert.Equal(40, r.Text!.Length);
        return r.Text;
    }

    [Fact]
    public void Save_then_restart_restores_every_type_and_ttl()
    {
        var dir = NewDir();
        string digest;
        using (var a = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir))
        using (var c = a.Connect())
        {
            Populate(c);
            digest = Digest(c);
            long before = c.Call("LASTSAVE").Integer;
            Assert.Equal("OK", c.Call("SAVE").Text);
            Assert.True(c.Call("LASTSAVE").Integer >= before);
            Assert.Equal("0", Info(c, "rdb_changes_since_last_save"));
        }
        Assert.True(File.Exists(Path.Combine(dir, "dump.rdb")));
        using var b = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir);
        using var d = b.Connect();
        Assert.Equal(digest, Digest(d));
        long pttl = d.Call("PTTL", "s:ttl").Integer;
        Assert.InRange(pttl, 1, 3_600_000);
        Assert.Equal("17", Info(d, "rdb_last_load_keys_loaded"));
        Assert.Equal(0, Tools.Run("redis-check-rdb", [Path.Combine(dir, "dump.rdb")]).ExitCode);
    }

    [Fact]
    public void Real_redis_loads_a_basalt_dump_and_basalt_loads_a_redis_dump()
    {
        var bdir = NewDir();
        var rdir = NewDir();
        string basaltDigest, redisDigest;
        using (var a = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", bdir))
        using (var c = a.Connect())
        {
            Populate(c);
            basaltDigest = Digest(c);
            Assert.Equal("OK", c.Call("SAVE").Text);
        }
        File.Copy(Path.Combine(bdir, "dump.rdb"), Path.Combine(rdir, "dump.rdb"));
        using (var r = ServerProcess.StartRedis("--enable-debug-command", "yes", "--dir", rdir))
        using (var c = r.Connect())
        {
            Assert.Equal(basaltDigest, Digest(c));
            c.Call("SET", "written-by-redis", "1");
            c.Call("HSET", "h:small", "f3", "3");
            redisDigest = Digest(c);
            Assert.Equal("OK", c.Call("SAVE").Text);
        }
        var bdir2 = NewDir();
        File.Copy(Path.Combine(rdir, "dump.rdb"), Path.Combine(bdir2, "dump.rdb"));
        using var b = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", bdir2);
        using var d = b.Connect();
        Assert.Equal(redisDigest, Digest(d));
        Assert.Equal("1", d.Call("GET", "written-by-redis").Text);
    }

    [Fact]
    public void Bgsave_file_holds_the_values_of_the_snapshot_point()
    {
        var dir = NewDir();
        string v5, v2500;
        using (var a = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir))
        using (var c = a.Connect())
        {
            c.Call("DEBUG", "POPULATE", "200000", "k", "10");
            v5 = c.Call("GET", "k:5").Text!;
            v2500 = c.Call("GET", "k:2500").Text!;
            Assert.Equal("Background saving started", c.Call("BGSAVE").Text);
            for (int i = 0; i < 2000; i++) c.Send("SET", "k:" + i, "changed");
            for (int i = 2000; i < 4000; i++) c.Send("DEL", "k:" + i);
            for (int i = 0; i < 1000; i++) c.Send("SET", "new:" + i, "x");
            c.Send("FLUSHDB"); // fresh tables for the database; the snapshot keeps walking the captured ones
            for (int i = 0; i < 5001; i++) c.Read();
            Tools.WaitUntil(() => Info(c, "rdb_bgsave_in_progress") == "0", TimeSpan.FromSeconds(60), "BGSAVE to finish");
            Assert.Equal("ok", Info(c, "rdb_last_bgsave_status"));
            Assert.Equal("0", c.Call("DBSIZE").Integer.ToString());
        }
        using var b = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir);
        using var d = b.Connect();
        Assert.Equal(200000, d.Call("DBSIZE").Integer);
        Assert.Equal(v5, d.Call("GET", "k:5").Text);
        Assert.Equal(v2500, d.Call("GET", "k:2500").Text);
        Assert.Equal(0, d.Call("EXISTS", "new:1").Integer);
    }

    [Fact]
    public void Save_point_triggers_a_background_save()
    {
        var dir = NewDir();
        using var a = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir, "--save", "1 1");
        using var c = a.Connect();
        c.Call("SET", "a", "1");
        Tools.WaitUntil(() => Info(c, "rdb_saves") != "0" && Info(c, "rdb_bgsave_in_progress") == "0", TimeSpan.FromSeconds(15), "the save point to fire");
        Assert.Equal("0", Info(c, "rdb_changes_since_last_save"));
        Assert.True(File.Exists(Path.Combine(dir, "dump.rdb")));
    }

    [Fact]
    public void Shutdown_saves_with_save_points_and_nosave_skips_it()
    {
        var dir = NewDir();
        using (var a = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir, "--save", "3600 1"))
        {
            using var c = a.Connect();
            c.Call("SET", "kept", "1");
            c.Send("SHUTDOWN");
            Assert.Equal(0, a.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        using (var a = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir, "--save", "3600 1"))
        {
            using var c = a.Connect();
            Assert.Equal("1", c.Call("GET", "kept").Text);
            c.Call("SET", "lost", "1");
            c.Send("SHUTDOWN", "NOSAVE");
            Assert.Equal(0, a.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        using (var a = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir, "--save", "3600 1"))
        {
            using var c = a.Connect();
            Assert.Equal(0, c.Call("EXISTS", "lost").Integer);
            c.Call("SET", "by-sigterm", "1");
            a.Signal("TERM");
            Assert.Equal(0, a.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        using var last = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir);
        using var l = last.Connect();
        Assert.Equal("1", l.Call("GET", "by-sigterm").Text);
    }

    [Fact]
    public void Failed_background_save_refuses_writes_with_misconf_until_a_save_succeeds()
    {
        var dir = NewDir();
        var gone = Path.Combine(dir, "gone");
        Directory.CreateDirectory(gone);
        using var a = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir, "--save", "3600 1", "--enable-protected-configs", "yes");
        using var c = a.Connect();
        c.Call("SET", "a", "1");
        Assert.Equal("OK", c.Call("CONFIG", "SET", "dir", gone).Text);
        Directory.Delete(gone);
        c.Call("BGSAVE"); // fails at once or in the background; either way the status turns to err
        Tools.WaitUntil(() => Info(c, "rdb_bgsave_in_progress") == "0", TimeSpan.FromSeconds(15), "BGSAVE to end");
        Assert.Equal("err", Info(c, "rdb_last_bgsave_status"));
        var refused = c.Call("SET", "b", "2");
        Assert.True(refused.IsError);
        Assert.StartsWith("MISCONF Redis is configured to save RDB snapshots", refused.Text);
        Assert.Equal("1", c.Call("GET", "a").Text);
        Directory.CreateDirectory(gone);
        Assert.Equal("OK", c.Call("SAVE").Text);
        Assert.Equal("OK", c.Call("SET", "b", "2").Text);
    }

    [Fact]
    public void Debug_reload_keeps_the_dataset()
    {
        using var a = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", NewDir());
        using var c = a.Connect();
        Populate(c);
        var digest = Digest(c);
        Assert.Equal("OK", c.Call("DEBUG", "RELOAD").Text);
        Assert.Equal(digest, Digest(c));
    }

    [Fact]
    public void Function_libraries_survive_a_restart_and_travel_to_redis()
    {
        var dir = NewDir();
        const string code = "#!lua name=persisted\nredis.register_function('hello', function(keys, args) return 'hi ' .. args[1] end)";
        using (var a = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir))
        using (var c = a.Connect())
        {
            Assert.Equal("persisted", c.Call("FUNCTION", "LOAD", code).Text);
            Assert.Equal("OK", c.Call("SAVE").Text);
        }
        using (var b = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir))
        using (var c = b.Connect())
            Assert.Equal("hi there", c.Call("FCALL", "hello", "0", "there").Text);
        var rdir = NewDir();
        File.Copy(Path.Combine(dir, "dump.rdb"), Path.Combine(rdir, "dump.rdb"));
        using var r = ServerProcess.StartRedis("--dir", rdir);
        using var rc = r.Connect();
        Assert.Equal("hi redis", rc.Call("FCALL", "hello", "0", "redis").Text);
    }

    [Theory]
    [InlineData("allkeys-lru")]
    [InlineData("allkeys-lfu")]
    public void Lru_idle_time_and_lfu_frequency_are_saved_as_redis_saves_them(string policy)
    {
        var dir = NewDir();
        bool lfu = policy.EndsWith("lfu");
        // No LFU decay: the counter would lose 1 when a minute boundary passes between RESTORE and OBJECT FREQ.
        using (var a = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir, "--maxmemory-policy", policy, "--lfu-decay-time", "0"))
        using (var c = a.Connect())
        {
            c.Call("SET", "src", "v");
            var payload = c.Call("DUMP", "src").Bytes!;
            Assert.Equal("OK", c.Call("RESTORE", "k", "0", payload, lfu ? "FREQ" : "IDLETIME", lfu ? "100" : "5000").Text);
            Assert.Equal("OK", c.Call("SAVE").Text);
        }
        var rdir = NewDir();
        File.Copy(Path.Combine(dir, "dump.rdb"), Path.Combine(rdir, "dump.rdb"));
        using var b = ServerProcess.StartBasalt("--enable-debug-command", "yes", "--dir", dir, "--maxmemory-policy", policy, "--lfu-decay-time", "0");
        using var r = ServerProcess.StartRedis("--dir", rdir, "--maxmemory-policy", policy, "--lfu-decay-time", "0");
        foreach (var s in new[] { b, r })
        {
            using var c = s.Connect();
            if (lfu) Assert.Equal(100, c.Call("OBJECT", "FREQ", "k").Integer);
            else Assert.InRange(c.Call("OBJECT", "IDLETIME", "k").Integer, 5000, 5100);
        }
    }
}
