using System.Runtime.CompilerServices;

namespace Basalt.Server.Keyspace;

/// <summary>
/// One numbered database: the key table plus a second table of expiry times (unix ms), like Redis's
/// dict + expires. Reads go through <see cref="Lookup"/>, which deletes a key whose time has passed,
/// so an expired key is never visible. Callers hold the server's execution lock.
/// </summary>
public sealed class Database
{
    public readonly int Index;
    public KeyTable<object> Keys = new();
    public KeyTable<long> Expires = new();

    /// <summary>Called for every key that is modified (WATCH, client tracking, notifications hook in here).</summary>
    public Action<Database, ReadOnlySpan<byte>>? KeyModified;

    /// <summary>Called when a key is created (keyspace "new" notifications).</summary>
    public Action<Database, ReadOnlySpan<byte>>? KeyAdded;

    /// <summary>Called when a key is removed because its TTL passed (for propagation of a DEL and stats).</summary>
    public Action<Database, byte[]>? KeyExpired;

    /// <summary>
    /// Called before a stored key is replaced, deleted or expired, while a snapshot runs (it serializes the old value
    /// first). Commands that change values in place are covered by the dispatcher, which passes their keys.
    /// </summary>
    public Action<Database, ReadOnlySpan<byte>>? BeforeWrite;

    /// <summary>Called before <see cref="Clear"/> empties the database (WATCH must see which keys existed).</summary>
    public Action<Database>? Clearing;

    /// <summary>Arrays of evicted string values to store new strings in (the server's, shared by its databases).</summary>
    public Eviction.EvictedStringPool? StringPool;

    public Database(int index) => Index = index;

    public int Count => Keys.Count;

    public long ExpiresCount => Expires.Count;

    /// <summary>Current time in unix milliseconds used for expiry decisions.</summary>
    public static long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>While a replica, keys are not expired by reads (the master sends DELs); reads still hide them.</summary>
    public static bool ExpireOnRead = true;

    /// <summary>Set while a replica applies its master's stream: the master decides expiry, so its commands see every key.</summary>
    public static bool ApplyingMasterStream;

    /// <summary>The value of a live key, or null. Deletes the key when it has expired.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public object? Lookup(ReadOnlySpan<byte> key, bool touch = true)
    {
        int i = Keys.IndexOf(key);
        if (i < 0) return null;
        if (Expires.Count > 0 && !ApplyingMasterStream && IsExpired(key))
        {
            if (ExpireOnRead) ExpireKey(key);
            return null;
        }
        if (touch) Keys.Touch(i);
        ref object value = ref Keys.ValueAt(i);
        if (value is Types.GrowableString g) value = g.ToArray(); // readers only ever see exact byte[] strings
        return value;
    }

    /// <summary>
    /// APPEND/SETRANGE: like <see cref="Lookup"/> but returns the slot, where a string may be kept as a
    /// <see cref="Types.GrowableString"/>; null-ref when the key does not exist (or has just expired).
    /// </summary>
    public ref object LookupSlotForGrowth(ReadOnlySpan<byte> key)
    {
        int i = Keys.IndexOf(key);
        if (i < 0) return ref Unsafe.NullRef<object>();
        if (Expires.Count > 0 && !ApplyingMasterStream && IsExpired(key))
        {
            if (ExpireOnRead) ExpireKey(key);
            return ref Unsafe.NullRef<object>();
        }
        Keys.Touch(i);
        return ref Keys.ValueAt(i);
    }

    public bool Exists(ReadOnlySpan<byte> key) => Lookup(key, touch: false) is not null;

    private bool IsExpired(ReadOnlySpan<byte> key)
    {
        ref long when = ref Expires.GetValueRefOrNullRef(key);
        return !Unsafe.IsNullRef(ref when) && when <= NowMs;
    }

    /// <summary>Removes an expired key and reports it.</summary>
    public void ExpireKey(ReadOnlySpan<byte> key)
    {
        BeforeWrite?.Invoke(this, key);
        if (Keys.Remove(key, out var storedKey, out _))
        {
            Expires.Remove(key);
            KeyExpired?.Invoke(this, storedKey);
            KeyModified?.Invoke(this, key);
        }
    }

    /// <summary>Sets a value, keeping an existing TTL only when <paramref name="keepTtl"/>.</summary>
    public void Set(ReadOnlySpan<byte> key, object value, bool keepTtl = false)
    {
        BeforeWrite?.Invoke(this, key);
        ref object slot = ref Keys.GetValueRefOrAdd(key, out bool existed);
        slot = value;
        if (existed && !keepTtl && Expires.Count > 0) Expires.Remove(key);
        if (!existed) KeyAdded?.Invoke(this, key);
        KeyModified?.Invoke(this, key);
    }

    /// <summary>Adds a key that is known not to exist (the caller checked), taking ownership of <paramref name="key"/>.</summary>
    public void Add(byte[] key, object value)
    {
        ref object slot = ref Keys.GetValueRefOrAdd(key, out _, key);
        slot = value;
        KeyAdded?.Invoke(this, key);
        KeyModified?.Invoke(this, key);
    }

    public bool Delete(ReadOnlySpan<byte> key)
    {
        BeforeWrite?.Invoke(this, key);
        if (!Keys.Remove(key)) return false;
        if (Expires.Count > 0) Expires.Remove(key);
        KeyModified?.Invoke(this, key);
        return true;
    }

    /// <summary>Expiry time in unix ms, or -1 when the key has none.</summary>
    public long GetExpire(ReadOnlySpan<byte> key)
    {
        if (Expires.Count == 0) return -1;
        return Expires.TryGetValue(key, out long when) ? when : -1;
    }

    /// <summary>Sets the expiry of an existing key; the expires table shares the key's byte array.</summary>
    public void SetExpire(ReadOnlySpan<byte> key, long unixMs)
    {
        int i = Keys.IndexOf(key);
        if (i < 0) return;
        ref long slot = ref Expires.GetValueRefOrAdd(key, out _, Keys.KeyAt(i));
        slot = unixMs;
    }

    public bool Persist(ReadOnlySpan<byte> key) => Expires.Count > 0 && Expires.Remove(key);

    public void Clear()
    {
        Clearing?.Invoke(this);
        // Fresh tables rather than clearing in place: a running snapshot keeps walking the old ones.
        Keys = new();
        Expires = new();
        ExpireCursor = 0;
    }

    /// <summary>Exchanges contents with another database (SWAPDB).</summary>
    public void SwapWith(Database other)
    {
        (Keys, other.Keys) = (other.Keys, Keys);
        (Expires, other.Expires) = (other.Expires, Expires);
        (ExpireCursor, other.ExpireCursor) = (other.ExpireCursor, ExpireCursor);
    }

    /// <summary>Entry index in <see cref="Expires"/> where the active expiry cycle resumes.</summary>
    public int ExpireCursor;

    /// <summary>
    /// Active expiry for this database: walks the expires table from <see cref="ExpireCursor"/> in samples of
    /// <paramref name="samplesPerLoop"/> keys, deleting the expired ones, and repeats while more than
    /// <paramref name="acceptableStalePercent"/> of a sample had expired (Redis 7's adaptive rule) and the
    /// deadline (a <see cref="System.Diagnostics.Stopwatch"/> timestamp) has not passed. Returns the keys expired;
    /// <paramref name="timedOut"/> tells whether it stopped on the deadline while keys were still going stale.
    /// </summary>
    public int ActiveExpireCycle(int samplesPerLoop, int acceptableStalePercent, long deadlineTimestamp, out bool timedOut)
    {
        int expiredTotal = 0;
        timedOut = false;
        long visitedTotal = 0;
        // At most one pass over the table per call: a sparse table (many slots, few TTLs) must not burn the budget.
        while (Expires.Count > 0 && visitedTotal < Expires.Capacity)
        {
            long now = NowMs;
            int toSample = Math.Min(samplesPerLoop, Expires.Count);
            // Empty slots are cheap but not free: bound them per step, as Redis bounds empty buckets.
            int maxVisits = Math.Min(samplesPerLoop * 20, Expires.Capacity);
            int cursor = ExpireCursor;
            int sampled = 0, expired = 0;
            for (int visited = 0; visited < maxVisits && sampled < toSample; visited++)
            {
                if (cursor >= Expires.Capacity) cursor = 0;
                if (Expires.IsUsed(cursor))
                {
                    sampled++;
                    if (Expires.ValueAt(cursor) <= now)
                    {
                        ExpireKey(Expires.KeyAt(cursor));
                        expired++;
                    }
                }
                cursor++;
                visitedTotal++;
            }
            ExpireCursor = cursor;
            expiredTotal += expired;
            if (sampled > 0 && expired * 100 <= sampled * acceptableStalePercent) break;
            if (System.Diagnostics.Stopwatch.GetTimestamp() >= deadlineTimestamp) { timedOut = true; break; }
        }
        return expiredTotal;
    }

    /// <summary>True when <paramref name="key"/> has a TTL that has passed (the key may still be stored).</summary>
    public bool IsExpiredKey(ReadOnlySpan<byte> key) => Expires.Count > 0 && IsExpired(key);

    /// <summary>
    /// A random live key, or null when the database is empty. Expired keys met on the way are deleted
    /// (on a replica they are only skipped, and returned after many tries when every key is volatile, as Redis does).
    /// </summary>
    public byte[]? RandomKey()
    {
        int tries = 0;
        while (Keys.Count > 0)
        {
            int i = Keys.RandomIndex(Random.Shared);
            if (i < 0) return null;
            var key = Keys.KeyAt(i);
            if (Expires.Count == 0 || !IsExpired(key)) return key;
            if (ExpireOnRead) { ExpireKey(key); continue; }
            if (Expires.Count == Keys.Count && ++tries >= 100) return key;
        }
        return null;
    }
}
