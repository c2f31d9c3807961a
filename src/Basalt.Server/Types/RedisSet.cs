using System.Buffers.Binary;
using Basalt.Protocol;
using Basalt.Server.Keyspace;

namespace Basalt.Server.Types;

/// <summary>
/// A Redis set. While every member is a 64-bit integer (string2ll-exact) and there are at most
/// set-max-intset-entries of them, it is an "intset": ONE byte[] whose first byte is the element width
/// (2, 4 or 8) followed by the sorted little-endian values, widened only when a larger value arrives
/// (as Redis's intset). Otherwise a "hashtable", held in one of two ways: while it has at most
/// <see cref="PackedMaxEntries"/> members of at most <see cref="PackedMaxValue"/> bytes, ONE packed byte[]
/// (first byte 0, a u16 count, then each member as a length byte and its bytes, in insertion order; the shape
/// Redis 7.2 calls a listpack set), else a <see cref="KeyTable{TValue}"/> (entry index = SSCAN cursor).
/// OBJECT ENCODING says "hashtable" for both, as Redis 7.0 has no small encoding for strings; the packed form
/// only saves memory (a 5-member set: one 64-byte array instead of a table with 5 separate member arrays).
/// </summary>
public sealed class RedisSet : IRedisValue, IDigestible
{
    private static readonly byte[] EmptyIntset = [2];

    private object _data; // byte[] intset (first byte 2/4/8), byte[] packed strings (first byte 0) or KeyTable<byte>

    /// <summary>Limits of the packed form (Redis 7.2's set-max-listpack-entries/-value defaults).</summary>
    internal const int PackedMaxEntries = 128, PackedMaxValue = 64;

    private const int PackedHeader = 3;
    private static readonly byte[] EmptyPacked = new byte[PackedHeader];

    public RedisSet() => _data = EmptyIntset;

    private RedisSet(object data) => _data = data;

    public string TypeName => "set";
    public string Encoding => IsIntset ? "intset" : "hashtable";
    public bool IsIntset => _data is byte[] s && s[0] != 0;

    public int Count => _data is byte[] s
        ? (s[0] == 0 ? BinaryPrimitives.ReadUInt16LittleEndian(s.AsSpan(1)) : (s.Length - 1) / s[0])
        : ((KeyTable<byte>)_data).Count;

    internal KeyTable<byte>? Table => _data as KeyTable<byte>;

    public IRedisValue Clone()
    {
        if (_data is byte[] s) return new RedisSet(s.Length == 1 || s.Length == PackedHeader && s[0] == 0 ? s : s.AsSpan().ToArray());
        var src = (KeyTable<byte>)_data;
        var copy = new KeyTable<byte>(src.Count);
        for (int i = 0; i < src.Capacity; i++)
            if (src.IsUsed(i)) copy.Set(src.KeyAt(i).AsSpan().ToArray(), 0);
        return new RedisSet(copy);
    }

    /// <summary>An intset from strictly ascending values (RDB load); the caller checked the order.</summary>
    internal static RedisSet FromSortedInts(ReadOnlySpan<long> values)
    {
        if (values.Length == 0) return new RedisSet();
        int width = Math.Max(WidthFor(values[0]), WidthFor(values[^1]));
        var s = new byte[1 + values.Length * width];
        s[0] = (byte)width;
        for (int i = 0; i < values.Length; i++) Write(s, width, i, values[i]);
        return new RedisSet(s);
    }

    // ---- intset primitives ----

    private static long Read(byte[] s, int width, int i)
    {
        var span = s.AsSpan(1 + i * width, width);
        return width switch
        {
            2 => BinaryPrimitives.ReadInt16LittleEndian(span),
            4 => BinaryPrimitives.ReadInt32LittleEndian(span),
            _ => BinaryPrimitives.ReadInt64LittleEndian(span),
        };
    }

    private static void Write(byte[] s, int width, int i, long v)
    {
        var span = s.AsSpan(1 + i * width, width);
        switch (width)
        {
            case 2: BinaryPrimitives.WriteInt16LittleEndian(span, (short)v); break;
            case 4: BinaryPrimitives.WriteInt32LittleEndian(span, (int)v); break;
            default: BinaryPrimitives.WriteInt64LittleEndian(span, v); break;
        }
    }

    private static int WidthFor(long v) => v is >= short.MinValue and <= short.MaxValue ? 2 : v is >= int.MinValue and <= int.MaxValue ? 4 : 8;

    /// <summary>Binary search: index of <paramref name="v"/>, or ~insertion point.</summary>
    private static int Search(byte[] s, long v)
    {
        int width = s[0];
        int lo = 0, hi = (s.Length - 1) / width - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long m = Read(s, width, mid);
            if (m == v) return mid;
            if (m < v) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }

    /// <summary>The intset's element at <paramref name="i"/> (ascending order).</summary>
    public long IntAt(int i)
    {
        var s = (byte[])_data;
        return Read(s, s[0], i);
    }

    // ---- operations ----

    public bool Contains(ReadOnlySpan<byte> member)
    {
        if (_data is byte[] s)
        {
            if (s[0] == 0) return PackedFind(s, member) >= 0;
            return RespNumbers.TryParseInt64(member, out long v) && Search(s, v) >= 0;
        }
        return ((KeyTable<byte>)_data).ContainsKey(member);
    }

    /// <summary>Adds a member; true when new. Converts to a hashtable for a non-integer or past <paramref name="maxIntset"/>.</summary>
    public bool Add(ReadOnlySpan<byte> member, long maxIntset)
    {
        if (_data is byte[] s && s[0] != 0)
        {
            if (RespNumbers.TryParseInt64(member, out long v))
            {
                if (!AddInt(s, v)) return false;
                if (Count > maxIntset) Convert();
                return true;
            }
            Convert();
        }
        if (_data is byte[] p)
        {
            if (PackedFind(p, member) >= 0) return false;
            int count = BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(1));
            if (count < PackedMaxEntries && member.Length <= PackedMaxValue)
            {
                var nb = new byte[p.Length + 1 + member.Length];
                p.AsSpan().CopyTo(nb);
                nb[p.Length] = (byte)member.Length;
                member.CopyTo(nb.AsSpan(p.Length + 1));
                BinaryPrimitives.WriteUInt16LittleEndian(nb.AsSpan(1), (ushort)(count + 1));
                _data = nb;
                return true;
            }
            ToTable(count + 1);
        }
        var table = (KeyTable<byte>)_data;
        table.GetValueRefOrAdd(member, out bool exists);
        return !exists;
    }

    private bool AddInt(byte[] s, long v)
    {
        int width = s[0];
        int count = (s.Length - 1) / width;
        int need = WidthFor(v);
        if (need > width)
        {
            // Upgrade: a wider value is either below or above all current ones.
            var up = new byte[1 + (count + 1) * need];
            up[0] = (byte)need;
            int off = v < 0 ? 1 : 0;
            for (int i = 0; i < count; i++) Write(up, need, i + off, Read(s, width, i));
            Write(up, need, v < 0 ? 0 : count, v);
            _data = up;
            return true;
        }
        int idx = Search(s, v);
        if (idx >= 0) return false;
        idx = ~idx;
        var nb = new byte[s.Length + width];
        nb[0] = (byte)width;
        s.AsSpan(1, idx * width).CopyTo(nb.AsSpan(1));
        s.AsSpan(1 + idx * width).CopyTo(nb.AsSpan(1 + (idx + 1) * width));
        Write(nb, width, idx, v);
        _data = nb;
        return true;
    }

    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (_data is KeyTable<byte> table) return table.Remove(member);
        var s = (byte[])_data;
        if (s[0] == 0)
        {
            int off = PackedFind(s, member);
            if (off < 0) return false;
            PackedRemoveAt(s, off);
            return true;
        }
        if (!RespNumbers.TryParseInt64(member, out long v)) return false;
        return RemoveInt(v);
    }

    private bool RemoveInt(long v)
    {
        var s = (byte[])_data;
        int idx = Search(s, v);
        if (idx < 0) return false;
        int width = s[0];
        if (s.Length - 1 == width) { _data = new byte[] { (byte)width }; return true; }
        var nb = new byte[s.Length - width];
        nb[0] = (byte)width;
        s.AsSpan(1, idx * width).CopyTo(nb.AsSpan(1));
        s.AsSpan(1 + (idx + 1) * width).CopyTo(nb.AsSpan(1 + idx * width));
        _data = nb;
        return true;
    }

    /// <summary>Leaves the intset encoding for "hashtable": packed while small enough, else a table.</summary>
    public void Convert()
    {
        if (_data is not byte[] s || s[0] == 0) return;
        int width = s[0], count = (s.Length - 1) / width;
        if (count >= PackedMaxEntries) // >=: the caller is usually about to add one more
        {
            var table = new KeyTable<byte>(count);
            for (int i = 0; i < count; i++) table.Set(RespNumbers.Int64ToBytes(Read(s, width, i)), 0);
            _data = table;
            return;
        }
        Span<byte> digits = stackalloc byte[20];
        int size = PackedHeader;
        for (int i = 0; i < count; i++) size += 1 + RespNumbers.FormatInt64(Read(s, width, i), digits);
        var p = new byte[size];
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(1), (ushort)count);
        int o = PackedHeader;
        for (int i = 0; i < count; i++)
        {
            int n = RespNumbers.FormatInt64(Read(s, width, i), p.AsSpan(o + 1));
            p[o] = (byte)n;
            o += 1 + n;
        }
        _data = p;
    }

    // ---- packed strings primitives ----

    /// <summary>Offset of the entry (its length byte) equal to <paramref name="member"/>, or -1.</summary>
    private static int PackedFind(byte[] p, ReadOnlySpan<byte> member)
    {
        if (member.Length > PackedMaxValue) return -1;
        int off = PackedHeader;
        while (off < p.Length)
        {
            int len = p[off];
            if (len == member.Length && p.AsSpan(off + 1, len).SequenceEqual(member)) return off;
            off += 1 + len;
        }
        return -1;
    }

    /// <summary>Offset of the entry number <paramref name="ordinal"/>.</summary>
    private static int PackedOffsetOf(byte[] p, int ordinal)
    {
        int off = PackedHeader;
        for (int i = 0; i < ordinal; i++) off += 1 + p[off];
        return off;
    }

    private void PackedRemoveAt(byte[] p, int off)
    {
        int count = BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(1)) - 1;
        if (count == 0) { _data = EmptyPacked; return; }
        int len = 1 + p[off];
        var nb = new byte[p.Length - len]; // a fresh array: enumerators and returned spans keep the old one
        p.AsSpan(0, off).CopyTo(nb);
        p.AsSpan(off + len).CopyTo(nb.AsSpan(off));
        BinaryPrimitives.WriteUInt16LittleEndian(nb.AsSpan(1), (ushort)count);
        _data = nb;
    }

    /// <summary>Packed form to a table sized for <paramref name="capacity"/> members.</summary>
    private void ToTable(int capacity)
    {
        var p = (byte[])_data;
        var table = new KeyTable<byte>(capacity);
        int off = PackedHeader;
        while (off < p.Length)
        {
            int len = p[off];
            table.Set(p.AsSpan(off + 1, len).ToArray(), 0);
            off += 1 + len;
        }
        _data = table;
    }

    /// <summary>A random member, written to <paramref name="scratch"/> for intsets (at least 20 bytes).</summary>
    public ReadOnlySpan<byte> RandomMember(Random rng, byte[] scratch)
    {
        if (_data is byte[] s)
        {
            if (s[0] == 0)
            {
                int off = PackedOffsetOf(s, rng.Next(Count));
                return s.AsSpan(off + 1, s[off]);
            }
            int n = RespNumbers.FormatInt64(Read(s, s[0], rng.Next(Count)), scratch);
            return scratch.AsSpan(0, n);
        }
        var t = (KeyTable<byte>)_data;
        return t.KeyAt(t.RandomIndex(rng));
    }

    /// <summary>Removes and returns a random member (a new array).</summary>
    public byte[] PopRandom(Random rng)
    {
        if (_data is byte[] s)
        {
            if (s[0] == 0)
            {
                int off = PackedOffsetOf(s, rng.Next(Count));
                var member = s.AsSpan(off + 1, s[off]).ToArray();
                PackedRemoveAt(s, off);
                return member;
            }
            long v = Read(s, s[0], rng.Next(Count));
            RemoveInt(v);
            return RespNumbers.Int64ToBytes(v);
        }
        var t = (KeyTable<byte>)_data;
        var key = t.KeyAt(t.RandomIndex(rng));
        t.Remove(key);
        return key;
    }

    /// <summary>Every member as a new array, in iteration order (ascending for intsets).</summary>
    public List<byte[]> ToList()
    {
        var list = new List<byte[]>(Count);
        var e = GetEnumerator();
        while (e.MoveNext()) list.Add(e.Current.ToArray());
        return list;
    }

    public Enumerator GetEnumerator() => new(this);

    /// <summary>
    /// Walks members: ascending for intsets (formatted into a scratch buffer), insertion order for packed sets,
    /// slot order for tables.
    /// </summary>
    public ref struct Enumerator
    {
        private readonly byte[]? _ints;
        private readonly byte[]? _packed;
        private readonly KeyTable<byte>? _table;
        private readonly byte[]? _scratch;
        private int _pos;

        internal Enumerator(RedisSet s)
        {
            var bytes = s._data as byte[];
            if (bytes is not null && bytes[0] == 0) _packed = bytes; else _ints = bytes;
            _table = s._data as KeyTable<byte>;
            _scratch = _ints is null ? null : new byte[20];
            _pos = _packed is null ? -1 : PackedHeader;
            Current = default;
        }

        public ReadOnlySpan<byte> Current { get; private set; }

        public bool MoveNext()
        {
            if (_packed is not null)
            {
                if (_pos >= _packed.Length) return false;
                int len = _packed[_pos];
                Current = _packed.AsSpan(_pos + 1, len);
                _pos += 1 + len;
                return true;
            }
            if (_ints is not null)
            {
                int width = _ints[0];
                if (++_pos >= (_ints.Length - 1) / width) return false;
                int n = RespNumbers.FormatInt64(Read(_ints, width, _pos), _scratch);
                Current = _scratch.AsSpan(0, n);
                return true;
            }
            while (++_pos < _table!.Capacity)
            {
                if (!_table.IsUsed(_pos)) continue;
                Current = _table.KeyAt(_pos);
                return true;
            }
            return false;
        }
    }

    public void AddToDigest(Span<byte> digest)
    {
        var e = GetEnumerator();
        while (e.MoveNext()) Digest.Xor(digest, e.Current);
    }
}
