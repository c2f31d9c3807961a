using System.Text;
using Basalt.Server.Config;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>
/// Keyspace notifications: the same script runs on Basalt and on redis-server 7.0 with a RESP2 connection
/// psubscribed to every keyspace/keyevent channel; the pushed messages are compared byte for byte.
/// In subscribed RESP2 mode PING replies ["pong",""], which serves as a barrier after the script.
/// </summary>
public class KeyspaceNotificationTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public KeyspaceNotificationTests(DifferentialFixture f) => _f = f;

    private const string Pong = "*2\r\n$4\r\npong\r\n$0\r\n\r\n";

    private static string S(byte[] raw) => Encoding.UTF8.GetString(raw);

    private static readonly string[] Generic =
    [
        "set a 1", "set b 1 ex 100", "del b nosuch", "expire a 100", "pexpire a 100000", "expire a 100 nx", "persist a", "persist a",
        "expire a -1", "set e 1", "rename e e2", "set f 1", "rename e2 f", "renamenx f g", "move f 1", "set g 1",
        "copy g g3", "copy g g3 replace", "copy g g3 db 2", "getex g pxat 1", "set h 1", "getdel h", "getdel h",
    ];

    private static readonly string[] Strings =
    [
        "set a 1", "set a 2 get", "setex c 100 x", "psetex c 100000 x", "setnx d 1", "setnx d 2", "mset e 1 f 2", "msetnx g 1 h 1",
        "getset a 3", "append a x", "append zz y", "setrange a 1 yy", "setrange a 0 \"\"", "incr n", "decr n", "incrby n 5",
        "decrby n 2", "incrbyfloat fl 1.5", "getex a ex 100", "getex a persist", "getex a", "set xx 1 keepttl",
        "set xx 1 pxat 1", "incr a",
    ];

    private static readonly string[] Lists =
    [
        "lpush l a b c", "rpush l d", "lpushx l2 a", "rpushx l x", "lpop l", "rpop l", "lpop l 0", "lpop l 2", "lset l 0 z",
        "linsert l before z y", "linsert l before nope y", "lrem l 1 y", "lrem l 0 nope", "ltrim l 0 -1", "rpush m 1 2 3",
        "lmove m n left right", "rpoplpush m n", "lmove m n right left", "lmpop 2 nosuch n left count 5", "rpush t 1",
        "ltrim t 1 0", "rpush u 1", "lrem u 0 1", "rpush n q", "blpop nosuch n 0",
    ];

    private static readonly string[] Hashes =
    [
        "hset h a 1 b 2", "hset h a 1", "hmset h c 3", "hsetnx h c 4", "hsetnx h d 4", "hsetnx h2 d 4", "hincrby h a 5",
        "hincrbyfloat h b 1.5", "hdel h nope", "hdel h a b", "hdel h c d", "hdel h2 d",
    ];

    private static readonly string[] Sets =
    [
        "sadd s 1 2 3", "sadd s 1", "srem s 9", "srem s 1", "spop s", "sadd t a", "spop t", "sadd u a b c", "spop u 0",
        "spop u 1", "spop u 5", "sadd v a b", "smove v w a", "smove v w b", "smove w w a", "smove nos w a", "sadd x 1 2",
        "sadd y 2 3", "sinterstore z x y", "sunionstore z x y", "sdiffstore z x y", "sinterstore z x nos",
        "sinterstore z x nos", "sdiffstore x2 x x",
    ];

    private static readonly string[] SortedSets =
    [
        "zadd z 1 a 2 b 3 c 4 d 5 e", "zadd z 1 a", "zadd z xx 9 nope", "zadd z incr 1 a", "zadd z nx incr 1 a",
        "zincrby z 1 b", "zincrby z2 1 b", "zincrby z2 0 b", "zrem z nope", "zrem z a", "zremrangebyrank z 0 0",
        "zremrangebyscore z 100 200", "zremrangebyscore z 3 3", "zremrangebylex z2 - +", "zadd z 1 x 1 y", "zpopmin z",
        "zpopmax z 2", "zpopmin z 0", "zpopmin z 10", "zadd p 1 a 2 b", "zadd q 2 b 3 c", "zunionstore out 2 p q",
        "zinterstore out 2 p q", "zdiffstore out 2 p q", "zrangestore out2 p 0 -1", "zrangestore out2 p 5 10",
        "zinterstore out 2 p nos", "zmpop 1 q min count 5", "zadd r 1 a", "bzpopmax r 0",
    ];

    private static readonly string[] Streams =
    [
        "xadd s 1-1 a 1", "xadd s 2-1 a 1", "xadd s maxlen 1 3-1 a 1", "xadd s maxlen 5 4-1 a 1", "xadd s 1-0 a 1",
        "xadd s2 nomkstream * a 1", "xdel s 9-9", "xdel s 3-1", "xtrim s maxlen 5", "xtrim s maxlen 0", "xsetid s 10-0",
        "xgroup create s g 0", "xgroup create s g 0", "xgroup create s3 g $ mkstream", "xgroup setid s g 0",
        "xgroup createconsumer s g c1", "xgroup createconsumer s g c1", "xgroup delconsumer s g c1",
        "xgroup delconsumer s g c1", "xgroup destroy s g", "xgroup destroy s g",
        "rpush l 3 1 2", "sort l store out", "sort l limit 0 0 store out", "sort nos store l",
        "xadd r 1-1 a 1", "xadd r 2-1 a 1", "xgroup create r g 0", "xreadgroup group g c1 count 1 streams r >",
        "xreadgroup group g c1 count 1 streams r >", "xreadgroup group g c2 streams r >", "xreadgroup group g c3 streams r 0",
        "xclaim r g c4 0 1-1", "xclaim r g c5 0 9-9", "xautoclaim r g c6 0 0-0", "xautoclaim r g c6 0 0-0", "xack r g 1-1",
    ];

    private static readonly string[] BitsHllGeo =
    [
        "setbit b 7 1",
        "setbit b 7 1",
        "setbit b 100 0",
        "bitfield b set u8 0 255",
        "bitfield b get u8 0",
        "bitfield b2 incrby u8 0 0",
        "set x1 abc",
        "bitop and d x1 b",
        "bitop and d nos nos2",
        "bitop and d nos nos2",
        "pfadd h a b",
        "pfadd h a",
        "pfadd h",
        "pfadd h2",
        "pfcount h",
        "pfmerge h3 h h2",
        "pfmerge h3",
        "geoadd g 13.36 38.11 p 15.08 37.50 c",
        "geoadd g 13.36 38.11 p",
        "geoadd g xx 13.36 38.11 nope",
        "georadius g 15 37 200 km store o",
        "georadius g 15 37 200 km storedist o",
        "geosearchstore o2 g frommember p byradius 500 km",
        "georadius g 15 37 1 m store o",
        "geosearchstore o2 g fromlonlat 0 0 byradius 1 m",
    ];

    private static readonly string[] Misses =
    [
        "get m1",
        "set m2 1",
        "get m2",
        "set m3 1 get",
        "mget m2 m4 m5",
        "exists m6",
        "type m7",
        "ttl m8",
        "pttl m9",
        "strlen m10",
        "llen m11",
        "lrange m12 0 -1",
        "hget m13 f",
        "hgetall m14",
        "smembers m15",
        "sismember m16 a",
        "zscore m17 a",
        "zrange m18 0 -1",
        "zunion 2 m19 m20",
        "sort m21",
        "lcs m22 m2",
        "xrange m23 - +",
        "getrange m24 0 1",
        "object encoding m26",
        "incr m27",
        "lpush m28 a",
        "hset m29 a 1",
        "getex m30",
        "getdel m31",
        "copy m32 m33",
        "rename m34 m35",
        "pfcount m36",
        "bitcount m37",
        "getbit m38 1",
        "geopos m39 a",
    ];

    public static TheoryData<string, string> Cases()
    {
        var d = new TheoryData<string, string>();
        string[] families = ["generic", "strings", "lists", "hashes", "sets", "zsets", "streams", "bits-hll-geo", "misses"];
        string[] flagSets = ["KEA", "Kg", "E$", "Ex", "KEn", "KEl", "Kh", "Es", "KEz", "Kt", "g$lshzxetdKE", "KEAm", "Km", "KEAn", "g$lshzxetdKEn"];
        foreach (var fam in families)
            foreach (var flags in flagSets) d.Add(fam, flags);
        return d;
    }

    private static string[] Script(string family) => family switch
    {
        "generic" => Generic,
        "strings" => Strings,
        "lists" => Lists,
        "hashes" => Hashes,
        "sets" => Sets,
        "streams" => Streams,
        "bits-hll-geo" => BitsHllGeo,
        "misses" => Misses,
        _ => SortedSets,
    };

    /// <summary>Runs the script with a subscriber attached and returns every message it received, in order.</summary>
    private static List<string> Collect(ServerProcess server, string flags, string prefix, IEnumerable<string> script)
    {
        using var c = new RespConnection("127.0.0.1", server.Port);
        using var sub = new RespConnection("127.0.0.1", server.Port);
        Assert.Equal("+OK\r\n", S(c.CallRaw("FLUSHALL")));
        Assert.Equal("+OK\r\n", S(c.CallRaw("CONFIG", "SET", "notify-keyspace-events", flags)));
        sub.CallRaw("PSUBSCRIBE", "__key*@*__:*");
        foreach (var line in script)
        {
            var args = ConfigFileParser.SplitArgs(line)!;
            c.CallRaw(args.Select(a => (object)a).ToArray());
        }
        var msgs = Drain(sub);
        Assert.Equal("+OK\r\n", S(c.CallRaw("CONFIG", "SET", "notify-keyspace-events", "")));
        return msgs;
    }

    private static List<string> Drain(RespConnection sub)
    {
        sub.Send("PING");
        var msgs = new List<string>();
        while (true)
        {
            string frame = S(sub.ReadRaw());
            if (frame == Pong) return msgs;
            msgs.Add(frame);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Events_match_redis_byte_for_byte(string family, string flags)
    {
        var script = Script(family);
        var expected = Collect(_f.Redis, flags, family, script);
        var actual = Collect(_f.Basalt, flags, family, script);
        Assert.Equal(string.Join("", expected), string.Join("", actual));
    }

    [Fact]
    public void Flag_sets_that_enable_nothing_publish_nothing()
    {
        // K or E alone, or classes without K/E, publish nothing; the script still changes keys.
        foreach (var flags in new[] { "K", "E", "A", "g$", "" })
        {
            var msgs = Collect(_f.Basalt, flags, "none", Strings);
            Assert.Empty(msgs);
            Assert.Empty(Collect(_f.Redis, flags, "none", Strings));
        }
    }

    [Fact]
    public void Known_events_reach_subscribers_with_the_documented_channel_shapes()
    {
        var msgs = Collect(_f.Basalt, "KEA", "shape", ["set notifykey 1"]);
        Assert.Equal(2, msgs.Count);
        Assert.Equal("*4\r\n$8\r\npmessage\r\n$12\r\n__key*@*__:*\r\n$24\r\n__keyspace@0__:notifykey\r\n$3\r\nset\r\n", msgs[0]);
        Assert.Equal("*4\r\n$8\r\npmessage\r\n$12\r\n__key*@*__:*\r\n$18\r\n__keyevent@0__:set\r\n$9\r\nnotifykey\r\n", msgs[1]);
    }

    [Theory]
    [InlineData("KEA")]
    [InlineData("AKE")]
    [InlineData("KEg")]
    [InlineData("KEn")]
    [InlineData("Ex")]
    [InlineData("E$")]
    [InlineData("Km")]
    [InlineData("KEAmn")]
    [InlineData("g$lshzxetdK")]
    [InlineData("t")]
    [InlineData("zzhhK")]
    [InlineData("KEz!")]
    [InlineData("")]
    public void Config_get_shows_the_normalized_value_like_redis(string flags)
    {
        string Run(ServerProcess s)
        {
            using var c = new RespConnection("127.0.0.1", s.Port);
            string set = S(c.CallRaw("CONFIG", "SET", "notify-keyspace-events", flags));
            string get = S(c.CallRaw("CONFIG", "GET", "notify-keyspace-events"));
            c.CallRaw("CONFIG", "SET", "notify-keyspace-events", "");
            return set + get;
        }
        Assert.Equal(Run(_f.Redis), Run(_f.Basalt));
    }

    [Fact]
    public void Expired_keys_publish_expired_on_both_servers()
    {
        List<string> Run(ServerProcess s)
        {
            using var c = new RespConnection("127.0.0.1", s.Port);
            using var sub = new RespConnection("127.0.0.1", s.Port);
            c.CallRaw("FLUSHALL");
            c.CallRaw("CONFIG", "SET", "notify-keyspace-events", "KEx");
            sub.CallRaw("PSUBSCRIBE", "__key*@*__:*");
            c.CallRaw("SET", "ntf:exp", "v", "PX", "20");
            // Active expiry or the lazy check in EXISTS removes it; either way one "expired" event is published.
            Tools.WaitUntil(() => S(c.CallRaw("EXISTS", "ntf:exp")) == ":0\r\n", TimeSpan.FromSeconds(5), "key expired");
            var msgs = Drain(sub);
            c.CallRaw("CONFIG", "SET", "notify-keyspace-events", "");
            return msgs;
        }
        var expected = Run(_f.Redis);
        Assert.Equal(2, expected.Count);
        Assert.Equal(expected, Run(_f.Basalt));
    }

    [Fact]
    public void Evicted_keys_publish_evicted_on_both_servers()
    {
        List<string> Run(ServerProcess s)
        {
            using var c = new RespConnection("127.0.0.1", s.Port);
            using var sub = new RespConnection("127.0.0.1", s.Port);
            c.CallRaw("FLUSHALL");
            c.CallRaw("CONFIG", "SET", "notify-keyspace-events", "KEe");
            sub.CallRaw("PSUBSCRIBE", "__key*@*__:*");
            for (int i = 0; i < 20; i++) c.CallRaw("SET", $"ntf:ev:{i}", "xxxxxxxxxxxxxxxxxxxx");
            c.CallRaw("CONFIG", "SET", "maxmemory-policy", "allkeys-random");
            try
            {
                c.CallRaw("CONFIG", "SET", "maxmemory", "1");
                // Every key is over a 1-byte limit; the eviction order is random, so the events are compared as a set.
                Tools.WaitUntil(() => S(c.CallRaw("DBSIZE")) == ":0\r\n", TimeSpan.FromSeconds(5), "all keys evicted");
            }
            finally
            {
                c.CallRaw("CONFIG", "SET", "maxmemory", "0");
                c.CallRaw("CONFIG", "SET", "maxmemory-policy", "noeviction");
                c.CallRaw("CONFIG", "SET", "notify-keyspace-events", "");
            }
            var msgs = Drain(sub);
            msgs.Sort(StringComparer.Ordinal);
            return msgs;
        }
        var expected = Run(_f.Redis);
        Assert.Equal(40, expected.Count);
        Assert.Equal(expected, Run(_f.Basalt));
    }
}
