using System.Text;
using Basalt.Protocol;
using Basalt.Server;
using Basalt.Server.Config;
using Basalt.Server.Types;
using Basalt.Tests.Support;
using Xunit.Abstractions;

namespace Basalt.Tests;

/// <summary>
/// String and bit commands compared byte for byte with redis-server 7.0 (strings.txt runs in CorpusTests): random
/// INCRBYFLOAT inputs, wrong-type replies and dirty counting (the last two against an in-process
/// Basalt, where a non-string value can be planted without the list commands).
/// </summary>
public class StringDifferentialTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    private readonly ITestOutputHelper _out;

    public StringDifferentialTests(DifferentialFixture f, ITestOutputHelper output)
    {
        _f = f;
        _out = output;
    }

    private static string Show(byte[] raw) => Encoding.Latin1.GetString(raw).Replace("\r\n", "\\r\\n");

    private static object[] ToArgs(IEnumerable<string> args) => args.Select(a => (object)Encoding.Latin1.GetBytes(a)).ToArray();

    [Fact]
    public void Incrbyfloat_random_inputs_match_redis()
    {
        using var basalt = _f.Basalt.Connect();
        using var redis = _f.Redis.Connect();
        var rng = new Random(7015);
        var failures = new List<string>();
        for (int i = 0; i < 300; i++)
        {
            string key = "rf:" + (i % 7);
            string incr = RandomFloatText(rng);
            var expected = redis.CallRaw("INCRBYFLOAT", key, incr);
            var actual = basalt.CallRaw("INCRBYFLOAT", key, incr);
            if (!expected.AsSpan().SequenceEqual(actual)) failures.Add($"INCRBYFLOAT {key} {incr}: redis {Show(expected)} basalt {Show(actual)}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    private static string RandomFloatText(Random rng)
    {
        string sign = rng.Next(3) == 0 ? "-" : "";
        switch (rng.Next(4))
        {
            case 0: return sign + rng.Next(0, 1000) + "." + rng.Next(0, 100000).ToString("D5");
            case 1: return sign + "0.000" + rng.Next(1, 999999);
            case 2: return sign + rng.Next(1, 99) + "e" + rng.Next(-25, 25);
            default: return sign + (rng.NextDouble() * Math.Pow(10, rng.Next(-5, 12))).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>A Basalt server without networking: commands go straight to the dispatcher.</summary>
    private sealed class InProcess
    {
        public readonly RedisServer Server = new(new ServerConfig());
        private readonly Client _client;

        public InProcess()
        {
            _client = new Client(Server, 1) { Authenticated = true };
        }

        public byte[] Call(params string[] args)
        {
            var bytes = args.Select(Encoding.Latin1.GetBytes).ToArray();
            var buf = bytes.SelectMany(b => b).ToArray();
            var refs = new ArgRef[bytes.Length];
            int off = 0;
            for (int i = 0; i < bytes.Length; i++)
            {
                refs[i] = new ArgRef { Offset = off, Length = bytes[i].Length };
                off += bytes[i].Length;
            }
            lock (Server.ExecLock) Server.Dispatcher.Execute(_client, buf, refs, 0, bytes.Length);
            var reply = _client.Out.WrittenSpan.ToArray();
            _client.Out.Reset();
            return reply;
        }

        public void PlantList(string key) => Server.Databases[0].Set(Encoding.Latin1.GetBytes(key), new FakeList());
    }

    private sealed class FakeList : IRedisValue
    {
        public string TypeName => "list";
        public string Encoding => "listpack";
        public IRedisValue Clone() => new FakeList();
    }

    public static IEnumerable<object[]> WrongTypeCommands() => new[]
    {
        "GET wt", "SET wt v GET", "SET wt v NX GET", "SETNX wt v", "SET wt v NX", "MSETNX wt v", "GETSET wt v", "GETDEL wt",
        "GETEX wt", "GETEX wt EX 10", "GETEX wt EX 0", "GETEX wt EX abc", "GETEX wt EX 1 PX 1", "MGET wt s", "APPEND wt x", "STRLEN wt", "INCR wt", "DECR wt", "INCRBY wt 1",
        "INCRBY wt x", "DECRBY wt 2", "INCRBYFLOAT wt 1", "INCRBYFLOAT wt x", "GETRANGE wt 0 1", "GETRANGE wt a 1", "SUBSTR wt 0 1",
        "SETRANGE wt 0 x", "SETRANGE wt 0 \"\"", "SETRANGE wt -1 x", "LCS wt s", "LCS s wt", "LCS s wt BOGUS", "SETBIT wt 0 1",
        "SETBIT wt 0 5", "GETBIT wt 0", "BITCOUNT wt", "BITCOUNT wt a b", "BITCOUNT wt 0", "BITPOS wt 1", "BITPOS wt 2",
        "BITOP AND d wt", "BITOP NOT d wt", "BITOP OR d s wt", "BITFIELD wt GET u8 0", "BITFIELD wt SET u8 0 1",
        "BITFIELD wt GET u99 0", "BITFIELD_RO wt GET u8 0", "BITFIELD_RO wt SET u8 0 1", "SET wt v", "SET wt v XX",
        "MSET wt v", "BITOP AND wt s", "GETSET s v", "EXISTS wt",
    }.Select(c => new object[] { c });

    [Theory]
    [MemberData(nameof(WrongTypeCommands))]
    public void Wrong_type_replies_match_redis(string command)
    {
        var basalt = new InProcess();
        using var redis = _f.Redis.Connect();
        var args = ConfigFileParser.SplitArgs(command)!.Select(a => a.Replace("wt", "wt:" + command)).ToList();
        string listKey = "wt:" + command;
        redis.Call("DEL", listKey, "s", "d");
        redis.Call("RPUSH", listKey, "a");
        redis.Call("SET", "s", "abc");
        basalt.PlantList(listKey);
        basalt.Call("SET", "s", "abc");

        var expected = redis.CallRaw(ToArgs(args));
        var actual = basalt.Call(args.ToArray());
        Assert.Equal(Show(expected), Show(actual));
        // The key is left as the command made it: same type on both sides.
        Assert.Equal(redis.Call("TYPE", listKey).Text, Encoding.Latin1.GetString(basalt.Call("TYPE", listKey)).Trim('+', '\r', '\n'));
    }

    [Fact]
    public void Dirty_counts_match_redis()
    {
        var basalt = new InProcess();
        using var redis = _f.Redis.Connect();
        redis.Call("SELECT", "9");
        redis.Call("FLUSHDB");
        string[] commands =
        [
            "SET d:a 1", "SET d:a 1 NX", "SETNX d:a 2", "MSET d:b 1 d:c 2 d:d 3", "MSETNX d:b 1 d:e 2", "MSETNX d:f 1 d:g 2",
            "INCR d:a", "INCRBY d:a x", "INCRBYFLOAT d:a 1.5", "APPEND d:a xyz", "APPEND d:h \"\"", "SETRANGE d:a 0 \"\"",
            "SETRANGE d:a 1 Q", "SETRANGE d:z 0 \"\"", "GETSET d:a 5", "GETDEL d:a", "GETDEL d:a", "SET d:a v",
            "GETEX d:a", "GETEX d:a PERSIST", "GETEX d:a EX 100", "GETEX d:a PERSIST", "GETEX d:a PXAT 1",
            "SETBIT d:bits 3 1", "SETBIT d:bits 3 1", "SETBIT d:bits 3 0", "SETBIT d:bits 100 0",
            "BITFIELD d:bf SET u8 0 1 GET u8 0 INCRBY u8 0 1", "BITFIELD d:bf OVERFLOW FAIL INCRBY u8 0 1000",
            "BITFIELD d:bf GET u8 0", "BITOP AND d:dest d:bits d:bf", "BITOP AND d:dest d:nothing", "BITOP AND d:dest d:nothing",
            "SETEX d:x 100 v", "PSETEX d:x 100000 v", "SET d:x v GET",
        ];
        long redisStart = RedisDirty(redis);
        long basaltStart = basalt.Server.Dirty;
        foreach (var c in commands)
        {
            var args = ConfigFileParser.SplitArgs(c)!;
            redis.Call(ToArgs(args));
            basalt.Call(args.ToArray());
            Assert.True(RedisDirty(redis) - redisStart == basalt.Server.Dirty - basaltStart,
                $"after '{c}': redis dirty +{RedisDirty(redis) - redisStart}, basalt +{basalt.Server.Dirty - basaltStart}");
        }
        redis.Call("SELECT", "0");
    }

    private static long RedisDirty(RespConnection redis)
    {
        var info = redis.Call("INFO", "persistence").Text!;
        var line = info.Split("\r\n").First(l => l.StartsWith("rdb_changes_since_last_save:"));
        return long.Parse(line.Split(':')[1]);
    }

    [Fact]
    public void In_place_modifications_report_the_key_as_modified()
    {
        var basalt = new InProcess();
        var modified = new List<string>();
        basalt.Server.Databases[0].KeyModified = (_, k) => modified.Add(Encoding.Latin1.GetString(k));
        basalt.Call("SET", "km:a", "hello");
        modified.Clear();
        foreach (var c in new[] { "SETRANGE km:a 0 J", "SETBIT km:a 7 1", "BITFIELD km:a SET u8 8 65", "APPEND km:a !", "INCRBYFLOAT km:n 1" })
        {
            basalt.Call(ConfigFileParser.SplitArgs(c)!.ToArray());
            Assert.Contains(c.Split(' ')[1], modified);
            modified.Clear();
        }
        Assert.Equal("$6\r\nKAllo!\r\n", Encoding.Latin1.GetString(basalt.Call("GET", "km:a")));
    }

    [Theory]
    [InlineData("SETRANGE ttl:k 1 Z", true)]
    [InlineData("SETRANGE ttl:k 10 Z", true)]
    [InlineData("APPEND ttl:k more", true)]
    [InlineData("SETBIT ttl:k 100 1", true)]
    [InlineData("BITFIELD ttl:k SET u8 0 1", true)]
    [InlineData("INCRBYFLOAT ttl:k 1", true)]
    [InlineData("SET ttl:k x KEEPTTL", true)]
    [InlineData("GETEX ttl:k", true)]
    [InlineData("SET ttl:k x", false)]
    [InlineData("GETSET ttl:k x", false)]
    [InlineData("MSET ttl:k x", false)]
    [InlineData("BITOP NOT ttl:k ttl:k", false)]
    [InlineData("GETEX ttl:k PERSIST", false)]
    public void Ttl_is_kept_or_cleared_like_redis(string command, bool kept)
    {
        var basalt = new InProcess();
        basalt.Call("SET", "ttl:k", "12", "EX", "100");
        basalt.Call(ConfigFileParser.SplitArgs(command)!.ToArray());
        Assert.Equal(kept, basalt.Server.Databases[0].GetExpire("ttl:k"u8) > 0);
    }
}
