using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Basalt.Server.Keyspace;

namespace Basalt.Server.Types;

/// <summary>
/// The "skiplist" encoding: a skip list ordered by (score, member) whose links carry spans, so ranks are O(log n),
/// plus a member table (stable slots, used as the ZSCAN cursor) mapping each member to its node.
/// Nodes are not objects: a node is the index of its block in one array of 8-byte cells,
/// [score][back | member slot][next | span] x levels, so a search step reads the score and the links of a node
/// from the same cache line (one miss a step, like a C node with inline levels) and the GC sees no node graph.
/// The member bytes live once, as the member table's key; a node names it by its table slot. 0 means "no node"
/// (block 0 is the head, never a successor or predecessor).
/// </summary>
[SkipLocalsInit]
public sealed class ZSkipList
{
    public const int MaxLevel = 32;
    private const int Head = 0;
    private const int HeaderCells = 2;

    [StructLayout(LayoutKind.Explicit)]
    private struct Cell
    {
        [FieldOffset(0)] public double Score; // cell 0 of a block
        [FieldOffset(0)] public int A;        // level cell: next node; cell 1: previous node; free block: next free block
        [FieldOffset(4)] public int B;        // level cell: span (elements skipped by following A); cell 1: member slot
    }

    private Cell[] _cells;
    private int _cellsUsed;
    private readonly int[] _freeBlocks = new int[MaxLevel + 1]; // by level count: first free block (chained through A)
    private byte[] _levelOfSlot;                                 // level count of each member slot's node
    private int _tail;
    private int _level = 1;
    private ulong _rng;

    /// <summary>Member -> node. Its entry indexes are the nodes' member slots.</summary>
    public readonly KeyTable<int> Dict;

    public ZSkipList(int capacity = 16)
    {
        Dict = new KeyTable<int>(capacity);
        _cells = new Cell[HeaderCells + MaxLevel + Math.Max(16, capacity) * 4];
        _cellsUsed = HeaderCells + MaxLevel;
        _levelOfSlot = new byte[Math.Max(16, capacity)];
        _rng = (ulong)Random.Shared.NextInt64() | 1;
    }

    public int Count { get; private set; }

    /// <summary>The lowest node, or 0.</summary>
    public int First => _cells[HeaderCells].A;

    /// <summary>The highest node, or 0.</summary>
    public int Last => _tail;

    public int Next(int node) => _cells[node + HeaderCells].A;
    public int Prev(int node) => _cells[node + 1].A;
    public double ScoreOf(int node) => _cells[node].Score;
    public byte[] MemberOf(int node) => Dict.KeyAt(_cells[node + 1].B);

    public static int Compare(double s1, ReadOnlySpan<byte> m1, double s2, ReadOnlySpan<byte> m2)
    {
        if (s1 < s2) return -1;
        if (s1 > s2) return 1;
        return m1.SequenceCompareTo(m2);
    }

    /// <summary>Each extra level with probability 1/4: two random bits a level.</summary>
    private int RandomLevel()
    {
        ulong x = _rng; // xorshift64
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        _rng = x;
        return Math.Min(MaxLevel, 1 + BitOperations.TrailingZeroCount(x) / 2);
    }

    /// <summary>The node of <paramref name="member"/>, or 0.</summary>
    public int Find(ReadOnlySpan<byte> member)
    {
        ref int n = ref Dict.GetValueRefOrNullRef(member);
        return Unsafe.IsNullRef(ref n) ? 0 : n;
    }

    private int AllocBlock(int levels)
    {
        int b = _freeBlocks[levels];
        if (b != 0)
        {
            _freeBlocks[levels] = _cells[b].A;
        }
        else
        {
            int size = HeaderCells + levels;
            if (_cellsUsed + size > _cells.Length) Array.Resize(ref _cells, Math.Max(_cells.Length * 2, _cellsUsed + size));
            b = _cellsUsed;
            _cellsUsed += size;
        }
        return b;
    }

    private void FreeBlock(int node, int levels)
    {
        _cells[node].A = _freeBlocks[levels];
        _freeBlocks[levels] = node;
    }

    /// <summary>Inserts a member known to be absent (the table keeps <paramref name="member"/> as its key).</summary>
    public int Insert(double score, byte[] member)
    {
        Dict.Set(member, 0);
        int slot = Dict.IndexOf(member);
        int levels = RandomLevel();
        if (slot >= _levelOfSlot.Length) Array.Resize(ref _levelOfSlot, Math.Max(_levelOfSlot.Length * 2, slot + 1));
        _levelOfSlot[slot] = (byte)levels;
        int node = AllocBlock(levels);
        _cells[node].Score = score;
        _cells[node + 1].B = slot;
        Link(node, levels, score, member);
        Dict.ValueAt(slot) = node;
        return node;
    }

    /// <summary>True when (s, member of node <paramref name="x"/>) sorts before (score, member).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Before(double s, int x, double score, ReadOnlySpan<byte> member) =>
        s < score || (s == score && MemberOf(x).AsSpan().SequenceCompareTo(member) < 0);

    /// <summary>Links a detached block of <paramref name="levels"/> levels at the place of (score, member).</summary>
    private void Link(int node, int levels, double score, ReadOnlySpan<byte> member)
    {
        Span<int> rank = stackalloc int[MaxLevel];
        Span<int> update = stackalloc int[MaxLevel];
        ref Cell c = ref MemoryMarshal.GetArrayDataReference(_cells);
        int x = Head;
        for (int i = _level - 1; i >= 0; i--)
        {
            int r = i == _level - 1 ? 0 : rank[i + 1];
            while (true)
            {
                ref Cell lv = ref Unsafe.Add(ref c, x + HeaderCells + i);
                int nx = lv.A;
                if (nx == 0 || !Before(Unsafe.Add(ref c, nx).Score, nx, score, member)) break;
                r += lv.B;
                x = nx;
            }
            rank[i] = r;
            update[i] = x;
        }
        if (levels > _level)
        {
            for (int i = _level; i < levels; i++)
            {
                rank[i] = 0;
                update[i] = Head;
                _cells[Head + HeaderCells + i].B = Count;
            }
            _level = levels;
        }
        for (int i = 0; i < levels; i++)
        {
            ref Cell up = ref _cells[update[i] + HeaderCells + i];
            ref Cell mine = ref _cells[node + HeaderCells + i];
            mine.A = up.A;
            up.A = node;
            mine.B = up.B - (rank[0] - rank[i]);
            up.B = rank[0] - rank[i] + 1;
        }
        for (int i = levels; i < _level; i++) _cells[update[i] + HeaderCells + i].B++;
        _cells[node + 1].A = update[0]; // Head (0) doubles as "no previous node"
        int after = _cells[node + HeaderCells].A;
        if (after != 0) _cells[after + 1].A = node; else _tail = node;
        Count++;
    }

    /// <summary>Detaches <paramref name="node"/> from the list (its block stays allocated).</summary>
    private void Unlink(int node)
    {
        Span<int> update = stackalloc int[MaxLevel];
        double score = _cells[node].Score;
        var member = MemberOf(node).AsSpan();
        ref Cell c = ref MemoryMarshal.GetArrayDataReference(_cells);
        int x = Head;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (true)
            {
                int nx = Unsafe.Add(ref c, x + HeaderCells + i).A;
                if (nx == 0 || nx == node || !Before(Unsafe.Add(ref c, nx).Score, nx, score, member)) break;
                x = nx;
            }
            update[i] = x;
        }
        for (int i = 0; i < _level; i++)
        {
            ref Cell up = ref _cells[update[i] + HeaderCells + i];
            if (up.A == node)
            {
                ref Cell mine = ref _cells[node + HeaderCells + i];
                up.B += mine.B - 1;
                up.A = mine.A;
            }
            else up.B--;
        }
        int after = _cells[node + HeaderCells].A;
        if (after != 0) _cells[after + 1].A = _cells[node + 1].A; else _tail = _cells[node + 1].A;
        while (_level > 1 && _cells[Head + HeaderCells + _level - 1].A == 0) _level--;
        Count--;
    }

    /// <summary>Removes a member; returns false when absent.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        int slot = Dict.IndexOf(member);
        if (slot < 0) return false;
        int node = Dict.ValueAt(slot);
        Unlink(node); // before the table forgets the member: the search compares it
        FreeBlock(node, _levelOfSlot[slot]);
        Dict.Remove(member);
        return true;
    }

    /// <summary>Changes the score of an existing node, moving it (same block, same levels) only when its place changes.</summary>
    public void UpdateScore(int node, double newScore)
    {
        var member = MemberOf(node).AsSpan();
        double cur = _cells[node].Score;
        int prev = _cells[node + 1].A;
        int next = _cells[node + HeaderCells].A;
        // A higher score cannot fall below the previous node, nor a lower one pass the next: read one neighbour.
        bool prevOk = newScore > cur || prev == 0 || Before(_cells[prev].Score, prev, newScore, member);
        bool nextOk = newScore < cur || next == 0 || Compare(_cells[next].Score, MemberOf(next), newScore, member) > 0;
        if (prevOk && nextOk) { _cells[node].Score = newScore; return; }
        Move(node, _levelOfSlot[_cells[node + 1].B], cur, newScore, member);
    }

    /// <summary>
    /// Moves a node to the place of a different score. Both searches (the old place, to unlink; the new place, to link)
    /// run on the unchanged list in one loop, so their cache misses overlap; the new-place search steps over the node
    /// as if it were already unlinked, and its ranks are corrected for it afterwards.
    /// </summary>
    private void Move(int node, int levels, double oldScore, double newScore, ReadOnlySpan<byte> member)
    {
        Span<int> updOld = stackalloc int[MaxLevel];
        Span<int> updNew = stackalloc int[MaxLevel];
        Span<int> rankNew = stackalloc int[MaxLevel];
        ref Cell c = ref MemoryMarshal.GetArrayDataReference(_cells);
        int a = Head, b = Head, ra = 0, rb = 0;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (true)
            {
                ref Cell la = ref Unsafe.Add(ref c, a + HeaderCells + i);
                ref Cell lb = ref Unsafe.Add(ref c, b + HeaderCells + i);
                int na = la.A, nb = lb.A, sb = lb.B;
                if (nb == node)
                {
                    ref Cell ln = ref Unsafe.Add(ref c, node + HeaderCells + i);
                    nb = ln.A;
                    sb += ln.B;
                }
                // Both scores are loaded before either is tested (0 reads the head's unused score cell).
                double scoreA = Unsafe.Add(ref c, na).Score, scoreB = Unsafe.Add(ref c, nb).Score;
                bool moveA = na != 0 && na != node && Before(scoreA, na, oldScore, member);
                bool moveB = nb != 0 && Before(scoreB, nb, newScore, member);
                if (!moveA && !moveB) break;
                if (moveA) { ra += la.B; a = na; }
                if (moveB) { rb += sb; b = nb; }
            }
            updOld[i] = a;
            updNew[i] = b;
            rankNew[i] = rb;
        }
        // Unlink (as Unlink does, keeping _level).
        for (int i = 0; i < _level; i++)
        {
            ref Cell up = ref _cells[updOld[i] + HeaderCells + i];
            if (up.A == node)
            {
                ref Cell mine = ref _cells[node + HeaderCells + i];
                up.B += mine.B - 1;
                up.A = mine.A;
            }
            else up.B--;
        }
        int after = _cells[node + HeaderCells].A;
        if (after != 0) _cells[after + 1].A = _cells[node + 1].A; else _tail = _cells[node + 1].A;
        // Ranks past the node's old place counted it; the list no longer has it.
        int nodeRank = ra + 1;
        for (int i = 0; i < _level; i++) if (rankNew[i] > nodeRank) rankNew[i]--;
        _cells[node].Score = newScore;
        for (int i = 0; i < levels; i++)
        {
            ref Cell up = ref _cells[updNew[i] + HeaderCells + i];
            ref Cell mine = ref _cells[node + HeaderCells + i];
            mine.A = up.A;
            up.A = node;
            mine.B = up.B - (rankNew[0] - rankNew[i]);
            up.B = rankNew[0] - rankNew[i] + 1;
        }
        for (int i = levels; i < _level; i++) _cells[updNew[i] + HeaderCells + i].B++;
        _cells[node + 1].A = updNew[0];
        after = _cells[node + HeaderCells].A;
        if (after != 0) _cells[after + 1].A = node; else _tail = node;
    }

    /// <summary>1-based rank of a node.</summary>
    public long Rank(int node)
    {
        double score = _cells[node].Score;
        var member = MemberOf(node).AsSpan();
        long rank = 0;
        int x = Head;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (true)
            {
                ref Cell lv = ref _cells[x + HeaderCells + i];
                int nx = lv.A;
                if (nx == 0) break;
                if (nx != node && !Before(_cells[nx].Score, nx, score, member)) break;
                rank += lv.B;
                x = nx;
                if (x == node) return rank;
            }
        }
        return rank;
    }

    /// <summary>The node at a 1-based rank, or 0.</summary>
    public int ByRank(long rank)
    {
        if (rank < 1 || rank > Count) return 0;
        long traversed = 0;
        int x = Head;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (true)
            {
                ref Cell lv = ref _cells[x + HeaderCells + i];
                if (lv.A == 0 || traversed + lv.B > rank) break;
                traversed += lv.B;
                x = lv.A;
            }
            if (traversed == rank) return x;
        }
        return 0;
    }

    public interface IPredicate { bool Test(ZSkipList list, int node); }

    /// <summary>Length of the longest prefix whose elements all satisfy a predicate that is monotone along the list.</summary>
    public long PrefixCount<T>(T pred) where T : struct, IPredicate
    {
        long rank = 0;
        int x = Head;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (true)
            {
                ref Cell lv = ref _cells[x + HeaderCells + i];
                if (lv.A == 0 || !pred.Test(this, lv.A)) break;
                rank += lv.B;
                x = lv.A;
            }
        }
        return rank;
    }
}
