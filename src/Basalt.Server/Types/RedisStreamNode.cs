using System.Buffers.Binary;
using Basalt.Protocol;

namespace Basalt.Server.Types;

/// <summary>
/// One block of consecutive stream entries (Redis keeps a listpack per radix tree key). Entries are packed in one
/// byte array: per entry a field count then length-prefixed fields and values. Deleted entries stay in place,
/// flagged, until the whole block is empty, as in Redis, so block boundaries (which ~ trimming and new-block
/// decisions depend on) follow Redis's.
/// </summary>
public sealed class StreamNode
{
    /// <summary>ID of the first entry added to the block (the radix tree key).</summary>
    public StreamId Master;
    public StreamId[] Ids = new StreamId[4];
    /// <summary>Start of each entry in <see cref="Data"/>.</summary>
    public int[] Offsets = new int[4];
    public bool[] Deleted = new bool[4];
    public byte[] Data = new byte[64];
    public int DataLength;
    /// <summary>Entries stored, deleted ones included.</summary>
    public int Count;
    public int Live;
    public int DeletedCount => Count - Live;
    /// <summary>Size the equivalent listpack would have (Redis starts a new block past stream-node-max-bytes).</summary>
    public long ListpackBytes;

    public StreamNode(StreamId master) => Master = master;

    public void Append(StreamId id, FieldReader fields)
    {
        if (Count == Ids.Length)
        {
            int n = Count * 2;
            Array.Resize(ref Ids, n);
            Array.Resize(ref Offsets, n);
            Array.Resize(ref Deleted, n);
        }
        int need = 5;
        for (int i = 0; i < fields.Count; i++) need += 5 + fields.Get(i).Length;
        if (DataLength + need > Data.Length) Array.Resize(ref Data, Math.Max(Data.Length * 2, DataLength + need));
        Ids[Count] = id;
        Offsets[Count] = DataLength;
        Deleted[Count] = false;
        DataLength += WriteVarint(Data.AsSpan(DataLength), (uint)(fields.Count / 2));
        for (int i = 0; i < fields.Count; i++)
        {
            var f = fields.Get(i);
            DataLength += WriteVarint(Data.AsSpan(DataLength), (uint)f.Length);
            f.CopyTo(Data.AsSpan(DataLength));
            DataLength += f.Length;
        }
        AccountListpack(id, fields);
        Count++;
        Live++;
    }

    /// <summary>Index of the entry with this ID (deleted or not), or ~insertion point.</summary>
    public int Find(StreamId id) => Array.BinarySearch(Ids, 0, Count, id);

    /// <summary>First stored index whose ID is at least <paramref name="id"/>.</summary>
    public int LowerBound(StreamId id)
    {
        int i = Find(id);
        return i >= 0 ? i : ~i;
    }

    public StreamId LastStoredId => Ids[Count - 1];

    /// <summary>Writes entry <paramref name="i"/> as Redis replies it: [id, [field, value, ...]].</summary>
    public void WriteEntry(RespWriter w, int i)
    {
        w.WriteArrayHeader(2);
        WriteId(w, Ids[i]);
        WriteFields(w, i);
    }

    public void WriteFields(RespWriter w, int i)
    {
        var d = Data.AsSpan(Offsets[i]);
        int p = ReadVarint(d, out uint pairs);
        w.WriteArrayHeader(pairs * 2);
        for (uint k = 0; k < pairs * 2; k++)
        {
            p += ReadVarint(d[p..], out uint len);
            w.WriteBulk(d.Slice(p, (int)len));
            p += (int)len;
        }
    }

    public static void WriteId(RespWriter w, StreamId id)
    {
        Span<byte> buf = stackalloc byte[48];
        w.WriteBulk(buf[..id.Format(buf)]);
    }

    /// <summary>Copies the entry's fields (for Clone).</summary>
    public ReadOnlySpan<byte> RawEntry(int i)
    {
        int end = i + 1 < Count ? Offsets[i + 1] : DataLength;
        return Data.AsSpan(Offsets[i], end - Offsets[i]);
    }

    public StreamNode Clone()
    {
        var n = (StreamNode)MemberwiseClone();
        n.Ids = (StreamId[])Ids.Clone();
        n.Offsets = (int[])Offsets.Clone();
        n.Deleted = (bool[])Deleted.Clone();
        n.Data = (byte[])Data.Clone();
        return n;
    }

    public long MemoryBytes => 64 + Ids.Length * 16L + Offsets.Length * 4L + Deleted.Length + Data.Length;

    // --- listpack size accounting (only for the block-splitting rule) ---

    private void AccountListpack(StreamId id, FieldReader fields)
    {
        int nfields = fields.Count / 2;
        bool same = true;
        if (Count == 0)
        {
            // The first entry's fields become the block's master fields: header + end byte; count, deleted,
            // field count, the fields, terminator.
            ListpackBytes = 7 + LpInt(1) + LpInt(0) + LpInt(nfields) + LpInt(0);
            for (int k = 0; k < nfields; k++) ListpackBytes += LpString(fields.Get(2 * k));
        }
        else same = SameFieldsAsMaster(fields);
        long size = LpInt(2) + LpInt(unchecked((long)(id.Ms - Master.Ms))) + LpInt(unchecked((long)(id.Seq - Master.Seq)));
        if (same)
        {
            for (int k = 0; k < nfields; k++) size += LpString(fields.Get(2 * k + 1));
            size += LpInt(nfields);
        }
        else
        {
            size += LpInt(nfields);
            for (int k = 0; k < fields.Count; k++) size += LpString(fields.Get(k));
            size += LpInt(nfields * 2 + 1);
        }
        ListpackBytes += size;
    }

    /// <summary>True when the entry has exactly the first entry's fields, in order (Redis then stores only values).</summary>
    private bool SameFieldsAsMaster(FieldReader fields)
    {
        var d = Data.AsSpan(Offsets[0]);
        int p = ReadVarint(d, out uint pairs);
        if (pairs != fields.Count / 2) return false;
        for (int k = 0; k < pairs; k++)
        {
            p += ReadVarint(d[p..], out uint flen);
            if (!d.Slice(p, (int)flen).SequenceEqual(fields.Get(2 * k))) return false;
            p += (int)flen;
            p += ReadVarint(d[p..], out uint vlen);
            p += (int)vlen;
        }
        return true;
    }

    private static long LpInt(long v)
    {
        int enc = v switch
        {
            >= 0 and <= 127 => 1,
            >= -4096 and <= 4095 => 2,
            >= short.MinValue and <= short.MaxValue => 3,
            >= -8388608 and <= 8388607 => 4,
            >= int.MinValue and <= int.MaxValue => 5,
            _ => 9,
        };
        return enc + 1;
    }

    private static long LpString(ReadOnlySpan<byte> s)
    {
        if (s.Length <= 20 && RespNumbers.TryParseInt64(s, out long v)) return LpInt(v);
        long enc = s.Length < 64 ? 1 + s.Length : s.Length < 4096 ? 2 + s.Length : 5 + s.Length;
        int back = enc < 128 ? 1 : enc < 16384 ? 2 : enc < 2097152 ? 3 : enc < 268435456 ? 4 : 5;
        return enc + back;
    }

    private static int WriteVarint(Span<byte> d, uint v)
    {
        int n = 0;
        while (v >= 0x80) { d[n++] = (byte)(v | 0x80); v >>= 7; }
        d[n++] = (byte)v;
        return n;
    }

    private static int ReadVarint(ReadOnlySpan<byte> d, out uint v)
    {
        v = 0;
        int shift = 0, n = 0;
        while (true)
        {
            byte b = d[n++];
            v |= (uint)(b & 0x7f) << shift;
            if (b < 0x80) return n;
            shift += 7;
        }
    }

    internal static int ReadVarintPublic(ReadOnlySpan<byte> d, out uint v) => ReadVarint(d, out v);
    internal static void WriteKey(Span<byte> dest, StreamId id) => id.WriteKey(dest);
    internal static ulong ReadBE(ReadOnlySpan<byte> s) => BinaryPrimitives.ReadUInt64BigEndian(s);
}

/// <summary>The field/value arguments of an XADD (or a copied entry), without copying them.</summary>
public readonly ref struct FieldReader
{
    private readonly Commands.CommandContext? _ctx;
    private readonly int _first;
    private readonly ReadOnlySpan<byte> _raw;
    private readonly int[]? _rawOffsets;

    public FieldReader(Commands.CommandContext ctx, int first, int count)
    {
        _ctx = ctx;
        _first = first;
        Count = count;
    }

    /// <summary>Reads a packed entry as stored in a <see cref="StreamNode"/>.</summary>
    public FieldReader(ReadOnlySpan<byte> raw)
    {
        _raw = raw;
        int p = StreamNode.ReadVarintPublic(raw, out uint pairs);
        Count = (int)pairs * 2;
        _rawOffsets = new int[Count * 2];
        for (int k = 0; k < Count; k++)
        {
            p += StreamNode.ReadVarintPublic(raw[p..], out uint len);
            _rawOffsets[2 * k] = p;
            _rawOffsets[2 * k + 1] = (int)len;
            p += (int)len;
        }
    }

    /// <summary>Number of fields plus values.</summary>
    public int Count { get; }

    public ReadOnlySpan<byte> Get(int i) =>
        _ctx is not null ? _ctx.Arg(_first + i) : _raw.Slice(_rawOffsets![2 * i], _rawOffsets[2 * i + 1]);
}
