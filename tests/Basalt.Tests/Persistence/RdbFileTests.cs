using System.Text;
using Basalt.Protocol;
using Basalt.Server.Persistence.Rdb;
using Basalt.Tests.Support;

namespace Basalt.Tests.Persistence;

/// <summary>
/// Whole RDB files: written by Basalt and accepted by redis-check-rdb and a real redis-server; written by
/// redis-server (SAVE) and loaded by RdbFile.Load with identical values; plus the failure modes of Load.
/// </summary>
public class RdbFileTests
{
    private static readonly int[] Dbs = [0, 5];

    private static void Populate(Func<object[], RespValue> call, string p)
    {
        foreach (int db in Dbs)
        {
            call(["SELECT", db.ToString()]);
            foreach (var k in RdbTestData.Cases($"{p}{db}:"))
                foreach (var cmd in k.Setup) Assert.False(call(cmd).IsError, $"{cmd[0]} {k.Key}");
            call(["PEXPIRE", $"{p}{db}:str", "100000000"]);
            call(["PEXPIRE", $"{p}{db}:bighash", "100000000"]);
        }
        call(["SELECT", "0"]);
    }

    private static List<string> Compare(Func<object[], RespValue> want, Func<object[], RespValue> got, string p)
    {
        var diffs = new List<string>();
        foreach (int db in Dbs)
        {
            want(["SELECT", db.ToString()]);
            got(["SELECT", db.ToString()]);
            long a = want(["DBSIZE"]).Integer, b = got(["DBSIZE"]).Integer;
            if (a != b) diffs.Add($"db{db} DBSIZE {a} vs {b}");
            foreach (var k in RdbTestData.Cases($"{p}{db}:"))
            {
                string x = RdbTestData.Describe(want, k.Key), y = RdbTestData.Describe(got, k.Key);
                if (x != y) diffs.Add($"db{db} {k.Key}:\n  expected {x}\n  loaded   {y}");
            }
        }
        want(["SELECT", "0"]);
        got(["SELECT", "0"]);
        return diffs;
    }

    [Fact]
    public void Basalt_file_passes_redis_check_rdb_and_loads_in_redis_with_the_same_values()
    {
        var basalt = new RdbInProcessServer();
        Populate(basalt.Call, "bf:");
        var dir = Directory.CreateTempSubdirectory("rdbfile-").FullName;
        try
        {
            var path = Path.Combine(dir, "x.rdb");
            using (var fs = File.Create(path)) basalt.WriteRdb(fs);
            var check = Tools.Run("redis-check-rdb", [path], timeoutMs: 60_000);
            Assert.True(check.ExitCode == 0 && check.StdOut.Contains("RDB looks OK"), check.StdOut + check.StdErr);

            using var redis = ServerProcess.StartRedis("--dir", dir, "--dbfilename", "x.rdb");
            using var c = redis.Connect();
            var diffs = Compare(basalt.Call, a => c.Call(a), "bf:");
            Assert.True(diffs.Count == 0, string.Join("\n", diffs));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Redis_saved_file_loads_into_basalt_with_the_same_values_and_aux_fields()
    {
        using var redis = ServerProcess.StartRedis("--enable-debug-command", "yes");
        using var c = redis.Connect();
        Populate(a => c.Call(a), "rf:");
        Assert.Equal("OK", c.Call("SAVE").Text);

        var basalt = new RdbInProcessServer();
        RdbLoadResult result;
        using (var fs = File.OpenRead(Path.Combine(redis.Dir, "dump.rdb")))
            result = RdbFile.Load(fs, basalt.Server, new RdbLoadOptions());
        Assert.Equal(10, result.Version);
        Assert.Equal("7.0.15", result.Aux["redis-ver"]);
        Assert.Equal("64", result.Aux["redis-bits"]);
        Assert.Equal("0", result.Aux["aof-base"]);
        Assert.True(long.Parse(result.Aux["ctime"]) > 1_600_000_000, result.Aux["ctime"]);
        Assert.Equal(2 * RdbTestData.Cases("x").Count, result.KeysLoaded);

        // Compared with what Redis itself makes of its file (a load picks e.g. embstr for a PFADD-made HLL).
        Assert.Equal("OK", c.Call("DEBUG", "RELOAD").Text);
        var diffs = Compare(a => c.Call(a), basalt.Call, "rf:");
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }

    [Fact]
    public void Function_libraries_in_a_redis_file_reach_the_callback()
    {
        using var redis = ServerProcess.StartRedis();
        using var c = redis.Connect();
        const string code = "#!lua name=rdblib\nredis.register_function('rdbf', function() return 1 end)";
        Assert.Equal("rdblib", c.Call("FUNCTION", "LOAD", code).Text);
        c.Call("SET", "k", "v");
        Assert.Equal("OK", c.Call("SAVE").Text);
        var libs = new List<string>();
        var basalt = new RdbInProcessServer();
        using var fs = File.OpenRead(Path.Combine(redis.Dir, "dump.rdb"));
        var r = RdbFile.Load(fs, basalt.Server, new RdbLoadOptions { OnFunctionLibrary = b => libs.Add(Encoding.UTF8.GetString(b)) });
        Assert.Equal([code], libs);
        Assert.Equal(1, r.KeysLoaded);
    }

    private static RdbLoadResult LoadBytes(byte[] file, RdbInProcessServer into, RdbLoadOptions? options = null) =>
        RdbFile.Load(new MemoryStream(file), into.Server, options ?? new RdbLoadOptions());

    [Fact]
    public void Keys_expired_in_the_file_are_skipped_unless_kept_for_a_replica()
    {
        var src = new RdbInProcessServer();
        src.Call("SET", "live", "1");
        src.Call("SET", "dead", "2");
        src.Call("PEXPIRE", "live", "100000");
        // An expiry already in the past, written without going through the expiry machinery.
        var ms = new MemoryStream();
        var o = new RdbOutput(ms, true);
        RdbFile.WriteHeader(o, []);
        RdbFile.WriteSelectDb(o, 0);
        RdbFile.WriteEntry(o, "live"u8, "1"u8.ToArray(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 100_000, -1, -1);
        RdbFile.WriteEntry(o, "dead"u8, "2"u8.ToArray(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1000, -1, -1);
        RdbFile.WriteFooter(o, true);
        var bytes = ms.ToArray();

        var master = new RdbInProcessServer();
        var r = LoadBytes(bytes, master);
        Assert.Equal(1, r.KeysLoaded);
        Assert.Equal(1, r.ExpiredSkipped);
        Assert.Equal(1, master.Call("DBSIZE").Integer);
        Assert.InRange(master.Call("PTTL", "live").Integer, 90_000, 100_000);

        var replica = new RdbInProcessServer();
        r = LoadBytes(bytes, replica, new RdbLoadOptions { KeepExpired = true });
        Assert.Equal(2, r.KeysLoaded);
        Assert.Equal(2, replica.Server.Databases[0].Count);
    }

    [Fact]
    public void Idle_time_in_the_file_is_applied_under_an_lru_policy()
    {
        var ms = new MemoryStream();
        var o = new RdbOutput(ms, true);
        RdbFile.WriteHeader(o, []);
        RdbFile.WriteSelectDb(o, 0);
        RdbFile.WriteEntry(o, "old"u8, "v"u8.ToArray(), -1, 5000, -1);
        RdbFile.WriteFooter(o, true);
        var s = new RdbInProcessServer();
        LoadBytes(ms.ToArray(), s);
        Assert.InRange(s.Call("OBJECT", "IDLETIME", "old").Integer, 5000, 5010);
    }

    [Fact]
    public void Bad_checksum_is_refused_and_zero_checksum_is_accepted()
    {
        var s = new RdbInProcessServer();
        s.Call("SET", "a", "1");
        var good = s.RdbBytes();
        var bad = (byte[])good.Clone();
        bad[^3] ^= 1;
        var e = Assert.Throws<RdbFormatException>(() => LoadBytes(bad, new RdbInProcessServer()));
        Assert.Contains("Wrong RDB checksum", e.Message);
        // Checksum verification off: loads.
        Assert.Equal(1, LoadBytes(bad, new RdbInProcessServer(), new RdbLoadOptions { VerifyChecksum = false }).KeysLoaded);
        var zero = s.RdbBytes(checksum: false);
        Assert.True(zero.AsSpan(zero.Length - 8).IndexOfAnyExcept((byte)0) < 0);
        var r = LoadBytes(zero, new RdbInProcessServer());
        Assert.True(r.ChecksumSkipped);
        Assert.Equal(1, r.KeysLoaded);
    }

    [Fact]
    public void Newer_versions_and_bad_signatures_are_refused_with_redis_messages()
    {
        var e = Assert.Throws<RdbFormatException>(() => LoadBytes("REDIS0013\xff"u8.ToArray(), new RdbInProcessServer()));
        Assert.Equal("Can't handle RDB format version 13", e.Message);
        e = Assert.Throws<RdbFormatException>(() => LoadBytes("RADIS0010"u8.ToArray(), new RdbInProcessServer()));
        Assert.StartsWith("Wrong signature trying to load DB from file", e.Message);
        // An old version without a checksum trailer loads.
        var r = LoadBytes([.. "REDIS0004"u8, 0xFE, 0x00, 0x00, 0x01, (byte)'k', 0x01, (byte)'v', 0xFF], new RdbInProcessServer());
        Assert.Equal(1, r.KeysLoaded);
    }

    [Fact]
    public void Duplicate_keys_and_unknown_opcodes_are_errors_with_offsets()
    {
        var ms = new MemoryStream();
        var o = new RdbOutput(ms, true);
        RdbFile.WriteHeader(o, []);
        RdbFile.WriteSelectDb(o, 0);
        RdbFile.WriteEntry(o, "k"u8, "1"u8.ToArray(), -1, -1, -1);
        RdbFile.WriteEntry(o, "k"u8, "2"u8.ToArray(), -1, -1, -1);
        RdbFile.WriteFooter(o, true);
        var e = Assert.Throws<RdbFormatException>(() => LoadBytes(ms.ToArray(), new RdbInProcessServer()));
        Assert.Contains("Duplicated key 'k'", e.Message);

        e = Assert.Throws<RdbFormatException>(() => LoadBytes([.. "REDIS0010"u8, 0xFE, 0x00, 0xF7, 0x05], new RdbInProcessServer()));
        Assert.Contains("module", e.Message);
        e = Assert.Throws<RdbFormatException>(() => LoadBytes([.. "REDIS0010"u8, 0xFE, 0x00, 0x08], new RdbInProcessServer()));
        Assert.Contains("offset 11", e.Message);
        e = Assert.Throws<RdbFormatException>(() => LoadBytes([.. "REDIS0010"u8, 0xFE, 0x40, 0x40], new RdbInProcessServer()));
        Assert.Contains("databases", e.Message);
    }

    [Fact]
    public void Every_truncation_of_a_file_fails_cleanly()
    {
        var s = new RdbInProcessServer();
        foreach (var k in RdbTestData.Cases("tr:").Where(c => c.DeterministicDump))
            foreach (var cmd in k.Setup) s.Call(cmd);
        s.Call("XADD", "tr:stream", "1-1", "f", "v");
        s.Call("XGROUP", "CREATE", "tr:stream", "g", "0");
        var file = s.RdbBytes();
        Assert.True(file.Length < 20_000);
        var into = new RdbInProcessServer();
        for (int n = 0; n < file.Length; n++)
        {
            var cut = file.AsSpan(0, n).ToArray();
            Assert.Throws<RdbFormatException>(() => LoadBytes(cut, into, new RdbLoadOptions { Target = NewDbs() }));
        }
        Assert.True(LoadBytes(file, new RdbInProcessServer()).KeysLoaded > 10);
    }

    private static Basalt.Server.Keyspace.Database[] NewDbs() => [.. Enumerable.Range(0, 16).Select(i => new Basalt.Server.Keyspace.Database(i))];
}
