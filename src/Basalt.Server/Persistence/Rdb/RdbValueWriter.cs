using Basalt.Protocol;
using Basalt.Server.Persistence.Rdb.Encodings;
using Basalt.Server.Types;

namespace Basalt.Server.Persistence.Rdb;

/// <summary>
/// Serializes one in-memory value as Redis 7.0 (RDB version 10) does: the type byte, then the body.
/// Lists are QUICKLIST_2 of listpack nodes; hashes/sets/zsets keep their compact encoding when they have one.
/// </summary>
public static class RdbValueWriter
{
    /// <summary>Type byte and body (a DUMP payload's object part).</summary>
    public static void Write(RdbOutput o, object value)
    {
        o.WriteByte(TypeOf(value));
        WriteBody(o, value);
    }

    /// <summary>The body that follows the type byte (in a file, the key comes between them).</summary>
    public static void WriteBody(RdbOutput o, object value)
    {
        switch (value)
        {
            case byte[] s: o.WriteString(s); break;
            case GrowableString g: o.WriteString(g.Span); break;
            case RedisList l: WriteList(o, l); break;
            case RedisHash h: WriteHash(o, h); break;
            case HashPackByte[]: WriteHash(o, RedisHash.Readable(value)!); break;
            case RedisSet s: WriteSet(o, s); break;
            case RedisSortedSet z: WriteZSet(o, z); break;
            case ZSetPackByte[]: WriteZSet(o, RedisSortedSet.Readable(value)!); break;
            case RedisStream st: RdbStreamCodec.Write(o, st); break;
            default: throw new InvalidOperationException($"Cannot serialize a {value?.GetType().Name ?? "null"} value");
        }
    }

    /// <summary>The RDB type byte <see cref="Write"/> uses for <paramref name="value"/>.</summary>
    public static byte TypeOf(object value) => value switch
    {
        byte[] or GrowableString => RdbConstants.TypeString,
        RedisList => RdbConstants.TypeListQuicklist2,
        RedisHash h => h.IsListpack ? RdbConstants.TypeHashListpack : RdbConstants.TypeHash,
        HashPackByte[] => RdbConstants.TypeHashListpack,
        RedisSet s => s.IsIntset ? RdbConstants.TypeSetIntset : RdbConstants.TypeSet,
        RedisSortedSet z => z.IsListpack ? RdbConstants.TypeZSetListpack : RdbConstants.TypeZSet2,
        ZSetPackByte[] => RdbConstants.TypeZSetListpack,
        RedisStream => RdbStreamCodec.WriteType,
        _ => throw new InvalidOperationException("Unknown value type"),
    };

    private static void WriteList(RdbOutput o, RedisList l)
    {
        // One listpack per in-memory node: our nodes follow list-max-listpack-size like Redis's quicklist does,
        // and Redis keeps the node boundaries it loads.
        int nodes = 0;
        for (int i = 0; i < l.NodeCount; i++) if (PackedNode.Count(l.NodeAt(i)) > 0) nodes++;
        o.WriteLength((ulong)nodes);
        for (int i = 0; i < l.NodeCount; i++)
        {
            var node = l.NodeAt(i);
            int count = PackedNode.Count(node);
            if (count == 0) continue;
            var lp = new ListpackBuilder();
            int used = PackedNode.Used(node), p = PackedNode.Header;
            while (p < used) lp.Append(PackedNode.Read(node, p, out p));
            o.WriteLength(RdbConstants.QuicklistNodePacked);
            o.WriteString(lp.ToArray());
        }
    }

    private static void WriteHash(RdbOutput o, RedisHash h)
    {
        if (h.IsListpack)
        {
            var lp = new ListpackBuilder();
            var e = h.GetEnumerator();
            while (e.MoveNext()) { lp.Append(e.Field); lp.Append(e.Value); }
            o.WriteString(lp.ToArray());
            return;
        }
        o.WriteLength((ulong)h.Count);
        var it = h.GetEnumerator();
        while (it.MoveNext()) { o.WriteString(it.Field); o.WriteString(it.Value); }
    }

    private static void WriteSet(RdbOutput o, RedisSet s)
    {
        if (s.IsIntset)
        {
            var vals = new long[s.Count];
            for (int i = 0; i < vals.Length; i++) vals[i] = s.IntAt(i);
            o.WriteString(Intset.Encode(vals));
            return;
        }
        o.WriteLength((ulong)s.Count);
        var e = s.GetEnumerator();
        while (e.MoveNext()) o.WriteString(e.Current);
    }

    private static void WriteZSet(RdbOutput o, RedisSortedSet z)
    {
        if (z.IsListpack)
        {
            var items = new List<ZItem>(z.Count);
            z.CollectAll(items);
            var lp = new ListpackBuilder();
            Span<byte> num = stackalloc byte[32];
            foreach (var it in items)
            {
                lp.Append(it.Member);
                lp.Append(num[..FormatScore(it.Score, num)]);
            }
            o.WriteString(lp.ToArray());
            return;
        }
        var sl = z.SkipList!;
        o.WriteLength((ulong)sl.Count);
        // Highest first, as Redis writes them (its loader then inserts each at the head cheaply).
        for (int n = sl.Last; n != 0; n = sl.Prev(n))
        {
            o.WriteString(sl.MemberOf(n));
            o.WriteBinaryDouble(sl.ScoreOf(n));
        }
    }

    /// <summary>
    /// A score as Redis puts it in a zset listpack: integral values in the exactly representable range as
    /// integers (so the listpack stores them with an integer encoding), others as %.17g.
    /// </summary>
    internal static int FormatScore(double d, Span<byte> dest)
    {
        if (d > -4503599627370496.0 && d < 4503599627370496.0 && d == Math.Truncate(d))
            return RespNumbers.FormatInt64((long)d, dest);
        return RespNumbers.FormatDouble(d, dest);
    }
}
