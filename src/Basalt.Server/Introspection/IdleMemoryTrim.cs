using System.Diagnostics;

namespace Basalt.Server.Introspection;

/// <summary>
/// Gives memory back to the OS once the server goes quiet after heavy writing. The .NET GC keeps the garbage of a
/// load (and the free regions it leaves) committed until allocation pressure forces a collection, so after loading
/// 1M small hashes the process sat at 1.6x the RSS of the same data after a collection, indefinitely if no more
/// writes came. Redis's allocator returns such pages on its own; here, when no command ran for
/// <see cref="IdleMs"/>, more than <see cref="MinAllocatedBytes"/> were allocated since the last trim and the GC's
/// committed memory grew by a quarter (plus 32 MB) over what the last trim left, the cron runs what MEMORY PURGE
/// runs (a blocking, compacting, decommitting full collection). It waits for idleness because the collection pauses
/// every thread for a time that grows with the live heap (85-150 ms for 130-150 MB live here), and it is skipped for
/// heaps above <see cref="MaxHeapBytes"/> (garbage included), where that pause would hurt the next client more than
/// the memory helps.
/// A steady workload whose heap stays flat never triggers it.
/// </summary>
public sealed class IdleMemoryTrim
{
    private const long IdleMs = 2000;
    private const long MinAllocatedBytes = 64L << 20;
    private const long MaxHeapBytes = 512L << 20;

    private readonly RedisServer _server;
    private long _lastCommands = -1;
    private long _quietSinceMs;
    private long _allocatedAtTrim = GC.GetTotalAllocatedBytes(false);
    private long _committedAfterTrim = GC.GetGCMemoryInfo().TotalCommittedBytes;

    public IdleMemoryTrim(RedisServer server) => _server = server;

    /// <summary>From the cron thread, every tick.</summary>
    public void Tick()
    {
        long now = Environment.TickCount64;
        long commands = Volatile.Read(ref _server.Stats.TotalCommandsProcessed);
        if (commands != _lastCommands) { _lastCommands = commands; _quietSinceMs = now; return; }
        if (now - _quietSinceMs < IdleMs) return;
        long allocated = GC.GetTotalAllocatedBytes(false);
        if (allocated - _allocatedAtTrim < MinAllocatedBytes) return;
        _allocatedAtTrim = allocated;
        if (_server.Loading.Loading || _server.Snapshot.Active) return;
        long before = GC.GetGCMemoryInfo().TotalCommittedBytes;
        if (before < _committedAfterTrim + _committedAfterTrim / 4 + (32L << 20)) return;
        if (GC.GetTotalMemory(false) > MaxHeapBytes) return;
        long t0 = Stopwatch.GetTimestamp();
        Basalt.Protocol.BufferPool.Trim();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        long ms = (long)Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        long after = GC.GetGCMemoryInfo().TotalCommittedBytes;
        _committedAfterTrim = after;
        Log.Verbose($"Idle memory trim: GC heap committed {MemoryStats.Human(before)} -> {MemoryStats.Human(after)} in {ms} ms");
    }
}
