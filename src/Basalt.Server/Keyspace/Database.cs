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

    /// <summary>Called when a key is removed because its TTL passed (for propagation of a DEL and stats).</summary>
    public Action<Database, byte[]>? KeyExpired;

    public Database(int index) => Index = index;

    public int Count => Keys.Count;

    public long ExpiresCount => Expires.Count;

    /// <summary>Current time in unix milliseconds used for expiry decisions.</summary>
    public static long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>While a replica, keys are not expired by reads (the master sends DELs); reads still hide them.</summary>
    public static bool ExpireOnRead = true;

    /// <summary>The value of a live key, or null. Deletes the key when it has expired.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public object? Lookup(ReadOnlySpan<byte> key, bool touch = true)
    {
        int i = Keys.IndexOf(key);
        if (i < 0) return null;
        if (Expires.Count > 0 && IsExpired(key))
        {
            if (ExpireOnRead) ExpireKey(key);
            return null;
        }
        if (touch) Keys.Touch(i);
        return Keys.ValueAt(i);
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
        ref object slot = ref Keys.GetValueRefOrAdd(key, out bool existed);
        slot = value;
        if (existed && !keepTtl && Expires.Count > 0) Expires.Remove(key);
        KeyModified?.Invoke(this, key);
    }

    /// <summary>Adds a key that is known not to exist (the caller checked), taking ownership of <paramref name="key"/>.</summary>
    public void Add(byte[] key, object value)
    {
        ref object slot = ref Keys.GetValueRefOrAdd(key, out _, key);
        slot = value;
        KeyModified?.Invoke(this, key);
    }

    public bool Delete(ReadOnlySpan<byte> key)
    {
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
        Keys.Clear();
        Expires.Clear();
    }

    /// <summary>Exchanges contents with another database (SWAPDB).</summary>
    public void SwapWith(Database other)
    {
        (Keys, other.Keys) = (other.Keys, Keys);
        (Expires, other.Expires) = (other.Expires, Expires);
    }

    /// <summary>
    /// One step of the active expiry cycle: samples keys with a TTL and deletes the expired ones,
    /// repeating while more than a quarter of a sample was expired (Redis's adaptive rule).
    /// Returns the number of keys expired.
    /// </summary>
    public int ActiveExpireCycle(Random rng, int samplesPerLoop, long deadlineTicks)
    {
        int expiredTotal = 0;
        if (Expires.Count == 0) return 0;
        long now = NowMs;
        Span<int> victims = stackalloc int[Math.Min(samplesPerLoop, 64)];
        for (int loop = 0; loop < 1000; loop++)
        {
            int sampled = 0, expired = 0;
            int n = Math.Min(samplesPerLoop, (int)Expires.Count);
            for (int s = 0; s < n; s++)
            {
                int i = Expires.RandomIndex(rng);
                if (i < 0) break;
                sampled++;
                if (Expires.ValueAt(i) <= now && expired < victims.Length)
                {
                    bool dup = false;
                    for (int v = 0; v < expired; v++) if (victims[v] == i) { dup = true; break; }
                    if (!dup) victims[expired++] = i;
                }
            }
            for (int v = 0; v < expired; v++)
            {
                var key = Expires.KeyAt(victims[v]);
                ExpireKey(key);
            }
            expiredTotal += expired;
            if (sampled == 0 || expired * 4 <= sampled) break;
            if (Environment.TickCount64 >= deadlineTicks) break;
        }
        return expiredTotal;
    }
}
