using System.Buffers.Binary;
using Basalt.Protocol;
using Basalt.Server.Keyspace;

namespace Basalt.Server.Types;

/// <summary>
/// A Redis set. While every member is a 64-bit integer (string2ll-exact) and there are at most
/// set-max-intset-entries of them, it is an "intset": ONE byte[] whose first byte is the element width
/// (2, 4 or 8) followed by the sorted little-endian values, widened only when a larger value arrives
/// (as Redis's intset). Otherwise a "hashtable" (<see cref="KeyTable{TValue}"/>, entry index = SSCAN cursor).
/// </summary>
public sealed class RedisSet : IRedisValue, IDigestible
{
    private static readonly byte[] EmptyIntset = [2];

    private object _data; // byte[] intset or KeyTable<byte>

    public RedisSet() => _data = EmptyIntset;

    private RedisSet(object data) => _data = data;

    public string TypeName => "set";
    public string Encoding => _data is byte[] ? "intset" : "hashtable";
    public bool IsIntset => _data is byte[];

    public int Count => _data is byte[] s ? (s.Length - 1) / s[0] : ((KeyTable<byte>)_data).Count;

    internal KeyTable<byte>? Table => _data as KeyTable<byte>;

    public IRedisValue Clone()
    {
        if (_data is byte[] s) return new RedisSet(s.Length == 1 ? EmptyIntset : s.AsSpan().ToArray());
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
        if (_data is byte[] s) return RespNumbers.TryParseInt64(member, out long v) && Search(s, v) >= 0;
        return ((KeyTable<byte>)_data).ContainsKey(member);
    }

    /// <summary>Adds a member; true when new. Converts to a hashtable for a non-integer or past <paramref name="maxIntset"/>.</summary>
    public bool Add(ReadOnlySpan<byte> member, long maxIntset)
    {
        if (_data is byte[] s)
        {
            if (RespNumbers.TryParseInt64(member, out long v))
            {
                if (!AddInt(s, v)) return false;
                if (Count > maxIntset) Convert();
                return true;
            }
            Convert();
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

    public void Convert()
    {
        if (_data is not byte[] s) return;
        int width = s[0], count = (s.Length - 1) / width;
        var table = new KeyTable<byte>(count);
        for (int i = 0; i < count; i++) table.Set(RespNumbers.Int64ToBytes(Read(s, width, i)), 0);
        _data = table;
    }

    /// <summary>A random member, written to <paramref name="scratch"/> for intsets (at least 20 bytes).</summary>
    public ReadOnlySpan<byte> RandomMember(Random rng, byte[] scratch)
    {
        if (_data is byte[] s)
        {
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

    /// <summary>Walks members: ascending for intsets (formatted into a scratch buffer), slot order for tables.</summary>
    public ref struct Enumerator
    {
        private readonly byte[]? _ints;
        private readonly KeyTable<byte>? _table;
        private readonly byte[]? _scratch;
        private int _pos;

        internal Enumerator(RedisSet s)
        {
            _ints = s._data as byte[];
            _table = s._data as KeyTable<byte>;
            _scratch = _ints is null ? null : new byte[20];
            _pos = -1;
            Current = default;
        }

        public ReadOnlySpan<byte> Current { get; private set; }

        public bool MoveNext()
        {
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
