using System.Buffers.Binary;
using System.Text;
using Basalt.Protocol;
using Basalt.Server.Persistence.Rdb;
using Basalt.Server.Types;
using Basalt.Tests.Support;

namespace Basalt.Tests.Persistence;

/// <summary>
/// Streams in RDB against redis-server 7.0 (run with rdbcompression no, so DUMP bodies compare byte for byte):
/// Redis dumps read back exactly and rewrite to the same bytes, Basalt-built streams restore on Redis.
/// </summary>
public class StreamRdbTests : IClassFixture<UncompressedRedisFixture>
{
    private readonly UncompressedRedisFixture _f;
    public StreamRdbTests(UncompressedRedisFixture f) => _f = f;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    internal static byte[] Body(byte[] dump) => dump.AsSpan(1, dump.Length - 11).ToArray();

    internal static RedisStream ReadBody(byte[] body, byte type = 19)
    {
        var i = new RdbInput(body, 0, body.Length);
        var s = RdbStreamCodec.Read(i, type);
        Assert.Equal(body.Length, i.Position);
        return s;
    }

    internal static byte[] WriteBody(RedisStream s)
    {
        var ms = new MemoryStream();
        var o = new RdbOutput(ms, compress: false);
        RdbStreamCodec.Write(o, s);
        o.Flush();
        return ms.ToArray();
    }

    /// <summary>A DUMP payload: type, body, RDB version 10, CRC64 of everything before it.</summary>
    internal static byte[] Payload(byte[] body)
    {
        var p = new byte[body.Length + 11];
        p[0] = RdbStreamCodec.WriteType;
        body.CopyTo(p, 1);
        p[body.Length + 1] = 10;
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(body.Length + 3), Crc64.Compute(p.AsSpan(0, body.Length + 3)));
        return p;
    }

    internal static List<string> Entries(RedisStream s)
    {
        var r = new List<string>();
        foreach (var (node, i) in s.Range(StreamId.Zero, StreamId.Max, rev: false))
        {
            var f = new FieldReader(node.RawEntry(i));
            var parts = new List<string> { node.Ids[i].ToString() };
            for (int k = 0; k < f.Count; k++) parts.Add(Encoding.UTF8.GetString(f.Get(k)));
            r.Add(string.Join("|", parts));
        }
        return r;
    }

    internal static List<string> Entries(RespValue xrange) =>
        xrange.Items!.Select(e => e.Items![0].Text + "|" + string.Join("|", e.Items[1].Items!.Select(x => x.Text))).ToList();

    private static void Add(RedisStream s, string id, params string[] fv)
    {
        var p = id.Split('-');
        var raw = RdbStreamCodec.PackEntry(fv.Select(B).ToList());
        s.Append(new StreamId(ulong.Parse(p[0]), ulong.Parse(p[1])), new FieldReader(raw), 4096, 10);
    }

    private void BuildRedisStream(RespConnection c, string key)
    {
        c.Call("DEL", key);
        c.Call("CONFIG", "SET", "stream-node-max-entries", "4");
        c.Call("XADD", key, "1-1", "a", "1", "b", "2");
        c.Call("XADD", key, "1-2", "a", "3", "b", "hello");
        c.Call("XADD", key, "1-3", "c", "x");
        c.Call("XADD", key, "2-0", "a", "-70000", "b", "");
        for (int i = 0; i < 9; i++) c.Call("XADD", key, $"{3 + i}-{i}", "a", (i * 1000).ToString(), "12", new string('z', i * 30));
        c.Call("XADD", key, "18446744073709551615-5", "big", "9223372036854775807");
        c.Call("XDEL", key, "1-2", "5-2");
        c.Call("XGROUP", "CREATE", key, "g1", "0");
        c.Call("XGROUP", "CREATE", key, "123", "2-0");
        c.Call("XGROUP", "CREATE", key, "empty", "$");
        c.Call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", key, ">");
        c.Call("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", key, ">");
        c.Call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "1", "STREAMS", key, "0");
        c.Call("XREADGROUP", "GROUP", "123", "7", "COUNT", "4", "STREAMS", key, ">");
        c.Call("XACK", key, "g1", "1-1");
        c.Call("XGROUP", "CREATECONSUMER", key, "g1", "idle-one");
        c.Call("XDEL", key, "2-0");
    }

    [Fact]
    public void Redis_stream_dump_reads_back_and_rewrites_to_the_same_bytes()
    {
        using var c = _f.Redis.Connect();
        BuildRedisStream(c, "srdb:s1");
        var dump = c.Call("DUMP", "srdb:s1").Bytes!;
        Assert.Equal(19, dump[0]);
        var s = ReadBody(Body(dump));

        Assert.Equal(Entries(c.Call("XRANGE", "srdb:s1", "-", "+")), Entries(s));
        Assert.Equal(c.Call("XLEN", "srdb:s1").Integer, s.Length);
        Assert.True(s.Nodes.Count >= 3);
        Assert.Equal(new StreamId(5, 2), s.MaxDeletedId);
        Assert.Equal(new StreamId(ulong.MaxValue, 5), s.LastId);
        Assert.Equal(14, s.EntriesAdded);
        Assert.Equal(["123", "empty", "g1"], s.Groups.Select(g => Encoding.UTF8.GetString(g.Name)));
        var g1 = s.LookupGroup(B("g1"))!;
        Assert.Equal(["alice", "bob", "idle-one"], g1.Consumers.Select(x => Encoding.UTF8.GetString(x.Name)));
        Assert.Equal(4, g1.Pel.Count);
        var pending = c.Call("XPENDING", "srdb:s1", "g1", "-", "+", "100");
        Assert.Equal(pending.Items!.Select(p => $"{p.Items![0].Text}|{p.Items[1].Text}|{p.Items[3].Integer}"),
            g1.Pel.Select(p => $"{p.Key}|{Encoding.UTF8.GetString(p.Value.Consumer!.Name)}|{p.Value.DeliveryCount}"));
        Assert.Same(g1.LookupConsumer(B("bob")), g1.Pel[new StreamId(3, 0)].Consumer);
        Assert.Contains(new StreamId(3, 0), g1.LookupConsumer(B("bob"))!.Pel.Keys);
        // entries-read as Redis reports it for every group (nil when Redis marked it unknown).
        var groupsInfo = c.Call("XINFO", "GROUPS", "srdb:s1").Items!;
        foreach (var gi in groupsInfo)
        {
            var items = gi.Items!;
            int at = Array.FindIndex(items, x => x.Text == "entries-read") + 1;
            var g = s.LookupGroup(items[1].Bytes!)!;
            Assert.Equal(items[at].IsNull ? -1 : items[at].Integer, g.EntriesRead);
        }

        Assert.Equal(Convert.ToHexString(Body(dump)), Convert.ToHexString(WriteBody(s)));
    }

    [Fact]
    public void Mirrored_in_process_stream_writes_exactly_what_redis_dumps()
    {
        using var c = _f.Redis.Connect();
        c.Call("CONFIG", "SET", "stream-node-max-entries", "10");
        var rnd = new Random(99);
        for (int round = 0; round < 4; round++)
        {
            string key = "srdb:m" + round;
            c.Call("DEL", key);
            var s = new RedisStream();
            var ids = new List<string>();
            ulong ms = 1000;
            for (int op = 0; op < 60; op++)
            {
                int kind = rnd.Next(10);
                if (kind < 7 || ids.Count == 0)
                {
                    ms += (ulong)rnd.Next(0, 3000);
                    string id = $"{ms}-{op}";
                    string[] fv = rnd.Next(3) == 0
                        ? ["x", rnd.Next().ToString(), "y" + rnd.Next(3), new string('q', rnd.Next(400))]
                        : ["a", rnd.Next(-200, 200).ToString(), "b", "v" + rnd.Next(1000)];
                    var args = new List<object> { "XADD", key, id };
                    args.AddRange(fv);
                    c.Call(args.ToArray());
                    Add(s, id, fv);
                    ids.Add(id);
                }
                else if (kind < 9)
                {
                    string id = ids[rnd.Next(ids.Count)];
                    bool redisDeleted = c.Call("XDEL", key, id).Integer == 1;
                    var p = id.Split('-');
                    var sid = new StreamId(ulong.Parse(p[0]), ulong.Parse(p[1]));
                    bool wasFirst = sid == s.FirstId;
                    Assert.Equal(redisDeleted, s.Delete(sid));
                    if (redisDeleted)
                    {
                        if (sid > s.MaxDeletedId) s.MaxDeletedId = sid;
                        if (s.Length == 0) s.FirstId = StreamId.Zero;
                        else if (wasFirst) s.RefreshFirstId();
                    }
                }
                else
                {
                    long keep = Math.Max(0, s.Length - rnd.Next(5));
                    c.Call("XTRIM", key, "MAXLEN", "=", keep.ToString());
                    s.Trim(true, keep, StreamId.Zero, false, 0);
                }
            }
            var body = Body(c.Call("DUMP", key).Bytes!);
            Assert.Equal(Convert.ToHexString(body), Convert.ToHexString(WriteBody(s)));
        }
    }

    [Fact]
    public void Basalt_written_stream_restores_on_redis_with_deep_sanitization()
    {
        using var c = _f.Redis.Connect();
        c.Call("CONFIG", "SET", "sanitize-dump-payload", "yes");
        try
        {
            var s = new RedisStream();
            for (int i = 1; i <= 25; i++)
                Add(s, $"{i * 10}-{i % 3}", i % 4 == 0 ? ["other", "f" + i] : ["name", "n" + i, "n", (i * 7).ToString()]);
            s.Delete(new StreamId(30, 0));
            s.MaxDeletedId = new StreamId(30, 0);
            var g = s.CreateGroup(B("grp"), new StreamId(120, 0), 12)!;
            var ann = g.CreateConsumer(B("ann"), 1_700_000_000_000)!;
            g.CreateConsumer(B("zed"), 1_700_000_000_500);
            foreach (var (id, n) in new[] { (new StreamId(40, 1), 3L), (new StreamId(110, 2), 1L) })
            {
                var nack = new StreamNack(ann, 1_700_000_000_100) { DeliveryCount = n };
                g.Pel.Add(id, nack);
                ann.Pel.Add(id, nack);
            }
            s.CreateGroup(B("fresh"), s.LastId, s.EntriesAdded);

            c.Call("DEL", "srdb:r1");
            var r = c.Call("RESTORE", "srdb:r1", "0", Payload(WriteBody(s)));
            Assert.Equal("OK", r.Text);
            Assert.Equal(Entries(s), Entries(c.Call("XRANGE", "srdb:r1", "-", "+")));
            var info = c.Call("XINFO", "STREAM", "srdb:r1");
            var map = new Dictionary<string, RespValue>();
            for (int k = 0; k + 1 < info.Items!.Length; k += 2) map[info.Items[k].Text!] = info.Items[k + 1];
            Assert.Equal(24, map["length"].Integer);
            Assert.Equal("250-1", map["last-generated-id"].Text);
            Assert.Equal("30-0", map["max-deleted-entry-id"].Text);
            Assert.Equal(25, map["entries-added"].Integer);
            Assert.Equal("10-1", map["recorded-first-entry-id"].Text);
            Assert.Equal(3, map["radix-tree-keys"].Integer);
            var pending = c.Call("XPENDING", "srdb:r1", "grp", "-", "+", "10");
            Assert.Equal(["40-1|ann|3", "110-2|ann|1"], pending.Items!.Select(p => $"{p.Items![0].Text}|{p.Items[1].Text}|{p.Items[3].Integer}"));
            var groups = c.Call("XINFO", "GROUPS", "srdb:r1");
            Assert.Equal(2, groups.Items!.Length);
            // And Redis dumps it back to the very same bytes.
            Assert.Equal(Convert.ToHexString(WriteBody(s)), Convert.ToHexString(Body(c.Call("DUMP", "srdb:r1").Bytes!)));
        }
        finally { c.Call("CONFIG", "SET", "sanitize-dump-payload", "no"); }
    }

    [Fact]
    public void Emptied_stream_with_a_group_and_a_deleted_first_entry_round_trips()
    {
        using var c = _f.Redis.Connect();
        c.Call("DEL", "srdb:e1", "srdb:e2");
        c.Call("XADD", "srdb:e1", "5-1", "a", "1");
        c.Call("XADD", "srdb:e1", "5-2", "b", "2");
        c.Call("XGROUP", "CREATE", "srdb:e1", "g", "0");
        c.Call("XREADGROUP", "GROUP", "g", "x", "STREAMS", "srdb:e1", ">");
        c.Call("XDEL", "srdb:e1", "5-1", "5-2");
        // e2: the block's first entry (which holds the master fields) is deleted, later ones differ.
        c.Call("XADD", "srdb:e2", "7-1", "m", "1", "n", "2");
        c.Call("XADD", "srdb:e2", "7-2", "m", "3", "n", "4");
        c.Call("XADD", "srdb:e2", "7-3", "z", "5");
        c.Call("XDEL", "srdb:e2", "7-1");
        foreach (var key in new[] { "srdb:e1", "srdb:e2" })
        {
            var body = Body(c.Call("DUMP", key).Bytes!);
            var s = ReadBody(body);
            Assert.Equal(Entries(c.Call("XRANGE", key, "-", "+")), Entries(s));
            Assert.Equal(Convert.ToHexString(body), Convert.ToHexString(WriteBody(s)));
        }
    }

    [Fact]
    public void Fuzzed_stream_bodies_only_ever_throw_format_errors()
    {
        using var c = _f.Redis.Connect();
        BuildRedisStream(c, "srdb:fz");
        var body = Body(c.Call("DUMP", "srdb:fz").Bytes!);
        var (ok, rejected) = EncodingTestUtil.Fuzz(body, b => ReadBody(b), 2000, 5);
        Assert.True(rejected > 500, $"ok {ok} rejected {rejected}");
    }
}
