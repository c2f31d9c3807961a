using System.Diagnostics;
using Basalt.Server.Introspection;
using Basalt.Server.Keyspace;

namespace Basalt.Server.Eviction;

public enum EvictionResult { Ok, Running, Fail }

/// <summary>
/// maxmemory enforcement, run before every command while maxmemory is set (as Redis does): when the memory
/// measure is over the limit, keys chosen by maxmemory-policy are deleted until it is under, or until the
/// maxmemory-eviction-tenacity time budget is spent (the next command continues). The caller rejects
/// deny-oom commands when nothing more can be evicted.
/// </summary>
public sealed class Evictor
{
    public const string OomError = "OOM command not allowed when used memory > 'maxmemory'.";

    private enum Policy { NoEviction, AllKeysLru, AllKeysLfu, AllKeysRandom, VolatileLru, VolatileLfu, VolatileRandom, VolatileTtl }

    private readonly RedisServer _server;
    private readonly EvictionPool _pool = new();
    private readonly Random _rng = new();
    private int _configVersion = -1;
    private Policy _policy;
    private int _samples = 5;
    private long _timeLimitTicks;
    private bool _ignoreMaxmemory;
    private int _nextDb;

    // Bytes of evicted entries, by the GC generation they lived in: the managed heap only shrinks when that
    // generation is next collected, so until then the measure subtracts them (no GC is forced, which would stall
    // clients). A collection of generation g releases the credit of generations 0..g.
    private readonly long[] _credit = new long[3];
    private readonly int[] _gcCounts = new int[3];

    // Garbage: the measure also counts dead objects of generation 0 until the next collection (its budget is
    // about 16 MB here, more than a small maxmemory). When over the limit and enough was allocated since the
    // last collection to explain the excess, one gen0 collection (cheap: cost follows the survivors) is induced
    // before evicting, at most once per MinGarbageBytes allocated.
    private const long MinGarbageBytes = 1 << 20;
    private long _allocatedAtGc;
    private int _allocGcCount;

    /// <summary>Values of evicted strings kept for the next SETs of the same length.</summary>
    public readonly EvictedStringPool StringPool = new();

    /// <summary>Collections induced so far and the time they took (diagnostics).</summary>
    public long InducedCollections { get; private set; }
    public long InducedCollectionTicks { get; private set; }

    private long _exceededSince;   // Stopwatch timestamp when the limit was first exceeded, 0 = under it
    private long _totalExceededTicks;

    /// <summary>Hook for memory that must not count towards the limit (Redis: replication and AOF buffers).</summary>
    public Func<long>? NotCountedForEvict;

    /// <summary>Raised for each evicted key before it is deleted (keyspace notifications, DEL propagation).</summary>
    public Action<Database, byte[]>? KeyEvicted;

    public Evictor(RedisServer server)
    {
        _server = server;
        _allocGcCount = GC.CollectionCount(0);
        _allocatedAtGc = GC.GetTotalAllocatedBytes(false);
    }

    /// <summary>INFO total_eviction_exceeded_time / current_eviction_exceeded_time, in ms.</summary>
    public long CurrentExceededMs => _exceededSince == 0 ? 0 : TicksToMs(Stopwatch.GetTimestamp() - _exceededSince);
    public long TotalExceededMs => TicksToMs(_totalExceededTicks + (_exceededSince == 0 ? 0 : Stopwatch.GetTimestamp() - _exceededSince));

    /// <summary>CONFIG RESETSTAT: the exceeded-time counters start over (an ongoing excess counts from now).</summary>
    public void ResetStats()
    {
        _totalExceededTicks = 0;
        if (_exceededSince != 0) _exceededSince = Stopwatch.GetTimestamp();
    }

    private static long TicksToMs(long ticks) => ticks * 1000 / Stopwatch.Frequency;

    /// <summary>Re-reads the eviction settings after a config change; cheap when nothing changed.</summary>
    public void Sync()
    {
        var cfg = _server.Config;
        if (cfg.Version == _configVersion) return;
        _configVersion = cfg.Version;
        _policy = cfg.MaxMemoryPolicy switch
        {
            "allkeys-lru" => Policy.AllKeysLru,
            "allkeys-lfu" => Policy.AllKeysLfu,
            "allkeys-random" => Policy.AllKeysRandom,
            "volatile-lru" => Policy.VolatileLru,
            "volatile-lfu" => Policy.VolatileLfu,
            "volatile-random" => Policy.VolatileRandom,
            "volatile-ttl" => Policy.VolatileTtl,
            _ => Policy.NoEviction,
        };
        KeyAccess.Lfu = _policy is Policy.AllKeysLfu or Policy.VolatileLfu;
        LfuCounter.LogFactor = cfg.GetInt64("lfu-log-factor");
        LfuCounter.DecayTime = cfg.GetInt64("lfu-decay-time");
        _samples = Math.Max(1, cfg.MaxMemorySamples);
        long tenacity = cfg.GetInt64("maxmemory-eviction-tenacity");
        double micros = tenacity <= 10 ? 50.0 * tenacity : tenacity < 100 ? 500.0 * Math.Pow(1.15, tenacity - 10) : -1;
        _timeLimitTicks = micros < 0 ? long.MaxValue : (long)(micros * Stopwatch.Frequency / 1_000_000);
        _ignoreMaxmemory = cfg.ReplicaOf.Length > 0 && cfg.GetBool("replica-ignore-maxmemory");
        // A few SETs' worth is enough: eviction runs before each command and the command reuses what it freed.
        StringPool.Capacity = cfg.MaxMemory > 0 ? Math.Min(cfg.MaxMemory / 64, 1 << 20) : 0;
        if (StringPool.Capacity == 0) StringPool.Clear();
    }

    /// <summary>The memory measure compared with maxmemory: INFO used_memory minus evicted bytes not yet collected.</summary>
    public long UsedForEviction()
    {
        int c2 = GC.CollectionCount(2), c1 = GC.CollectionCount(1), c0 = GC.CollectionCount(0);
        if (c2 != _gcCounts[2]) { _credit[0] = _credit[1] = _credit[2] = 0; }
        else if (c1 != _gcCounts[1]) { _credit[0] = _credit[1] = 0; }
        else if (c0 != _gcCounts[0]) { _credit[0] = 0; }
        _gcCounts[0] = c0; _gcCounts[1] = c1; _gcCounts[2] = c2;
        long used = MemoryStats.UsedMemory() - _credit[0] - _credit[1] - _credit[2] - StringPool.Bytes;
        if (NotCountedForEvict is { } hook) used -= hook();
        return Math.Max(0, used);
    }

    /// <summary>Redis's performEvictions: Ok (under the limit), Running (budget spent, continues later), Fail (OOM).</summary>
    public EvictionResult Perform()
    {
        Sync();
        long max = _server.Config.MaxMemory;
        // Nothing is evicted or refused while a dataset loads (Redis's isSafeToPerformEvictions).
        if (max <= 0 || _ignoreMaxmemory || _server.Loading.Loading) return EvictionResult.Ok;
        long used = UsedForEviction();
        if (_credit[1] + _credit[2] > Math.Max(max / EvictedGarbageFraction, MinGarbageBytes)) { CollectEvicted(); used = UsedForEviction(); }
        if (used > max && CollectGarbageIfWorthIt(used - max)) used = UsedForEviction();
        EvictionResult result;
        if (used <= max) result = EvictionResult.Ok;
        else if (_policy == Policy.NoEviction) result = EvictionResult.Fail;
        else
        {
            long t0 = Stopwatch.GetTimestamp();
            result = Evict(used - max, max);
            if (_server.Config.LatencyMonitorThreshold > 0)
                _server.Dispatcher.Introspection.Latency.AddIfNeeded(_server, "eviction-cycle", TicksToMs(Stopwatch.GetTimestamp() - t0));
        }
        if (result == EvictionResult.Ok)
        {
            if (_exceededSince != 0) { _totalExceededTicks += Stopwatch.GetTimestamp() - _exceededSince; _exceededSince = 0; }
        }
        else if (_exceededSince == 0) _exceededSince = Stopwatch.GetTimestamp();
        return result;
    }

    private bool CollectGarbageIfWorthIt(long excess)
    {
        long allocated = GC.GetTotalAllocatedBytes(false);
        int gcs = GC.CollectionCount(0);
        if (gcs != _allocGcCount) { _allocGcCount = gcs; _allocatedAtGc = allocated; return false; }
        if (allocated - _allocatedAtGc < Math.Max(excess, MinGarbageBytes)) return false;
        long t0 = Stopwatch.GetTimestamp();
        GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: false);
        InducedCollectionTicks += Stopwatch.GetTimestamp() - t0;
        InducedCollections++;
        _allocGcCount = GC.CollectionCount(0);
        _allocatedAtGc = GC.GetTotalAllocatedBytes(false);
        return true;
    }

    // Evicted values that had been promoted stay on the heap until a gen1/gen2 collection, which the GC schedules by
    // its own budgets (it lets gen2 grow to a multiple of its size): under a write flood the process would hold
    // about twice maxmemory. Once the evicted bytes still waiting reach 1/EvictedGarbageFraction of the limit, one
    // full blocking collection is induced; its cost follows the live heap (about maxmemory), paid once per
    // maxmemory/EvictedGarbageFraction bytes evicted. 8 measured best under bench/eviction.sh's SET flood: 4 held RSS
    // growth at 1.4x the limit, 8 at 1.2x with the same throughput, 16 no lower RSS and a fifth less throughput.
    private const int EvictedGarbageFraction = 8;

    private void CollectEvicted()
    {
        long t0 = Stopwatch.GetTimestamp();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        InducedCollectionTicks += Stopwatch.GetTimestamp() - t0;
        InducedCollections++;
        _allocGcCount = GC.CollectionCount(0);
        _allocatedAtGc = GC.GetTotalAllocatedBytes(false);
    }

    private EvictionResult Evict(long toFree, long max)
    {
        long start = Stopwatch.GetTimestamp();
        long freed = 0;
        int keysFreed = 0;
        while (freed < toFree)
        {
            if (!PickVictim(out var db, out var key)) return EvictionResult.Fail;
            freed += Delete(db, key);
            keysFreed++;
            // The real measure is re-read now and then: estimates are rough and the GC may have run meanwhile.
            if ((keysFreed & 15) == 0)
            {
                if (UsedForEviction() <= max) break;
                if (Stopwatch.GetTimestamp() - start > _timeLimitTicks) return EvictionResult.Running;
            }
        }
        return EvictionResult.Ok;
    }

    private long Delete(Database db, byte[] key)
    {
        int i = db.Keys.IndexOf(key);
        if (i < 0) { db.Expires.Remove(key); return 0; } // a TTL without its key: nothing to evict
        var value = db.Keys.ValueAt(i);
        long bytes = MemoryStats.KeyUsage(key, value, 5);
        if (db.Expires.Count > 0 && db.Expires.ContainsKey(key)) bytes += MemoryStats.DictEntrySize + 8;
        int gen = Math.Clamp(GC.GetGeneration(value), 0, 2);
        KeyEvicted?.Invoke(db, key);
        db.Delete(key);
        _server.Stats.EvictedKeys++;
        // A recycled value is not garbage: it stays out of the GC credit (the measure subtracts the pool instead).
        // A running snapshot may still be writing out the bytes it serialized, never the array, but keep clear anyway.
        // For strings the garbage is exactly the two arrays (the table slot is reused), not MEMORY USAGE's estimate.
        long garbage = bytes;
        if (value is byte[] s)
            garbage = ArrayBytes(key.Length) + (!_server.Snapshot.Active && StringPool.Offer(s) ? 0 : ArrayBytes(s.Length));
        _credit[gen] += garbage;
        return bytes;
    }

    /// <summary>Heap bytes of a byte[] of <paramref name="length"/> on 64-bit .NET: 24 bytes of header, 8-byte aligned.</summary>
    private static long ArrayBytes(int length) => (24 + length + 7) & ~7L;

    private bool AllKeys => _policy is Policy.AllKeysLru or Policy.AllKeysLfu or Policy.AllKeysRandom;

    private bool PickVictim(out Database db, out byte[] key)
    {
        var dbs = _server.Databases;
        if (_policy is Policy.AllKeysRandom or Policy.VolatileRandom)
        {
            // Random policies visit the databases in turn, one random key each.
            for (int n = 0; n < dbs.Length; n++)
            {
                db = dbs[_nextDb];
                _nextDb = (_nextDb + 1) % dbs.Length;
                int i;
                if (AllKeys) { if ((i = db.Keys.RandomIndex(_rng)) >= 0) { key = db.Keys.KeyAt(i); return true; } }
                else if ((i = db.Expires.RandomIndex(_rng)) >= 0) { key = db.Expires.KeyAt(i); return true; }
            }
            db = null!; key = null!;
            return false;
        }
        // Rounds are bounded only as a guard: a round offers at least one existing key to an emptied pool.
        for (int round = 0; round < 1000; round++)
        {
            long total = 0;
            for (int d = 0; d < dbs.Length; d++)
            {
                long n = AllKeys ? dbs[d].Keys.Count : dbs[d].Expires.Count;
                if (n == 0) continue;
                total += n;
                Populate(d, dbs[d]);
            }
            if (total == 0) { db = null!; key = null!; return false; }
            // Best first; entries whose key went away (or lost its TTL) since they were sampled are skipped.
            while (_pool.TryPopBest(out int dbIndex, out key))
            {
                db = dbs[dbIndex];
                if (AllKeys ? db.Keys.ContainsKey(key) : db.Expires.ContainsKey(key)) return true;
            }
        }
        db = null!; key = null!;
        return false;
    }

    /// <summary>Samples maxmemory-samples keys of one database into the pool, scored so that higher = evict first.</summary>
    private void Populate(int dbIndex, Database db)
    {
        bool fromExpires = !AllKeys;
        if (!fromExpires)
        {
            Span<int> run = stackalloc int[Math.Min(_samples, 64)];
            int n = db.Keys.RandomRun(_rng, run);
            bool lfu = _policy == Policy.AllKeysLfu;
            for (int s = 0; s < n; s++)
            {
                int ki = run[s];
                long score = lfu ? 255 - db.Keys.LfuAt(ki) : LruClock.IdleSeconds(db.Keys.LruAt(ki));
                _pool.Offer(dbIndex, db.Keys.KeyAt(ki), score);
            }
            return;
        }
        for (int s = 0; s < _samples; s++)
        {
            byte[] key;
            long expireAt = 0;
            int ki;
            if (fromExpires)
            {
                int ei = db.Expires.RandomIndex(_rng);
                if (ei < 0) return;
                key = db.Expires.KeyAt(ei);
                expireAt = db.Expires.ValueAt(ei);
                if (_policy == Policy.VolatileTtl) { _pool.Offer(dbIndex, key, long.MaxValue - expireAt); continue; }
                ki = db.Keys.IndexOf(key);
                if (ki < 0) continue;
            }
            else
            {
                ki = db.Keys.RandomIndex(_rng);
                if (ki < 0) return;
                key = db.Keys.KeyAt(ki);
            }
            long score = _policy is Policy.AllKeysLfu or Policy.VolatileLfu
                ? 255 - db.Keys.LfuAt(ki)
                : LruClock.IdleSeconds(db.Keys.LruAt(ki));
            _pool.Offer(dbIndex, key, score);
        }
    }
}
