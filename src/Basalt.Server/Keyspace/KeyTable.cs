using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Basalt.Server.Keyspace;

/// <summary>
/// Hash table from binary-safe keys to values, looked up by span without allocating.
/// Entries live in one array and never move once placed (growing copies them to the same index),
/// so an entry index is a stable SCAN cursor: a key present for the whole scan is always returned.
/// Freed slots are reused through a free list, as in .NET's Dictionary.
/// </summary>
public sealed class KeyTable<TValue>
{
    private struct Entry
    {
        public int Next;      // next entry in the bucket chain, or next free slot
        public uint Meta;     // high 8 bits: hash tag for cheap rejects; low 24 bits: LRU clock (seconds)
        public byte[] Key;    // null when the slot is free
        public TValue Value;
    }

    private int[] _buckets;   // 1-based entry index, 0 = empty
    private Entry[] _entries;
    private int _count;
    private int _highWater;   // entries[0.._highWater) have been used at some point
    private int _freeList = -1;
    private int _freeCount;

    public KeyTable(int capacity = 16)
    {
        // Small collections (hash/set/zset members) size to their content: a 5-member set needs 8 slots, not 16.
        int size = 4;
        while (size < capacity) size <<= 1;
        _buckets = new int[size];
        _entries = new Entry[size];
    }

    public int Count => _count;

    /// <summary>Upper bound (exclusive) of entry indexes in use; cursors range over [0, Capacity).</summary>
    public int Capacity => _highWater;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Hash(ReadOnlySpan<byte> key)
    {
        return (int)((uint)KeyHasher.Compute(key) & 0x7FFFFFFF);
    }

    private int FindIndex(ReadOnlySpan<byte> key, int hash)
    {
        int i = _buckets[hash & (_buckets.Length - 1)] - 1;
        var entries = _entries;
        while ((uint)i < (uint)entries.Length)
        {
            ref Entry e = ref entries[i];
            if ((e.Meta >> 24) == ((uint)hash >> 23 & 0xFF) && key.SequenceEqual(e.Key)) return i;
            i = e.Next;
        }
        return -1;
    }

    public int IndexOf(ReadOnlySpan<byte> key) => FindIndex(key, Hash(key));

    public bool TryGetValue(ReadOnlySpan<byte> key, out TValue value)
    {
        int i = FindIndex(key, Hash(key));
        if (i >= 0) { value = _entries[i].Value; return true; }
        value = default!;
        return false;
    }

    public bool ContainsKey(ReadOnlySpan<byte> key) => FindIndex(key, Hash(key)) >= 0;

    /// <summary>A reference to the value of <paramref name="key"/>, or a null reference when missing.</summary>
    public ref TValue GetValueRefOrNullRef(ReadOnlySpan<byte> key)
    {
        int i = FindIndex(key, Hash(key));
        if (i < 0) return ref Unsafe.NullRef<TValue>();
        return ref _entries[i].Value;
    }

    /// <summary>
    /// Returns a reference to the value slot for <paramref name="key"/>, adding an entry when missing
    /// (keyed by <paramref name="ownedKey"/> when given, else by a copy of <paramref name="key"/>).
    /// </summary>
    public ref TValue GetValueRefOrAdd(ReadOnlySpan<byte> key, out bool exists, byte[]? ownedKey = null)
    {
        int hash = Hash(key);
        int i = FindIndex(key, hash);
        if (i >= 0) { exists = true; return ref _entries[i].Value; }
        exists = false;
        int index = Insert(ownedKey ?? key.ToArray(), hash); // may grow _entries: index first, then the array
        return ref _entries[index].Value;
    }

    public void Set(byte[] key, TValue value)
    {
        ref TValue slot = ref GetValueRefOrAdd(key, out _, key);
        slot = value;
    }

    private int Insert(byte[] key, int hash)
    {
        int index;
        if (_freeCount > 0)
        {
            index = _freeList;
            _freeList = _entries[index].Next;
            _freeCount--;
        }
        else
        {
            if (_highWater == _entries.Length) Resize();
            index = _highWater++;
        }
        ref int bucket = ref _buckets[hash & (_buckets.Length - 1)];
        ref Entry e = ref _entries[index];
        e.Meta = Tag(hash) | (KeyAccess.Lfu ? Eviction.LfuCounter.NewStamp() : LruClock.Now & LruMask);
        e.Key = key;
        e.Next = bucket - 1;
        bucket = index + 1;
        _count++;
        return index;
    }

    /// <summary>Grows the table once to hold <paramref name="count"/> entries (a loader that knows the size).</summary>
    public void EnsureCapacity(int count)
    {
        if (count <= _entries.Length) return;
        int size = _entries.Length;
        while (size < count) size <<= 1;
        Resize(size);
    }

    private void Resize() => Resize(_entries.Length * 2);

    private void Resize(int newSize)
    {
        Array.Resize(ref _entries, newSize);
        _buckets = new int[newSize];
        for (int i = 0; i < _highWater; i++)
        {
            ref Entry e = ref _entries[i];
            if (e.Key is null) continue;
            // Hashes are not stored (saves 8 bytes a key); recompute them on the rare resize.
            ref int bucket = ref _buckets[Hash(e.Key) & (newSize - 1)];
            e.Next = bucket - 1;
            bucket = i + 1;
        }
    }

    public bool Remove(ReadOnlySpan<byte> key) => Remove(key, out _, out _);

    public bool Remove(ReadOnlySpan<byte> key, out byte[] storedKey, out TValue value)
    {
        int hash = Hash(key);
        ref int bucket = ref _buckets[hash & (_buckets.Length - 1)];
        int prev = -1;
        int i = bucket - 1;
        while (i >= 0)
        {
            ref Entry e = ref _entries[i];
            if ((e.Meta >> 24) == Tag(hash) >> 24 && key.SequenceEqual(e.Key))
            {
                if (prev < 0) bucket = e.Next + 1; else _entries[prev].Next = e.Next;
                storedKey = e.Key;
                value = e.Value;
                e.Meta = 0;
                e.Key = null!;
                e.Value = default!;
                e.Next = _freeList;
                _freeList = i;
                _freeCount++;
                _count--;
                return true;
            }
            prev = i;
            i = e.Next;
        }
        storedKey = null!;
        value = default!;
        return false;
    }

    /// <summary>Bucket chain statistics in DEBUG HTSTATS's layout (Redis 7.0), for one table.</summary>
    public void WriteChainStats(System.Text.StringBuilder sb)
    {
        sb.Append("Hash table 0 stats (main hash table):\n");
        if (_count == 0) { sb.Append("No stats available for empty dictionaries\n"); return; }
        const int Histogram = 50;
        var lengths = new long[Histogram];
        int usedSlots = 0, maxChain = 0;
        long chained = 0;
        foreach (int head in _buckets)
        {
            int len = 0;
            for (int i = head - 1; i >= 0; i = _entries[i].Next) len++;
            lengths[Math.Min(len, Histogram - 1)]++;
            if (len == 0) continue;
            usedSlots++;
            chained += len;
            maxChain = Math.Max(maxChain, len);
        }
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        sb.Append(inv, $" table size: {_buckets.Length}\n number of elements: {_count}\n different slots: {usedSlots}\n");
        sb.Append(inv, $" max chain length: {maxChain}\n avg chain length (counted): {(double)chained / usedSlots:0.00}\n");
        sb.Append(inv, $" avg chain length (computed): {(double)_count / usedSlots:0.00}\n Chain length distribution:\n");
        for (int len = 0; len < Histogram; len++)
            if (lengths[len] > 0)
                sb.Append(inv, $"   {len}: {lengths[len]} ({lengths[len] * 100.0 / _buckets.Length:0.00}%)\n");
    }

    public void Clear()
    {
        Array.Clear(_buckets);
        Array.Clear(_entries, 0, _highWater);
        _count = 0;
        _highWater = 0;
        _freeList = -1;
        _freeCount = 0;
        if (_entries.Length > 1024)
        {
            _buckets = new int[16];
            _entries = new Entry[16];
        }
    }

    /// <summary>True when the slot at <paramref name="index"/> holds an entry.</summary>
    public bool IsUsed(int index) => index < _highWater && _entries[index].Key is not null;

    public byte[] KeyAt(int index) => _entries[index].Key;

    public ref TValue ValueAt(int index) => ref _entries[index].Value;

    /// <summary>Picks a random used slot, or -1 when empty. Falls back to a linear probe when the table is sparse.</summary>
    public int RandomIndex(Random rng)
    {
        if (_count == 0) return -1;
        for (int tries = 0; tries < 64; tries++)
        {
            int i = rng.Next(_highWater);
            if (_entries[i].Key is not null) return i;
        }
        int start = rng.Next(_highWater);
        for (int k = 0; k < _highWater; k++)
        {
            int i = (start + k) % _highWater;
            if (_entries[i].Key is not null) return i;
        }
        return -1;
    }

    /// <summary>
    /// Fills <paramref name="indexes"/> with used slots that follow a random one (wrapping), like Redis's
    /// dictGetSomeKeys: neighbouring entries share cache lines, so a sample of n costs about one miss, not n.
    /// Returns how many were found (fewer only when the table holds fewer keys).
    /// </summary>
    public int RandomRun(Random rng, Span<int> indexes)
    {
        if (_count == 0 || indexes.Length == 0) return 0;
        int want = Math.Min(indexes.Length, _count), found = 0;
        int start = RandomIndex(rng);
        for (int k = 0; k < _highWater && found < want; k++)
        {
            int i = start + k;
            if (i >= _highWater) i -= _highWater;
            if (_entries[i].Key is not null) indexes[found++] = i;
        }
        return found;
    }

    public IEnumerable<KeyValuePair<byte[], TValue>> Enumerate()
    {
        for (int i = 0; i < _highWater; i++)
            if (_entries[i].Key is not null) yield return new(_entries[i].Key, _entries[i].Value);
    }

    public const uint LruMask = 0xFFFFFF;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Tag(int hash) => ((uint)hash >> 23 & 0xFF) << 24;

    /// <summary>LRU clock (seconds, 24 bits) of the entry's last access, for OBJECT IDLETIME and eviction.</summary>
    public uint LruAt(int index) => _entries[index].Meta & LruMask;

    /// <summary>Copies an LRU stamp (RENAME/MOVE keep the idle time of the value, as Redis's object does).</summary>
    public void SetLru(int index, uint lru) => _entries[index].Meta = (_entries[index].Meta & ~LruMask) | (lru & LruMask);

    /// <summary>Records an access: LRU clock, or under an LFU policy the decayed and incremented LFU counter.</summary>
    public void Touch(int index)
    {
        ref uint meta = ref _entries[index].Meta;
        uint field = KeyAccess.Lfu ? Eviction.LfuCounter.Touched(meta & LruMask) : LruClock.Now;
        meta = (meta & ~LruMask) | (field & LruMask);
    }

    /// <summary>LFU counter of the entry (after decay), meaningful only while an LFU policy is selected.</summary>
    public byte LfuAt(int index) => Eviction.LfuCounter.Decayed(_entries[index].Meta & LruMask);

    /// <summary>Bytes of the table's own arrays (not keys or values), for memory accounting.</summary>
    public long TableBytes => (long)_buckets.Length * 4 + (long)_entries.Length * (8 + 2 * IntPtr.Size);
}

/// <summary>Per-process seeded 64-bit mix over the key bytes (seeded so clients cannot force collisions).</summary>
internal static class KeyHasher
{
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Compute(ReadOnlySpan<byte> data)
    {
        // xxHash3-style mixing kept simple: process 8 bytes at a time with multiply-rotate.
        ulong h = Seed ^ ((ulong)data.Length * 0x9E3779B97F4A7C15UL);
        int i = 0;
        while (i + 8 <= data.Length)
        {
            ulong k = MemoryMarshal.Read<ulong>(data[i..]);
            k *= 0x87C37B91114253D5UL;
            k = (k << 31) | (k >> 33);
            k *= 0x4CF5AD432745937FUL;
            h ^= k;
            h = ((h << 27) | (h >> 37)) * 5 + 0x52DCE729;
            i += 8;
        }
        ulong tail = 0;
        int shift = 0;
        for (; i < data.Length; i++, shift += 8) tail |= (ulong)data[i] << shift;
        h ^= tail * 0x9E3779B97F4A7C15UL;
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        h *= 0xC4CEB64FE1A85EC9UL;
        h ^= h >> 33;
        return (int)h;
    }
}

/// <summary>
/// How the 24-bit access field of keys is used: LRU clock, or LFU counter under an allkeys-lfu/volatile-lfu policy.
/// Process-wide (one server per process); the evictor keeps it in step with maxmemory-policy.
/// </summary>
public static class KeyAccess
{
    public static bool Lfu;
}

/// <summary>Seconds-resolution clock for LRU stamps, 24 bits wide like Redis's.</summary>
public static class LruClock
{
    public static uint Now => (uint)(Environment.TickCount64 / 1000) & KeyTable<object>.LruMask;

    /// <summary>Seconds since <paramref name="stamp"/>, handling the 24-bit wrap.</summary>
    public static long IdleSeconds(uint stamp)
    {
        uint now = Now;
        return now >= stamp ? now - stamp : (KeyTable<object>.LruMask - stamp) + now;
    }
}

/// <summary>
/// Where a value view writes back: one entry of a key table (entry indexes are stable), or nowhere (default) for
/// views of values that are only read or not stored yet.
/// </summary>
public readonly struct KeySlot(KeyTable<object> table, int index)
{
    public bool IsBound => table is not null;

    /// <summary>The value stored in the slot (bound slots only).</summary>
    public object Value => table.ValueAt(index);

    /// <summary>Stores <paramref name="value"/> in the slot; does nothing when unbound.</summary>
    public void Store(object value)
    {
        if (table is not null) table.ValueAt(index) = value;
    }

    /// <summary>The slot of <paramref name="key"/>, which must exist.</summary>
    public static KeySlot Of(KeyTable<object> table, ReadOnlySpan<byte> key) => new(table, table.IndexOf(key));
}
