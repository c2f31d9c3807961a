using System.Text;
using Basalt.Server.Persistence.Rdb;
using Basalt.Server.Types;

namespace Basalt.Tests.Persistence;

/// <summary>
/// Stream bodies written by hand: the older (15) and newer (21) stream types load with Redis's defaults, and
/// inconsistent bodies (bad node keys, out-of-order IDs, PELs that do not match) are refused.
/// </summary>
public class StreamRdbFormatTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static RedisStream Sample()
    {
        var s = new RedisStream();
        for (int i = 1; i <= 12; i++)
        {
            var raw = RdbStreamCodec.PackEntry(new[] { B("f"), B("v" + i) });
            s.Append(new StreamId(10 + (ulong)i, 0), new FieldReader(raw), 4096, 5);
        }
        s.Delete(new StreamId(11, 0));
        s.RefreshFirstId();
        return s;
    }

    private sealed record Pel(StreamId Id, long Time, long Count);

    /// <summary>A stream body of the given type with one group "g" (PEL and consumers as given); knobs to break it.</summary>
    private static byte[] Body(RedisStream s, byte type, Pel[] groupPel, (string Name, StreamId[] Ids)[] consumers,
        long? lengthOverride = null, byte[]? firstKeyOverride = null, int extraGroups = 0, StreamId? groupLast = null)
    {
        var ms = new MemoryStream();
        var o = new RdbOutput(ms, compress: false);
        o.WriteLength((ulong)s.Nodes.Count);
        var key = new byte[16];
        bool first = true;
        foreach (var n in s.Nodes)
        {
            n.Master.WriteKey(key);
            o.WriteString(first && firstKeyOverride is not null ? firstKeyOverride : key);
            first = false;
            o.WriteString(RdbStreamCodec.BuildNodeListpack(n));
        }
        o.WriteLength((ulong)(lengthOverride ?? s.Length));
        o.WriteLength(s.LastId.Ms); o.WriteLength(s.LastId.Seq);
        if (type >= 19)
        {
            o.WriteLength(s.FirstId.Ms); o.WriteLength(s.FirstId.Seq);
            o.WriteLength(s.MaxDeletedId.Ms); o.WriteLength(s.MaxDeletedId.Seq);
            o.WriteLength((ulong)s.EntriesAdded);
        }
        o.WriteLength((ulong)(1 + extraGroups));
        for (int g = 0; g <= extraGroups; g++)
        {
            o.WriteString(B("g"));
            var gl = groupLast ?? Id14;
            o.WriteLength(gl.Ms); o.WriteLength(gl.Seq);
            if (type >= 19) o.WriteLength(3);
            o.WriteLength((ulong)(g == 0 ? groupPel.Length : 0));
            if (g == 0)
                foreach (var p in groupPel)
                {
                    p.Id.WriteKey(key); o.WriteRaw(key);
                    o.WriteUInt64LE((ulong)p.Time);
                    o.WriteLength((ulong)p.Count);
                }
            o.WriteLength((ulong)(g == 0 ? consumers.Length : 0));
            if (g == 0)
                foreach (var (name, ids) in consumers)
                {
                    o.WriteString(B(name));
                    o.WriteUInt64LE(1234);
                    if (type >= 21) o.WriteUInt64LE(5678);
                    o.WriteLength((ulong)ids.Length);
                    foreach (var id in ids) { id.WriteKey(key); o.WriteRaw(key); }
                }
        }
        o.Flush();
        return ms.ToArray();
    }

    private static RedisStream Load(byte[] body, byte type)
    {
        var i = new RdbInput(body, 0, body.Length);
        var s = RdbStreamCodec.Read(i, type);
        Assert.Equal(body.Length, i.Position);
        return s;
    }

    private static readonly StreamId Id13 = new(13, 0), Id14 = new(14, 0);

    [Fact]
    public void Type_15_fills_in_counters_like_redis()
    {
        var body = Body(Sample(), 15, [new Pel(Id13, 100, 2)], [("c", [Id13])]);
        var s = Load(body, 15);
        Assert.Equal(11, s.Length);
        Assert.Equal(11, s.EntriesAdded); // unknown history: taken as the length
        Assert.Equal(new StreamId(12, 0), s.FirstId);
        Assert.Equal(StreamId.Zero, s.MaxDeletedId);
        var g = s.LookupGroup(B("g"))!;
        // Redis estimates entries-read only at the edges: unknown (-1) for a group in the middle...
        Assert.Equal(-1, g.EntriesRead);
        Assert.Equal(2, g.Pel[Id13].DeliveryCount);
        Assert.Equal(100, g.Pel[Id13].DeliveryTime);
        Assert.Equal(1234, g.Consumers[0].SeenTime);
        // ...and everything for a group at the last ID.
        var atEnd = Load(Body(Sample(), 15, [], [], groupLast: new StreamId(22, 0)), 15);
        Assert.Equal(11, atEnd.Groups[0].EntriesRead);
    }

    [Fact]
    public void Type_21_skips_the_consumer_active_time()
    {
        var body = Body(Sample(), 21, [new Pel(Id13, 100, 1), new Pel(Id14, 200, 4)], [("a", [Id14]), ("b", [Id13])]);
        var s = Load(body, 21);
        var g = s.LookupGroup(B("g"))!;
        Assert.Equal(3, g.EntriesRead);
        Assert.Equal(["a", "b"], g.Consumers.Select(c => Encoding.UTF8.GetString(c.Name)));
        Assert.Same(g.Consumers[1], g.Pel[Id13].Consumer);
        Assert.Equal(1234, g.Consumers[1].SeenTime);
        Assert.Equal(new StreamId(22, 0), s.LastId);
        Assert.Equal(new StreamId(12, 0), s.FirstId);
        Assert.Equal(3, s.Nodes.Count);
        Assert.Equal(new[] { 4, 5, 2 }, s.Nodes.Select(n => n.Live));
    }

    [Fact]
    public void Type_19_round_trips_through_the_writer()
    {
        var s0 = Sample();
        var body = Body(s0, 19, [new Pel(Id13, 100, 1)], [("c", [Id13])]);
        var s = Load(body, 19);
        var ms = new MemoryStream();
        var o = new RdbOutput(ms, compress: false);
        RdbStreamCodec.Write(o, s);
        o.Flush();
        Assert.Equal(Convert.ToHexString(body), Convert.ToHexString(ms.ToArray()));
    }

    [Fact]
    public void Consumer_pel_entry_missing_from_the_group_pel_is_refused()
    {
        var body = Body(Sample(), 19, [new Pel(Id13, 100, 1)], [("c", [Id13, Id14])]);
        Assert.Throws<RdbFormatException>(() => Load(body, 19));
    }

    [Fact]
    public void Group_pel_entry_without_a_consumer_is_refused()
    {
        var body = Body(Sample(), 19, [new Pel(Id13, 100, 1), new Pel(Id14, 1, 1)], [("c", [Id13])]);
        Assert.Throws<RdbFormatException>(() => Load(body, 19));
    }

    [Fact]
    public void Pel_entry_owned_twice_is_refused()
    {
        var body = Body(Sample(), 19, [new Pel(Id13, 100, 1)], [("a", [Id13]), ("b", [Id13])]);
        Assert.Throws<RdbFormatException>(() => Load(body, 19));
    }

    [Fact]
    public void Duplicate_pel_consumer_and_group_names_are_refused()
    {
        Assert.Throws<RdbFormatException>(() => Load(Body(Sample(), 19, [new Pel(Id13, 1, 1), new Pel(Id13, 1, 1)], [("c", [Id13])]), 19));
        Assert.Throws<RdbFormatException>(() => Load(Body(Sample(), 19, [new Pel(Id13, 1, 1)], [("c", [Id13]), ("c", [])]), 19));
        Assert.Throws<RdbFormatException>(() => Load(Body(Sample(), 19, [], [], extraGroups: 1), 19));
    }

    [Fact]
    public void Wrong_length_and_bad_node_keys_are_refused()
    {
        Assert.Throws<RdbFormatException>(() => Load(Body(Sample(), 19, [], [], lengthOverride: 12), 19));
        Assert.Throws<RdbFormatException>(() => Load(Body(Sample(), 19, [], [], firstKeyOverride: new byte[15]), 19));
        // A first node key above its entries' IDs breaks the ordering.
        var high = new byte[16];
        new StreamId(100, 0).WriteKey(high);
        Assert.Throws<RdbFormatException>(() => Load(Body(Sample(), 19, [], [], firstKeyOverride: high), 19));
    }

    [Fact]
    public void Unknown_stream_type_is_refused()
    {
        var body = Body(Sample(), 19, [], []);
        Assert.Throws<RdbFormatException>(() => Load(body, 16));
    }
}
