using System.Buffers.Binary;
using Basalt.Server.Persistence.Rdb.Encodings;
using Basalt.Server.Types;

namespace Basalt.Server.Persistence.Rdb;

/// <summary>
/// Streams in RDB: RDB_TYPE_STREAM_LISTPACKS (15), _2 (19) and _3 (21), with consumer groups and PELs.
/// Each block is written as Redis keeps it: its 16-byte big-endian master ID, then a listpack holding the master
/// entry (live count, deleted count, master fields, 0) and per entry flags, ID deltas, fields or values, and an
/// element count, so Redis can load what Basalt writes and the other way round.
/// </summary>
public static class RdbStreamCodec
{
    /// <summary>The type byte this writer uses (19 for RDB version 10).</summary>
    public const byte WriteType = 19;

    public const byte TypeListpacks = 15;
    public const byte TypeListpacks2 = 19;
    public const byte TypeListpacks3 = 21;

    // Entry flags inside a block listpack.
    private const int FlagDeleted = 1;
    private const int FlagSameFields = 2;

    /// <summary>Writes the body that follows the type byte.</summary>
    public static void Write(RdbOutput o, RedisStream s)
    {
        o.WriteLength((ulong)s.Nodes.Count);
        Span<byte> key = stackalloc byte[16];
        foreach (var node in s.Nodes)
        {
            node.Master.WriteKey(key);
            o.WriteString(key);
            o.WriteString(BuildNodeListpack(node));
        }
        o.WriteLength((ulong)s.Length);
        WriteId(o, s.LastId);
        WriteId(o, s.FirstId);
        WriteId(o, s.MaxDeletedId);
        o.WriteLength((ulong)s.EntriesAdded);

        o.WriteLength((ulong)s.Groups.Count);
        foreach (var g in s.Groups)
        {
            o.WriteString(g.Name);
            WriteId(o, g.LastId);
            o.WriteLength(unchecked((ulong)g.EntriesRead));
            o.WriteLength((ulong)g.Pel.Count);
            foreach (var (id, nack) in g.Pel)
            {
                WriteRawId(o, id, key);
                o.WriteUInt64LE(unchecked((ulong)nack.DeliveryTime));
                o.WriteLength((ulong)nack.DeliveryCount);
            }
            o.WriteLength((ulong)g.Consumers.Count);
            foreach (var c in g.Consumers)
            {
                o.WriteString(c.Name);
                o.WriteUInt64LE(unchecked((ulong)c.SeenTime));
                o.WriteLength((ulong)c.Pel.Count);
                foreach (var id in c.Pel.Keys) WriteRawId(o, id, key);
            }
        }
    }

    private static void WriteId(RdbOutput o, StreamId id)
    {
        o.WriteLength(id.Ms);
        o.WriteLength(id.Seq);
    }

    private static void WriteRawId(RdbOutput o, StreamId id, Span<byte> scratch)
    {
        id.WriteKey(scratch);
        o.WriteRaw(scratch);
    }

    /// <summary>The listpack Redis would hold for this block.</summary>
    public static byte[] BuildNodeListpack(StreamNode node)
    {
        var lp = new ListpackBuilder((int)Math.Min(node.ListpackBytes + 16, 1 << 20));
        var master = new FieldReader(node.RawEntry(0));
        int masterFields = master.Count / 2;
        lp.Append(node.Live);
        lp.Append(node.DeletedCount);
        lp.Append(masterFields);
        for (int k = 0; k < masterFields; k++) lp.Append(master.Get(2 * k));
        lp.Append(0);
        for (int i = 0; i < node.Count; i++)
        {
            var f = i == 0 ? master : new FieldReader(node.RawEntry(i));
            int n = f.Count / 2;
            bool same = n == masterFields;
            for (int k = 0; same && k < n; k++) same = f.Get(2 * k).SequenceEqual(master.Get(2 * k));
            var id = node.Ids[i];
            lp.Append((same ? FlagSameFields : 0) | (node.Deleted[i] ? FlagDeleted : 0));
            lp.Append(unchecked((long)(id.Ms - node.Master.Ms)));
            lp.Append(unchecked((long)(id.Seq - node.Master.Seq)));
            if (same)
            {
                for (int k = 0; k < n; k++) lp.Append(f.Get(2 * k + 1));
                lp.Append(n + 3);
            }
            else
            {
                lp.Append(n);
                for (int k = 0; k < f.Count; k++) lp.Append(f.Get(k));
                lp.Append(2 * n + 4);
            }
        }
        return lp.ToArray();
    }

    /// <summary>Reads the body that follows a stream type byte (15, 19 or 21).</summary>
    public static RedisStream Read(RdbInput i, byte rdbType)
    {
        if (rdbType is not (TypeListpacks or TypeListpacks2 or TypeListpacks3)) throw i.Error($"Not a stream type {rdbType}");
        var s = new RedisStream();
        int nodes = i.ReadCount();
        StreamId? prev = null;
        long live = 0;
        for (int n = 0; n < nodes; n++)
        {
            var key = i.ReadString();
            if (key.Length != 16) throw i.Error("Stream node key entry is not the size of a stream ID");
            var master = new StreamId(BinaryPrimitives.ReadUInt64BigEndian(key), BinaryPrimitives.ReadUInt64BigEndian(key.AsSpan(8)));
            var lp = i.ReadString();
            var node = ParseNode(i, master, lp, ref prev);
            if (node.Live == 0) continue; // Redis drops a block once its last live entry goes; nothing to keep
            live += node.Live;
            s.Nodes.Add(node);
        }

        s.Length = (long)ReadLen(i);
        s.LastId = ReadId(i);
        if (s.Length != live) throw i.Error("Stream length inconsistent with its entries");
        if (prev is { } top && top > s.LastId) throw i.Error("Stream last ID is smaller than an entry ID");
        if (rdbType >= TypeListpacks2)
        {
            s.FirstId = ReadId(i);
            s.MaxDeletedId = ReadId(i);
            s.EntriesAdded = (long)ReadLen(i);
        }
        else
        {
            // Older files lack these: derive them the way Redis does on load.
            s.MaxDeletedId = StreamId.Zero;
            s.EntriesAdded = s.Length;
            s.RefreshFirstId();
        }

        int groups = i.ReadCount();
        Span<byte> raw = stackalloc byte[16];
        for (int gi = 0; gi < groups; gi++)
        {
            var name = i.ReadString();
            var lastId = ReadId(i);
            long entriesRead = rdbType >= TypeListpacks2
                ? unchecked((long)i.ReadLength())
                : s.EstimateDistanceFromFirstEverEntry(lastId);
            var g = s.CreateGroup(name, lastId, entriesRead) ?? throw i.Error("Duplicated consumer group name");

            int pel = i.ReadCount();
            for (int k = 0; k < pel; k++)
            {
                var id = ReadRawId(i, raw);
                long time = unchecked((long)i.ReadUInt64LE());
                long count = (long)ReadLen(i);
                if (!g.Pel.TryAdd(id, new StreamNack(null, time) { DeliveryCount = count }))
                    throw i.Error("Duplicated global PEL entry loading stream consumer group");
            }

            int consumers = i.ReadCount();
            for (int k = 0; k < consumers; k++)
            {
                var cname = i.ReadString();
                long seen = unchecked((long)i.ReadUInt64LE());
                if (rdbType >= TypeListpacks3) i.ReadUInt64LE(); // active time (Redis 7.2); 7.0 has no such field
                var c = g.CreateConsumer(cname, seen) ?? throw i.Error("Duplicated consumer name");
                int cpel = i.ReadCount();
                for (int e = 0; e < cpel; e++)
                {
                    var id = ReadRawId(i, raw);
                    if (!g.Pel.TryGetValue(id, out var nack)) throw i.Error("Consumer entry not found in group global PEL");
                    if (nack.Consumer is not null) throw i.Error("Duplicated consumer PEL entry");
                    nack.Consumer = c;
                    c.Pel.Add(id, nack);
                }
            }
            foreach (var nack in g.Pel.Values)
                if (nack.Consumer is null) throw i.Error("Stream PEL entry without a consumer");
        }
        return s;
    }

    private static ulong ReadLen(RdbInput i) => i.ReadLength();

    private static StreamId ReadId(RdbInput i)
    {
        ulong ms = i.ReadLength();
        ulong seq = i.ReadLength();
        return new StreamId(ms, seq);
    }

    private static StreamId ReadRawId(RdbInput i, Span<byte> raw)
    {
        i.ReadExactly(raw);
        return new StreamId(BinaryPrimitives.ReadUInt64BigEndian(raw), BinaryPrimitives.ReadUInt64BigEndian(raw[8..]));
    }

    /// <summary>Parses and validates one block listpack; <paramref name="prev"/> is the last ID seen so far (IDs must grow).</summary>
    private static StreamNode ParseNode(RdbInput i, StreamId master, byte[] lp, ref StreamId? prev)
    {
        List<ListpackEntry> e;
        try { e = Listpack.Read(lp); }
        catch (RdbFormatException ex) { throw i.Error("Stream listpack integrity check failed: " + ex.Message); }
        if (e.Count == 0) throw i.Error("Empty listpack inside stream");
        if (prev is { } p0 && master <= p0) throw i.Error("Stream node IDs out of order");

        int at = 0;
        long Int()
        {
            if (at >= e.Count) throw i.Error("Stream listpack truncated");
            if (!e[at++].TryGetInt(out long v)) throw i.Error("Stream listpack integer expected");
            return v;
        }
        byte[] Str()
        {
            if (at >= e.Count) throw i.Error("Stream listpack truncated");
            return e[at++].ToBytes();
        }

        long validCount = Int();
        long deletedCount = Int();
        long masterFieldCount = Int();
        if (masterFieldCount < 0 || masterFieldCount > e.Count) throw i.Error("Stream master field count invalid");
        var masterFields = new byte[masterFieldCount][];
        for (int k = 0; k < masterFieldCount; k++) masterFields[k] = Str();
        if (Int() != 0) throw i.Error("Stream master entry terminator missing");

        var node = new StreamNode(master);
        var packed = new List<byte[]>();
        long seenValid = 0, seenDeleted = 0;
        while (at < e.Count)
        {
            long flags = Int();
            if ((flags & ~(long)(FlagDeleted | FlagSameFields)) != 0) throw i.Error("Stream entry flags invalid");
            var id = new StreamId(unchecked(master.Ms + (ulong)Int()), unchecked(master.Seq + (ulong)Int()));
            if (id < master) throw i.Error("Stream entry ID below its node's master ID");
            if (prev is { } p && id <= p) throw i.Error("Stream entry IDs out of order");
            prev = id;
            packed.Clear();
            long fields;
            if ((flags & FlagSameFields) != 0)
            {
                fields = masterFieldCount;
                for (int k = 0; k < fields; k++) { packed.Add(masterFields[k]); packed.Add(Str()); }
                if (Int() != fields + 3) throw i.Error("Stream entry element count mismatch");
            }
            else
            {
                fields = Int();
                if (fields < 0 || fields > e.Count) throw i.Error("Stream entry field count invalid");
                for (int k = 0; k < fields * 2; k++) packed.Add(Str());
                if (Int() != 2 * fields + 4) throw i.Error("Stream entry element count mismatch");
            }
            node.Append(id, new FieldReader(Pack(packed)));
            if ((flags & FlagDeleted) != 0)
            {
                node.Deleted[node.Count - 1] = true;
                node.Live--;
                seenDeleted++;
            }
            else seenValid++;
        }
        if (node.Count == 0) throw i.Error("Stream node without entries");
        if (seenValid != validCount || seenDeleted != deletedCount) throw i.Error("Stream node counts inconsistent with its entries");
        // Redis keeps the listpack as loaded; its size drives when the next block starts.
        node.ListpackBytes = lp.Length;
        return node;
    }

    /// <summary>An entry (field, value, ...) in <see cref="StreamNode"/>'s packed form, for <see cref="FieldReader(ReadOnlySpan{byte})"/>.</summary>
    public static byte[] PackEntry(IReadOnlyList<byte[]> items) => Pack(items);

    /// <summary>An entry in <see cref="StreamNode"/>'s packed form: varint pair count, then varint-length-prefixed strings.</summary>
    private static byte[] Pack(IReadOnlyList<byte[]> items)
    {
        int size = 5;
        foreach (var x in items) size += 5 + x.Length;
        var buf = new byte[size];
        int n = Varint(buf, 0, (uint)(items.Count / 2));
        foreach (var x in items)
        {
            n = Varint(buf, n, (uint)x.Length);
            x.CopyTo(buf, n);
            n += x.Length;
        }
        return buf.AsSpan(0, n).ToArray();
    }

    private static int Varint(byte[] d, int n, uint v)
    {
        while (v >= 0x80) { d[n++] = (byte)(v | 0x80); v >>= 7; }
        d[n++] = (byte)v;
        return n;
    }
}
