namespace Basalt.Server.Eviction;

/// <summary>
/// The best eviction candidates seen so far (Redis keeps 16): sorted by ascending score, so the best
/// candidate (longest idle, least frequent, soonest expiring) is last. Kept across evictions like Redis's pool;
/// entries may be stale (key deleted or touched since) and are re-checked when popped.
/// </summary>
public sealed class EvictionPool
{
    public const int Size = 16;

    // One struct array: storing into it needs no covariance check (a byte[][] store does), and a shift moves
    // score, key and db together.
    private struct Candidate
    {
        public long Score;
        public byte[] Key;
        public int Db;
    }

    private readonly Candidate[] _items = new Candidate[Size];
    private int _count;

    public int Count => _count;

    /// <summary>Offers a candidate; dropped when the pool is full of better ones.</summary>
    public void Offer(int db, byte[] key, long score)
    {
        var items = _items;
        // Worse than everything kept: nothing to do (the common case under a write flood, checked first).
        if (_count == Size && score <= items[0].Score) return;
        for (int i = 0; i < _count; i++)
        {
            // Keys are the key table's own arrays, so the same live key is the same reference; comparing contents
            // would touch 16 arrays (16 cache misses) per sample. A key deleted and re-added is a new array: its
            // old entry is stale, and stale entries are re-checked when popped.
            if (ReferenceEquals(items[i].Key, key) && items[i].Db == db)
            {
                RemoveAt(i); // already there: re-inserted below with its new score
                break;
            }
        }
        // Insertion point: first entry with a score not lower than ours.
        int pos = 0;
        while (pos < _count && items[pos].Score < score) pos++;
        if (_count == Size)
        {
            if (pos == 0) return; // worse than everything kept
            // Drop the worst (index 0) and shift the lower part left.
            pos--;
            Array.Copy(items, 1, items, 0, pos);
        }
        else
        {
            Array.Copy(items, pos, items, pos + 1, _count - pos);
            _count++;
        }
        items[pos] = new Candidate { Score = score, Key = key, Db = db };
    }

    /// <summary>Removes and returns the best candidate.</summary>
    public bool TryPopBest(out int db, out byte[] key)
    {
        if (_count == 0) { db = 0; key = null!; return false; }
        _count--;
        db = _items[_count].Db;
        key = _items[_count].Key;
        _items[_count] = default;
        return true;
    }

    private void RemoveAt(int i)
    {
        Array.Copy(_items, i + 1, _items, i, _count - i - 1);
        _count--;
        _items[_count] = default;
    }

    public void Clear()
    {
        Array.Clear(_items);
        _count = 0;
    }
}
