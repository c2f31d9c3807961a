using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Basalt.Protocol;
using Basalt.Server.Keyspace;

namespace Basalt.Server.Types;

/// <summary>One element as read out of a sorted set: the member is a slice of a buffer that must not outlive the next write.</summary>
public readonly struct ZItem
{
    public readonly byte[] Buf;
    public readonly int Off, Len;
    public readonly double Score;

    public ZItem(byte[] buf, int off, int len, double score) { Buf = buf; Off = off; Len = len; Score = score; }

    public ReadOnlySpan<byte> Member => new(Buf, Off, Len);
    public byte[] CopyMember() => Member.ToArray();
}

[Flags]
public enum ZAddFlags { None = 0, NX = 1, XX = 2, GT = 4, LT = 8, Incr = 16 }

public enum ZAddOutcome { Nop, Unchanged, Updated, Added, NaN }

/// <summary>
/// A Redis sorted set. Small sets are "listpack": ONE byte[], a u16 entry count then entries sorted by (score, member), each
/// [varint (len*2 | intScore)][member][score as zigzag varint when integral, else 8-byte double]. Past
/// zset-max-listpack-entries/value they become a <see cref="ZSkipList"/> ("skiplist"), never going back
/// except when a store command builds a fresh set.
/// </summary>
public sealed partial class RedisSortedSet : IRedisValue, IDigestible
{
    private object _data = EmptyLp; // listpack (a ZSetPackByte[] seen as byte[]) or ZSkipList

    // A listpack is kept in the keyspace as is, without this wrapper (24 bytes a key saved): an array of
    // ZSetPackByte, so that `is` tells it from a string's byte[], handled as the byte[] it is laid out like.
    // Commands get a RedisSortedSet view of it (CommandContext.TryLookup, or Readable/Writable where a command
    // looks keys up itself); a view bound to a slot stores every new array, or the skiplist a conversion makes,
    // back into that slot.
    private KeySlot _slot;

    public RedisSortedSet() { }

    private RedisSortedSet(object data) => _data = data;

    private static byte[] NewPack(int length) => Unsafe.As<byte[]>(new ZSetPackByte[length]);

    /// <summary>True for a listpack sorted set stored in the keyspace without its wrapper.</summary>
    public static bool IsPack(object? value) => value is ZSetPackByte[];

    /// <summary>The keyspace value for a set built outside the keyspace (store commands, loading, COPY).</summary>
    public object Stored => _data is ZSkipList ? this : _data;

    /// <summary>A stored sorted set value (bare listpack or RedisSortedSet) as a RedisSortedSet not bound to any slot, for readers.</summary>
    public static RedisSortedSet? Readable(object? value) => value as RedisSortedSet ?? (value is ZSetPackByte[] p ? new RedisSortedSet(p) : null);

    /// <summary>The sorted set stored at <paramref name="key"/> (which must exist) as a view that writes changes back there; null for another type.</summary>
    public static RedisSortedSet? Writable(KeyTable<object> table, ReadOnlySpan<byte> key)
    {
        var slot = KeySlot.Of(table, key);
        var value = slot.Value;
        if (value is RedisSortedSet z) return z;
        if (value is not ZSetPackByte[]) return null;
        var view = new RedisSortedSet();
        view.Bind(value, slot);
        return view;
    }

    /// <summary>Points this view at a bare listpack; writes go back to <paramref name="slot"/> when it is bound.</summary>
    internal void Bind(object pack, KeySlot slot)
    {
        _data = pack;
        _slot = slot;
    }

    private void SetData(object data)
    {
        _data = data;
        if (_slot.IsBound) _slot.Store(data is ZSkipList sl ? new RedisSortedSet(sl) : data);
    }

    private byte[]? Lp => _data is ZSkipList ? null : Unsafe.As<byte[]>(_data);

    // The entry count lives in the listpack's first two bytes: the array is all a small sorted set stores.
    private const int LpHeader = 2;
    private const int MaxPackedEntries = ushort.MaxValue;
    private static readonly byte[] EmptyLp = NewPack(LpHeader);

    private int LpCount
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(Unsafe.As<byte[]>(_data));
        set => BinaryPrimitives.WriteUInt16LittleEndian(Unsafe.As<byte[]>(_data), (ushort)value); // only on a fresh array
    }

    public string TypeName => "zset";
    public string Encoding => _data is ZSkipList ? "skiplist" : "listpack";
    public int Count => _data is ZSkipList sl ? sl.Count : LpCount;
    public bool IsListpack => _data is not ZSkipList;
    public ZSkipList? SkipList => _data as ZSkipList;

    // ---- listpack entry format ----

    private const double MaxIntScore = 9007199254740992; // 2^53: integral doubles up to here fit a long exactly

    private static bool IsIntScore(double s) => s == Math.Floor(s) && Math.Abs(s) <= MaxIntScore;

    private static int VarLen(ulong v) { int n = 1; while (v >= 0x80) { v >>= 7; n++; } return n; }

    private static int WriteVar(Span<byte> d, ulong v)
    {
        int n = 0;
        while (v >= 0x80) { d[n++] = (byte)(v | 0x80); v >>= 7; }
        d[n++] = (byte)v;
        return n;
    }

    private static ulong ReadVar(byte[] b, ref int off)
    {
        ulong v = 0; int shift = 0;
        while (true)
        {
            byte x = b[off++];
            v |= (ulong)(x & 0x7F) << shift;
            if (x < 0x80) return v;
            shift += 7;
        }
    }

    private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));
    private static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    private static int EntrySize(int memberLen, double score)
    {
        bool isInt = IsIntScore(score);
        return VarLen(((ulong)memberLen << 1) | (isInt ? 1UL : 0)) + memberLen + (isInt ? VarLen(ZigZag((long)score)) : 8);
    }

    private static int WriteEntry(Span<byte> d, ReadOnlySpan<byte> member, double score)
    {
        bool isInt = IsIntScore(score);
        int n = WriteVar(d, ((ulong)member.Length << 1) | (isInt ? 1UL : 0));
        member.CopyTo(d[n..]);
        n += member.Length;
        if (isInt) n += WriteVar(d[n..], ZigZag((long)score));
        else { BitConverter.TryWriteBytes(d[n..], score); n += 8; }
        return n;
    }

    /// <summary>Decodes the entry at <paramref name="off"/>; returns the offset of the next one.</summary>
    private static int ReadEntry(byte[] lp, int off, out int mOff, out int mLen, out double score)
    {
        ulong h = ReadVar(lp, ref off);
        mLen = (int)(h >> 1);
        mOff = off;
        off += mLen;
        if ((h & 1) != 0) score = UnZigZag(ReadVar(lp, ref off));
        else { score = BitConverter.ToDouble(lp, off); off += 8; }
        return off;
    }

    /// <summary>Offset of the entry at <paramref name="rank"/> (or the end of the listpack when rank == count).</summary>
    private static int OffsetOf(byte[] lp, long rank)
    {
        int off = LpHeader;
        for (long i = 0; i < rank; i++) off = ReadEntry(lp, off, out _, out _, out _);
        return off;
    }

    private int LpFind(ReadOnlySpan<byte> member, out int off, out int next, out double score, out long rank)
    {
        var lp = Unsafe.As<byte[]>(_data);
        off = LpHeader;
        for (rank = 0; rank < LpCount; rank++)
        {
            next = ReadEntry(lp, off, out int mo, out int ml, out score);
            if (lp.AsSpan(mo, ml).SequenceEqual(member)) return 1;
            off = next;
        }
        next = off; score = 0; rank = -1;
        return 0;
    }

    private void LpInsert(ReadOnlySpan<byte> member, double score)
    {
        if (score == 0) score = 0; // -0 is stored as 0 in a listpack, as Redis does
        var lp = Unsafe.As<byte[]>(_data);
        int off = LpHeader;
        for (int i = 0; i < LpCount; i++)
        {
            int next = ReadEntry(lp, off, out int mo, out int ml, out double s);
            if (ZSkipList.Compare(s, lp.AsSpan(mo, ml), score, member) > 0) break;
            off = next;
        }
        int size = EntrySize(member.Length, score);
        var nb = NewPack(lp.Length + size);
        lp.AsSpan(0, off).CopyTo(nb);
        WriteEntry(nb.AsSpan(off), member, score);
        lp.AsSpan(off).CopyTo(nb.AsSpan(off + size));
        BinaryPrimitives.WriteUInt16LittleEndian(nb, (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(lp) + 1));
        SetData(nb);
    }

    private void LpCut(int from, int to, int entries)
    {
        var lp = Unsafe.As<byte[]>(_data);
        var nb = NewPack(lp.Length - (to - from));
        lp.AsSpan(0, from).CopyTo(nb);
        lp.AsSpan(to).CopyTo(nb.AsSpan(from));
        BinaryPrimitives.WriteUInt16LittleEndian(nb, (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(lp) - entries));
        SetData(nb);
    }

    // ---- element operations ----

    public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
    {
        if (_data is ZSkipList sl)
        {
            int n = sl.Find(member);
            score = n == 0 ? 0 : sl.ScoreOf(n);
            return n != 0;
        }
        return LpFind(member, out _, out _, out score, out _) == 1;
    }

    /// <summary>ZADD's per-element logic (NX/XX/GT/LT/INCR); converts to skiplist past the thresholds.</summary>
    public ZAddOutcome Add(ReadOnlySpan<byte> member, double score, ZAddFlags flags, long maxEntries, long maxValue, out double newScore)
    {
        newScore = score;
        if (_data is ZSkipList sl) return SkipListAdd(sl, member, score, flags, out newScore);
        if (TryGetScore(member, out double cur))
        {
            if ((flags & ZAddFlags.NX) != 0) return ZAddOutcome.Nop;
            if ((flags & ZAddFlags.Incr) != 0)
            {
                score += cur;
                if (double.IsNaN(score)) return ZAddOutcome.NaN;
            }
            if (((flags & ZAddFlags.GT) != 0 && score <= cur) || ((flags & ZAddFlags.LT) != 0 && score >= cur)) return ZAddOutcome.Nop;
            newScore = score;
            if (score == cur) return ZAddOutcome.Unchanged;
            SetExisting(member, score);
            return ZAddOutcome.Updated;
        }
        if ((flags & ZAddFlags.XX) != 0) return ZAddOutcome.Nop;
        Insert(member, score, maxEntries, maxValue);
        return ZAddOutcome.Added;
    }

    /// <summary><see cref="Add"/> on a skiplist: one member-table lookup; an update keeps the node.</summary>
    private static ZAddOutcome SkipListAdd(ZSkipList sl, ReadOnlySpan<byte> member, double score, ZAddFlags flags, out double newScore)
    {
        newScore = score;
        int node = sl.Find(member);
        if (node != 0)
        {
            if ((flags & ZAddFlags.NX) != 0) return ZAddOutcome.Nop;
            double cur = sl.ScoreOf(node);
            if ((flags & ZAddFlags.Incr) != 0)
            {
                score += cur;
                if (double.IsNaN(score)) return ZAddOutcome.NaN;
            }
            if (((flags & ZAddFlags.GT) != 0 && score <= cur) || ((flags & ZAddFlags.LT) != 0 && score >= cur)) return ZAddOutcome.Nop;
            newScore = score;
            if (score == cur) return ZAddOutcome.Unchanged;
            sl.UpdateScore(node, score);
            return ZAddOutcome.Updated;
        }
        if ((flags & ZAddFlags.XX) != 0) return ZAddOutcome.Nop;
        sl.Insert(score, member.ToArray());
        return ZAddOutcome.Added;
    }

    /// <summary>Inserts a member known to be absent.</summary>
    public void Insert(ReadOnlySpan<byte> member, double score, long maxEntries, long maxValue)
    {
        if (IsListpack && (LpCount + 1 > Math.Min(maxEntries, MaxPackedEntries) || member.Length > maxValue)) ConvertToSkipList();
        if (_data is ZSkipList sl) sl.Insert(score, member.ToArray());
        else LpInsert(member, score);
    }

    private void SetExisting(ReadOnlySpan<byte> member, double score)
    {
        if (_data is ZSkipList sl) { sl.UpdateScore(sl.Find(member), score); return; }
        var copy = member.ToArray(); // the argument may alias our own buffer
        LpFind(copy, out int off, out int next, out _, out _);
        LpCut(off, next, 1);
        LpInsert(copy, score);
    }

    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (_data is ZSkipList sl) return sl.Remove(member);
        if (LpFind(member, out int off, out int next, out _, out _) == 0) return false;
        LpCut(off, next, 1);
        return true;
    }

    /// <summary>0-based rank in ascending order, or -1 when absent.</summary>
    public long Rank(ReadOnlySpan<byte> member)
    {
        if (_data is ZSkipList sl)
        {
            int n = sl.Find(member);
            return n == 0 ? -1 : sl.Rank(n) - 1;
        }
        return LpFind(member, out _, out _, out _, out long rank) == 1 ? rank : -1;
    }

    /// <summary>
    /// Appends <paramref name="count"/> items starting at ascending rank <paramref name="first"/>, walking up,
    /// or down when <paramref name="reverse"/>. The caller keeps the ranks inside the set.
    /// </summary>
    public void Collect(long first, long count, bool reverse, List<ZItem> output)
    {
        if (count <= 0) return;
        if (_data is ZSkipList sl)
        {
            int n = sl.ByRank(first + 1);
            for (long i = 0; i < count && n != 0; i++)
            {
                var m = sl.MemberOf(n);
                output.Add(new ZItem(m, 0, m.Length, sl.ScoreOf(n)));
                n = reverse ? sl.Prev(n) : sl.Next(n);
            }
            return;
        }
        var lp = Unsafe.As<byte[]>(_data);
        long from = reverse ? first - count + 1 : first;
        int start = output.Count;
        int off = OffsetOf(lp, from);
        for (long i = 0; i < count; i++)
        {
            off = ReadEntry(lp, off, out int mo, out int ml, out double s);
            output.Add(new ZItem(lp, mo, ml, s));
        }
        if (reverse) output.Reverse(start, output.Count - start);
    }

    public void CollectAll(List<ZItem> output) => Collect(0, Count, false, output);

    private struct NotGteMinScore(ZScoreRange r) : ZSkipList.IPredicate { public bool Test(ZSkipList l, int n) => !r.GteMin(l.ScoreOf(n)); }
    private struct LteMaxScore(ZScoreRange r) : ZSkipList.IPredicate { public bool Test(ZSkipList l, int n) => r.LteMax(l.ScoreOf(n)); }
    private struct NotGteMinLex(ZLexRange r) : ZSkipList.IPredicate { public bool Test(ZSkipList l, int n) => !r.GteMin(l.MemberOf(n)); }
    private struct LteMaxLex(ZLexRange r) : ZSkipList.IPredicate { public bool Test(ZSkipList l, int n) => r.LteMax(l.MemberOf(n)); }

    /// <summary>The ascending ranks [lo, hi) of the elements in a score range.</summary>
    public (long Lo, long Hi) ScoreSpan(in ZScoreRange r)
    {
        if (r.IsEmpty || Count == 0) return (0, 0);
        long lo, hi;
        if (_data is ZSkipList sl)
        {
            lo = sl.PrefixCount(new NotGteMinScore(r));
            hi = sl.PrefixCount(new LteMaxScore(r));
        }
        else
        {
            var lp = Unsafe.As<byte[]>(_data);
            lo = 0; hi = 0;
            int off = LpHeader;
            for (int i = 0; i < LpCount; i++)
            {
                off = ReadEntry(lp, off, out _, out _, out double s);
                if (!r.GteMin(s)) lo = i + 1;
                if (r.LteMax(s)) hi = i + 1; else break;
            }
        }
        return (lo, Math.Max(lo, hi));
    }

    /// <summary>The ascending ranks [lo, hi) of the elements in a lex range (meaningful when all scores are equal).</summary>
    public (long Lo, long Hi) LexSpan(in ZLexRange r)
    {
        if (r.IsEmpty || Count == 0) return (0, 0);
        if (_data is ZSkipList sl)
        {
            long l = sl.PrefixCount(new NotGteMinLex(r));
            long h = sl.PrefixCount(new LteMaxLex(r));
            return (l, Math.Max(l, h));
        }
        // As Redis walks a listpack: the first element >= min, then every following one <= max.
        var lp = Unsafe.As<byte[]>(_data);
        int off = LpHeader;
        long lo = LpCount, hi = LpCount;
        for (int i = 0; i < LpCount; i++)
        {
            off = ReadEntry(lp, off, out int mo, out int ml, out _);
            var m = lp.AsSpan(mo, ml);
            if (lo == LpCount)
            {
                if (!r.GteMin(m)) continue;
                lo = i;
            }
            if (!r.LteMax(m)) { hi = i; break; }
        }
        return (lo, Math.Max(lo, hi));
    }

    /// <summary>Removes the elements of ascending ranks [start, end]; returns how many.</summary>
    public long RemoveRanks(long start, long end)
    {
        long n = end - start + 1;
        if (n <= 0) return 0;
        if (_data is ZSkipList sl)
        {
            var victims = new List<byte[]>((int)Math.Min(n, 1024));
            int node = sl.ByRank(start + 1);
            for (long i = 0; i < n && node != 0; i++) { victims.Add(sl.MemberOf(node)); node = sl.Next(node); }
            foreach (var v in victims) sl.Remove(v);
            return victims.Count;
        }
        var lp = Unsafe.As<byte[]>(_data);
        int from = OffsetOf(lp, start);
        int to = from;
        for (long i = 0; i < n; i++) to = ReadEntry(lp, to, out _, out _, out _);
        LpCut(from, to, (int)n);
        return n;
    }

    public void ConvertToSkipList()
    {
        if (Lp is not { } lp) return;
        var sl = new ZSkipList(Math.Max(16, LpCount * 2));
        int off = LpHeader;
        for (int i = 0; i < LpCount; i++)
        {
            off = ReadEntry(lp, off, out int mo, out int ml, out double s);
            sl.Insert(s, lp.AsSpan(mo, ml).ToArray());
        }
        SetData(sl);
    }

    /// <summary>
    /// A set built from elements already sorted by (score, member) with distinct members, as the store commands
    /// create their destination: listpack when it fits the thresholds, else skiplist.
    /// </summary>
    public static RedisSortedSet FromSorted(List<(byte[] Member, double Score)> items, long maxEntries, long maxValue)
    {
        var z = new RedisSortedSet();
        int maxLen = 0;
        foreach (var it in items) maxLen = Math.Max(maxLen, it.Member.Length);
        if (items.Count <= Math.Min(maxEntries, MaxPackedEntries) && maxLen <= maxValue)
        {
            int size = LpHeader;
            foreach (var it in items) size += EntrySize(it.Member.Length, it.Score == 0 ? 0 : it.Score);
            var lp = NewPack(size);
            int off = LpHeader;
            foreach (var it in items) off += WriteEntry(lp.AsSpan(off), it.Member, it.Score == 0 ? 0 : it.Score);
            z._data = lp;
            z.LpCount = items.Count;
        }
        else
        {
            var sl = new ZSkipList(Math.Max(16, items.Count));
            foreach (var it in items) sl.Insert(it.Score, it.Member);
            z._data = sl;
        }
        return z;
    }

    public IRedisValue Clone()
    {
        var z = new RedisSortedSet();
        if (Lp is { } lp)
        {
            if (lp.Length == LpHeader) z._data = EmptyLp;
            else
            {
                var packCopy = NewPack(lp.Length);
                lp.AsSpan().CopyTo(packCopy);
                z._data = packCopy;
            }
        }
        else
        {
            var src = (ZSkipList)_data;
            var sl = new ZSkipList(Math.Max(16, src.Count));
            for (int n = src.First; n != 0; n = src.Next(n)) sl.Insert(src.ScoreOf(n), src.MemberOf(n));
            z._data = sl;
        }
        return z;
    }

    public void AddToDigest(Span<byte> digest)
    {
        var items = new List<ZItem>(Count);
        CollectAll(items);
        Span<byte> ele = stackalloc byte[Digest.Size];
        foreach (var it in items)
        {
            ele.Clear();
            Digest.Mix(ele, it.Member);
            Digest.Mix(ele, System.Text.Encoding.ASCII.GetBytes(RespNumbers.FormatDouble(it.Score)));
            Digest.Xor(digest, ele);
        }
    }
}

/// <summary>The element type of a bare listpack sorted set in the keyspace: one byte, so the array is laid out as a byte[].</summary>
public struct ZSetPackByte
{
    public byte Value;
}
