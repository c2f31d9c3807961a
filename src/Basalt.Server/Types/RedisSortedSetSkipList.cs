using Basalt.Server.Keyspace;

namespace Basalt.Server.Types;

/// <summary>
/// The "skiplist" encoding: a skip list ordered by (score, member) whose links carry spans, so ranks are O(log n),
/// plus a member table (stable slots, used as the ZSCAN cursor) for O(1) score lookups.
/// </summary>
public sealed class ZSkipList
{
    public const int MaxLevel = 32;

    public struct Level
    {
        public Node? Next;
        public int Span; // elements skipped by following Next
    }

    public sealed class Node
    {
        public byte[] Member;
        public double Score;
        public Node? Back;
        public Level[] Levels;

        public Node(int levels, double score, byte[] member)
        {
            Levels = new Level[levels];
            Score = score;
            Member = member;
        }
    }

    private readonly Node _head = new(MaxLevel, 0, []);
    private Node? _tail;
    private int _level = 1;
    public readonly KeyTable<Node> Dict;

    public ZSkipList(int capacity = 16) => Dict = new KeyTable<Node>(capacity);

    public int Count { get; private set; }
    public Node? First => _head.Levels[0].Next;
    public Node? Last => _tail;

    public static int Compare(double s1, ReadOnlySpan<byte> m1, double s2, ReadOnlySpan<byte> m2)
    {
        if (s1 < s2) return -1;
        if (s1 > s2) return 1;
        return m1.SequenceCompareTo(m2);
    }

    private static int RandomLevel()
    {
        int lvl = 1;
        // Each extra level with probability 1/4.
        while (lvl < MaxLevel && (Random.Shared.Next() & 3) == 0) lvl++;
        return lvl;
    }

    public Node? Find(ReadOnlySpan<byte> member) => Dict.TryGetValue(member, out var n) ? n : null;

    /// <summary>Inserts a member known to be absent.</summary>
    public Node Insert(double score, byte[] member)
    {
        var node = InsertNode(score, member);
        Dict.Set(member, node);
        return node;
    }

    // Scratch path arrays: handlers run one at a time, and thread-static keeps it safe regardless.
    [ThreadStatic] private static Node[]? t_update;

    private Node InsertNode(double score, byte[] member)
    {
        Span<int> rank = stackalloc int[MaxLevel];
        var update = t_update ??= new Node[MaxLevel];
        var x = _head;
        for (int i = _level - 1; i >= 0; i--)
        {
            rank[i] = i == _level - 1 ? 0 : rank[i + 1];
            while (x.Levels[i].Next is { } nx && Compare(nx.Score, nx.Member, score, member) < 0)
            {
                rank[i] += x.Levels[i].Span;
                x = nx;
            }
            update[i] = x;
        }
        int level = RandomLevel();
        if (level > _level)
        {
            for (int i = _level; i < level; i++)
            {
                rank[i] = 0;
                update[i] = _head;
                _head.Levels[i].Span = Count;
            }
            _level = level;
        }
        var node = new Node(level, score, member);
        for (int i = 0; i < level; i++)
        {
            node.Levels[i].Next = update[i].Levels[i].Next;
            update[i].Levels[i].Next = node;
            node.Levels[i].Span = update[i].Levels[i].Span - (rank[0] - rank[i]);
            update[i].Levels[i].Span = rank[0] - rank[i] + 1;
        }
        for (int i = level; i < _level; i++) update[i].Levels[i].Span++;
        node.Back = update[0] == _head ? null : update[0];
        if (node.Levels[0].Next is { } after) after.Back = node; else _tail = node;
        Count++;
        return node;
    }

    /// <summary>Removes a member; returns false when absent.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (!Dict.TryGetValue(member, out var node)) return false;
        Dict.Remove(member);
        Unlink(node.Score, node.Member);
        return true;
    }

    private void Unlink(double score, byte[] member)
    {
        var update = t_update ??= new Node[MaxLevel];
        var x = _head;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Next is { } nx && Compare(nx.Score, nx.Member, score, member) < 0) x = nx;
            update[i] = x;
        }
        var node = x.Levels[0].Next!;
        for (int i = 0; i < _level; i++)
        {
            if (update[i].Levels[i].Next == node)
            {
                update[i].Levels[i].Span += node.Levels[i].Span - 1;
                update[i].Levels[i].Next = node.Levels[i].Next;
            }
            else update[i].Levels[i].Span--;
        }
        if (node.Levels[0].Next is { } after) after.Back = node.Back; else _tail = node.Back;
        while (_level > 1 && _head.Levels[_level - 1].Next is null) _level--;
        Count--;
    }

    /// <summary>Changes the score of an existing member, moving it only when its place changes.</summary>
    public void UpdateScore(Node node, double newScore)
    {
        bool prevOk = node.Back is null || Compare(node.Back.Score, node.Back.Member, newScore, node.Member) < 0;
        var next = node.Levels[0].Next;
        bool nextOk = next is null || Compare(next.Score, next.Member, newScore, node.Member) > 0;
        if (prevOk && nextOk) { node.Score = newScore; return; }
        Unlink(node.Score, node.Member);
        var moved = InsertNode(newScore, node.Member);
        Dict.Set(node.Member, moved);
    }

    /// <summary>1-based rank of an element known to be present.</summary>
    public long Rank(double score, byte[] member)
    {
        long rank = 0;
        var x = _head;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Next is { } nx && Compare(nx.Score, nx.Member, score, member) <= 0)
            {
                rank += x.Levels[i].Span;
                x = nx;
            }
            if (x != _head && ReferenceEquals(x.Member, member)) return rank;
        }
        return rank;
    }

    /// <summary>The element at a 1-based rank, or null.</summary>
    public Node? ByRank(long rank)
    {
        if (rank < 1 || rank > Count) return null;
        long traversed = 0;
        var x = _head;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Next is { } nx && traversed + x.Levels[i].Span <= rank)
            {
                traversed += x.Levels[i].Span;
                x = nx;
            }
            if (traversed == rank) return x;
        }
        return null;
    }

    public interface IPredicate { bool Test(Node n); }

    /// <summary>Length of the longest prefix whose elements all satisfy a predicate that is monotone along the list.</summary>
    public long PrefixCount<T>(T pred) where T : struct, IPredicate
    {
        long rank = 0;
        var x = _head;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Next is { } nx && pred.Test(nx))
            {
                rank += x.Levels[i].Span;
                x = nx;
            }
        }
        return rank;
    }
}
