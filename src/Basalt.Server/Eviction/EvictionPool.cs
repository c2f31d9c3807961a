namespace Basalt.Server.Eviction;

/// <summary>
/// The best eviction candidates seen so far (Redis keeps 16): sorted by ascending score, so the best
/// candidate (longest idle, least frequent, soonest expiring) is last. Kept across evictions like Redis's pool;
/// entries may be stale (key deleted or touched since) and are re-checked when popped.
/// </summary>
public sealed class EvictionPool
{
    public const int Size = 16;

    private readonly long[] _scores = new long[Size];
    private readonly byte[][] _keys = new byte[Size][];
    private readonly int[] _dbs = new int[Size];
    private int _count;

    public int Count => _count;

    /// <summary>Offers a candidate; dropped when the pool is full of better ones.</summary>
    public void Offer(int db, byte[] key, long score)
    {
        for (int i = 0; i < _count; i++)
        {
            if (_dbs[i] == db && _keys[i].AsSpan().SequenceEqual(key))
            {
                // Already there: refresh its score by removing and re-inserting.
                RemoveAt(i);
                break;
            }
        }
        // Insertion point: first entry with a score not lower than ours.
        int pos = 0;
        while (pos < _count && _scores[pos] < score) pos++;
        if (_count == Size)
        {
            if (pos == 0) return; // worse than everything kept
            // Drop the worst (index 0) and shift the lower part left.
            pos--;
            Array.Copy(_scores, 1, _scores, 0, pos);
            Array.Copy(_keys, 1, _keys, 0, pos);
            Array.Copy(_dbs, 1, _dbs, 0, pos);
        }
        else
        {
            Array.Copy(_scores, pos, _scores, pos + 1, _count - pos);
            Array.Copy(_keys, pos, _keys, pos + 1, _count - pos);
            Array.Copy(_dbs, pos, _dbs, pos + 1, _count - pos);
            _count++;
        }
        _scores[pos] = score;
        _keys[pos] = key;
        _dbs[pos] = db;
    }

    /// <summary>Removes and returns the best candidate.</summary>
    public bool TryPopBest(out int db, out byte[] key)
    {
        if (_count == 0) { db = 0; key = null!; return false; }
        _count--;
        db = _dbs[_count];
        key = _keys[_count];
        _keys[_count] = null!;
        return true;
    }

    private void RemoveAt(int i)
    {
        Array.Copy(_scores, i + 1, _scores, i, _count - i - 1);
        Array.Copy(_keys, i + 1, _keys, i, _count - i - 1);
        Array.Copy(_dbs, i + 1, _dbs, i, _count - i - 1);
        _count--;
        _keys[_count] = null!;
    }

    public void Clear()
    {
        Array.Clear(_keys);
        _count = 0;
    }
}
