using Basalt.Protocol;

namespace Basalt.Server.Types;

/// <summary>
/// A Redis list: a sequence of packed nodes (see <see cref="PackedNode"/>), like Redis's quicklist of listpacks.
/// A small list is one node, i.e. one byte[] plus this object and the node list. Node size follows
/// list-max-listpack-size (negative: -1..-5 = 4..64 KB per node; positive: entries per node, capped at 8 KB).
/// Redis 7.0 reports every list as "quicklist" whatever its size.
/// </summary>
public sealed class RedisList : IRedisValue, Keyspace.IDigestible
{
    private const int SafetyLimit = 8192;
    private NodeArray _nodes;
    private long _count;

    public RedisList() => _nodes = new NodeArray(1);

    public string TypeName => "list";
    public string Encoding => "quicklist";
    public long Count => _count;
    public int NodeCount => _nodes.Count;

    /// <summary>Node <paramref name="i"/> (a <see cref="PackedNode"/>), for serializers that keep node boundaries (RDB).</summary>
    internal byte[] NodeAt(int i) => _nodes[i];

    public IRedisValue Clone()
    {
        var copy = new RedisList { _count = _count, _nodes = new NodeArray(_nodes.Count) };
        for (int i = 0; i < _nodes.Count; i++) copy._nodes.Add(_nodes[i].AsSpan(0, PackedNode.Used(_nodes[i])).ToArray());
        return copy;
    }

    private static bool Fits(byte[] node, int entrySize, int fill)
    {
        int count = PackedNode.Count(node);
        if (count == 0) return true;
        int newSize = PackedNode.Used(node) + entrySize;
        if (fill >= 0) return count < Math.Max(fill, 1) && newSize <= SafetyLimit;
        return newSize <= LimitBytes(fill);
    }

    private static int LimitBytes(int fill) => fill switch { -1 => 4096, -2 => 8192, -3 => 16384, -4 => 32768, _ => 65536 };

    private static byte[] NewNode(int len) => PackedNode.Create(PackedNode.Header + PackedNode.EntrySize(len) + 8);

    public void PushHead(ReadOnlySpan<byte> value, int fill)
    {
        int size = PackedNode.EntrySize(value.Length);
        if (_nodes.Count == 0 || !Fits(_nodes[0], size, fill)) _nodes.Insert(0, NewNode(value.Length));
        _nodes[0] = PackedNode.InsertAt(_nodes[0], PackedNode.Header, value);
        _count++;
    }

    public void PushTail(ReadOnlySpan<byte> value, int fill)
    {
        int size = PackedNode.EntrySize(value.Length);
        if (_nodes.Count == 0 || !Fits(_nodes[^1], size, fill)) _nodes.Add(NewNode(value.Length));
        var n = _nodes[^1];
        _nodes[^1] = PackedNode.InsertAt(n, PackedNode.Used(n), value);
        _count++;
    }

    public void Push(ReadOnlySpan<byte> value, bool head, int fill)
    {
        if (head) PushHead(value, fill); else PushTail(value, fill);
    }

    public byte[] PopHead()
    {
        var n = _nodes[0];
        var v = PackedNode.Read(n, PackedNode.Header, out int next).ToArray();
        PackedNode.RemoveAt(n, PackedNode.Header, next);
        AfterRemove(0);
        return v;
    }

    public byte[] PopTail()
    {
        int i = _nodes.Count - 1;
        var n = _nodes[i];
        int end = PackedNode.Used(n);
        int p = PackedNode.Prev(n, end);
        var v = PackedNode.Read(n, p, out _).ToArray();
        PackedNode.RemoveAt(n, p, end);
        AfterRemove(i);
        return v;
    }

    public byte[] Pop(bool head) => head ? PopHead() : PopTail();

    /// <summary>Pops an element straight into a bulk reply (no copy, no garbage: the LPOP/RPOP hot path).</summary>
    public void PopTo(RespWriter w, bool head)
    {
        int i = head ? 0 : _nodes.Count - 1;
        var n = _nodes[i];
        int p, next;
        if (head) { p = PackedNode.Header; w.WriteBulk(PackedNode.Read(n, p, out next)); }
        else { next = PackedNode.Used(n); p = PackedNode.Prev(n, next); w.WriteBulk(PackedNode.Read(n, p, out _)); }
        PackedNode.RemoveAt(n, p, next);
        AfterRemove(i);
    }

    private void AfterRemove(int nodeIndex, int removed = 1)
    {
        _count -= removed;
        var n = _nodes[nodeIndex];
        if (PackedNode.Count(n) == 0) _nodes.RemoveAt(nodeIndex);
        else _nodes[nodeIndex] = PackedNode.Compact(n);
    }

    /// <summary>Finds the node holding element <paramref name="index"/> (0 ≤ index &lt; Count) and its byte offset there.</summary>
    private (int node, int offset) Locate(long index)
    {
        if (index < _count / 2)
        {
            for (int i = 0; i < _nodes.Count; i++)
            {
                int c = PackedNode.Count(_nodes[i]);
                if (index < c) return (i, PackedNode.OffsetOf(_nodes[i], (int)index));
                index -= c;
            }
        }
        else
        {
            long fromEnd = _count - 1 - index;
            for (int i = _nodes.Count - 1; i >= 0; i--)
            {
                int c = PackedNode.Count(_nodes[i]);
                if (fromEnd < c) return (i, PackedNode.OffsetOf(_nodes[i], (int)(c - 1 - fromEnd)));
                fromEnd -= c;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(index));
    }

    /// <summary>Element at a 0-based index in range; valid until the list changes.</summary>
    public ReadOnlySpan<byte> Get(long index)
    {
        var (i, p) = Locate(index);
        return PackedNode.Read(_nodes[i], p, out _);
    }

    public void Set(long index, ReadOnlySpan<byte> value, int fill)
    {
        var (i, p) = Locate(index);
        var n = _nodes[i];
        PackedNode.Read(n, p, out int next);
        PackedNode.RemoveAt(n, p, next);
        _nodes[i] = PackedNode.InsertAt(n, p, value);
        SplitIfNeeded(i, fill);
    }

    /// <summary>Inserts next to the first element equal to <paramref name="pivot"/>; false when there is none.</summary>
    public bool Insert(ReadOnlySpan<byte> pivot, bool after, ReadOnlySpan<byte> value, int fill)
    {
        for (int i = 0; i < _nodes.Count; i++)
        {
            var n = _nodes[i];
            int used = PackedNode.Used(n);
            for (int p = PackedNode.Header; p < used;)
            {
                var v = PackedNode.Read(n, p, out int next);
                if (v.SequenceEqual(pivot))
                {
                    _nodes[i] = PackedNode.InsertAt(n, after ? next : p, value);
                    _count++;
                    SplitIfNeeded(i, fill);
                    return true;
                }
                p = next;
            }
        }
        return false;
    }

    /// <summary>Splits a node that outgrew the fill limit into two halves.</summary>
    private void SplitIfNeeded(int i, int fill)
    {
        var n = _nodes[i];
        int count = PackedNode.Count(n);
        if (count < 2) return;
        bool over = fill >= 0 ? count > Math.Max(fill, 1) || PackedNode.Used(n) > SafetyLimit : PackedNode.Used(n) > LimitBytes(fill);
        if (!over) return;
        int half = count / 2;
        int cut = PackedNode.OffsetOf(n, half);
        int used = PackedNode.Used(n);
        var right = PackedNode.Create(PackedNode.Header + used - cut);
        Buffer.BlockCopy(n, cut, right, PackedNode.Header, used - cut);
        PackedNode.SetUsed(right, PackedNode.Header + used - cut);
        PackedNode.SetCount(right, count - half);
        PackedNode.SetUsed(n, cut);
        PackedNode.SetCount(n, half);
        _nodes[i] = PackedNode.Compact(n);
        _nodes.Insert(i + 1, right);
    }

    /// <summary>LREM: removes up to |count| elements equal to <paramref name="value"/> (all when 0; from the tail when negative).</summary>
    public long Remove(ReadOnlySpan<byte> value, long count)
    {
        long removed = 0;
        long limit = count == 0 ? long.MaxValue : Math.Abs(count);
        if (count >= 0)
        {
            for (int i = 0; i < _nodes.Count && removed < limit; i++)
            {
                var n = _nodes[i];
                int p = PackedNode.Header;
                while (p < PackedNode.Used(n) && removed < limit)
                {
                    var v = PackedNode.Read(n, p, out int next);
                    if (v.SequenceEqual(value)) { PackedNode.RemoveAt(n, p, next); removed++; }
                    else p = next;
                }
            }
        }
        else
        {
            for (int i = _nodes.Count - 1; i >= 0 && removed < limit; i--)
            {
                var n = _nodes[i];
                int e = PackedNode.Used(n);
                while (e > PackedNode.Header && removed < limit)
                {
                    int p = PackedNode.Prev(n, e);
                    var v = PackedNode.Read(n, p, out _);
                    if (v.SequenceEqual(value)) { PackedNode.RemoveAt(n, p, e); removed++; }
                    e = p;
                }
            }
        }
        if (removed > 0)
        {
            _count -= removed;
            for (int i = _nodes.Count - 1; i >= 0; i--)
            {
                if (PackedNode.Count(_nodes[i]) == 0) _nodes.RemoveAt(i);
                else _nodes[i] = PackedNode.Compact(_nodes[i]);
            }
        }
        return removed;
    }

    /// <summary>Drops <paramref name="n"/> elements from the head.</summary>
    public void RemoveHead(long n)
    {
        while (n > 0 && _nodes.Count > 0)
        {
            var node = _nodes[0];
            int c = PackedNode.Count(node);
            if (n >= c) { _nodes.RemoveAt(0); _count -= c; n -= c; continue; }
            int cut = PackedNode.OffsetOf(node, (int)n);
            PackedNode.RemoveRange(node, PackedNode.Header, cut, (int)n);
            _nodes[0] = PackedNode.Compact(node);
            _count -= n;
            n = 0;
        }
    }

    /// <summary>Drops <paramref name="n"/> elements from the tail.</summary>
    public void RemoveTail(long n)
    {
        while (n > 0 && _nodes.Count > 0)
        {
            int last = _nodes.Count - 1;
            var node = _nodes[last];
            int c = PackedNode.Count(node);
            if (n >= c) { _nodes.RemoveAt(last); _count -= c; n -= c; continue; }
            int cut = PackedNode.OffsetOf(node, c - (int)n);
            PackedNode.RemoveRange(node, cut, PackedNode.Used(node), (int)n);
            _nodes[last] = PackedNode.Compact(node);
            _count -= n;
            n = 0;
        }
    }

    /// <summary>Writes <paramref name="count"/> elements from <paramref name="start"/> as bulk strings (no header).</summary>
    public void WriteRange(RespWriter w, long start, long count)
    {
        if (count <= 0) return;
        var (i, p) = Locate(start);
        var c = new Cursor(this, i, p, reverse: false);
        while (count-- > 0 && c.Next(out var v)) w.WriteBulk(v);
    }

    /// <summary>Forward cursor from the head, or reverse cursor from the tail.</summary>
    /// <summary>DEBUG DIGEST: the elements mixed in order (integers as their decimal text), as Redis does.</summary>
    public void AddToDigest(Span<byte> digest)
    {
        var c = Iterate(reverse: false);
        while (c.Next(out var value)) Keyspace.Digest.Mix(digest, value);
    }

    public Cursor Iterate(bool reverse) =>
        reverse ? new Cursor(this, _nodes.Count - 1, _nodes.Count == 0 ? 0 : PackedNode.Used(_nodes[^1]), true)
                : new Cursor(this, 0, PackedNode.Header, false);

    /// <summary>Walks elements without copying. Positions are byte offsets (forward: entry start; reverse: entry end).</summary>
    public struct Cursor
    {
        private readonly RedisList _list;
        private readonly bool _reverse;
        private int _node;
        private int _pos;

        internal Cursor(RedisList list, int node, int pos, bool reverse)
        {
            _list = list; _node = node; _pos = pos; _reverse = reverse;
        }

        public bool Next(out ReadOnlySpan<byte> value)
        {
            var nodes = _list._nodes;
            if (!_reverse)
            {
                while (_node < nodes.Count && _pos >= PackedNode.Used(nodes[_node])) { _node++; _pos = PackedNode.Header; }
                if (_node >= nodes.Count) { value = default; return false; }
                value = PackedNode.Read(nodes[_node], _pos, out _pos);
                return true;
            }
            while (_node >= 0 && _pos <= PackedNode.Header)
            {
                _node--;
                if (_node >= 0) _pos = PackedNode.Used(nodes[_node]);
            }
            if (_node < 0) { value = default; return false; }
            int p = PackedNode.Prev(nodes[_node], _pos);
            value = PackedNode.Read(nodes[_node], p, out _);
            _pos = p;
            return true;
        }
    }

    /// <summary>
    /// The node sequence without a List object: a one-node list (the common case) keeps its node in a field,
    /// longer ones use a bare array.
    /// </summary>
    private struct NodeArray
    {
        private byte[]? _single;
        private byte[][]? _items;
        private int _count;

        public NodeArray(int capacity) { _items = capacity > 1 ? new byte[capacity][] : null; }

        public readonly int Count => _count;

        [System.Diagnostics.CodeAnalysis.UnscopedRef]
        public ref byte[] this[int i]
        {
            get
            {
                if (_items is null) return ref _single!;
                return ref _items[i];
            }
        }

        public void Insert(int i, byte[] node)
        {
            if (_items is null)
            {
                if (_count == 0) { _single = node; _count = 1; return; }
                _items = new byte[4][];
                _items[0] = _single!;
                _single = null;
            }
            if (_count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
            if (i < _count) Array.Copy(_items, i, _items, i + 1, _count - i);
            _items[i] = node;
            _count++;
        }

        public void Add(byte[] node) => Insert(_count, node);

        public void RemoveAt(int i)
        {
            _count--;
            if (_items is null) { _single = null; return; }
            if (i < _count) Array.Copy(_items, i + 1, _items, i, _count - i);
            _items[_count] = null!;
            if (_count == 1) { _single = _items[0]; _items = null; }
            else if (_items.Length > 8 && _count < _items.Length / 4) Array.Resize(ref _items, _items.Length / 2);
        }
    }
}
