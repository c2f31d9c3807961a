using Basalt.Server.Commands;
using Basalt.Server.Introspection;

namespace Basalt.Server;

/// <summary>
/// The server loading a dataset (Redis's loading / async_loading): the RDB or AOF at startup, or a replica's snapshot
/// from its master. Meanwhile clients get -LOADING for commands without the loading flag (or, while the old data keeps
/// being served, for commands flagged no-async-loading); eviction, save points and AOF rewrites wait. One instance per
/// server (<see cref="RedisServer.Loading"/>); flags change under the execution lock.
/// </summary>
public sealed class DatasetLoading
{
    public const string Error = "LOADING Redis is loading the dataset in memory";

    private volatile bool _loading, _async;
    private long _startUnix, _startMs, _totalBytes, _loadedBytes, _rdbUsedMem;

    /// <summary>loading:1 — only commands flagged "loading" run.</summary>
    public bool Loading => _loading;
    /// <summary>async_loading:1 — the old data is served; commands flagged "no-async-loading" are refused.</summary>
    public bool Async => _async;
    public bool Any => _loading | _async;

    /// <summary>Under the lock. <paramref name="totalBytes"/> is 0 when unknown (EOF-marked transfer, not opened yet).</summary>
    public void Begin(long totalBytes, bool async)
    {
        _startUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        _startMs = Environment.TickCount64;
        Interlocked.Exchange(ref _totalBytes, Math.Max(0, totalBytes));
        Interlocked.Exchange(ref _loadedBytes, 0);
        Interlocked.Exchange(ref _rdbUsedMem, 0);
        if (async) _async = true;
        else _loading = true;
    }

    /// <summary>Under the lock.</summary>
    public void End()
    {
        _loading = false;
        _async = false;
    }

    /// <summary>From the loading thread: the size of what is being loaded, once known.</summary>
    public void SetTotal(long bytes) => Interlocked.Exchange(ref _totalBytes, Math.Max(0, bytes));

    /// <summary>From the loading thread: bytes of the snapshot consumed so far.</summary>
    public void Progress(long bytes) => Interlocked.Add(ref _loadedBytes, bytes);

    /// <summary>From the loading thread: the absolute position reached (files loaded one after another).</summary>
    public void SetLoaded(long bytes) => Interlocked.Exchange(ref _loadedBytes, bytes);

    /// <summary>From the loading thread: the RDB's used-mem aux field (INFO loading_rdb_used_mem).</summary>
    public void SetRdbUsedMem(long bytes) => Interlocked.Exchange(ref _rdbUsedMem, bytes);

    /// <summary>The -LOADING error for a command that may not run now, or null.</summary>
    public string? Check(CommandDef def)
    {
        if (_loading && (def.Flags & CommandFlags.Loading) == 0) return Error;
        if (_async && (def.Flags & CommandFlags.NoAsyncLoading) != 0) return Error;
        return null;
    }

    /// <summary>INFO persistence, after the AOF fields: present only while loading (as Redis).</summary>
    public void WriteInfo(InfoBuilder b)
    {
        if (!Any) return;
        long total = Interlocked.Read(ref _totalBytes), loaded = Interlocked.Read(ref _loadedBytes);
        long elapsed = (Environment.TickCount64 - _startMs) / 1000;
        b.Field("loading_start_time", _startUnix);
        b.Field("loading_total_bytes", total);
        b.Field("loading_rdb_used_mem", Interlocked.Read(ref _rdbUsedMem));
        b.Field("loading_loaded_bytes", loaded);
        b.Field2("loading_loaded_perc", total > 0 ? loaded * 100.0 / (total + 1) : 0);
        b.Field("loading_eta_seconds", elapsed == 0 ? 1 : elapsed * Math.Max(0, total - loaded) / (loaded + 1));
    }

    /// <summary>
    /// key-load-delay (a debugging directive of Redis): a pause of that many microseconds per key or AOF command
    /// loaded; negative -N pauses 1 µs once every N on average. Short pauses are accumulated into whole
    /// milliseconds so the rate holds with a millisecond sleep granularity. Only the loading thread calls it.
    /// </summary>
    public sealed class Delay(RedisServer server)
    {
        private long _owedTicks;

        public void OnItem()
        {
            int usec = server.Config.KeyLoadDelay;
            if (usec == 0) { _owedTicks = 0; return; }
            if (usec < 0) usec = Random.Shared.NextInt64(-(long)usec) == 0 ? 1 : 0;
            if (usec == 0) return;
            long freq = System.Diagnostics.Stopwatch.Frequency;
            _owedTicks += usec * freq / 1_000_000;
            if (_owedTicks < freq / 1000) return;
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            Thread.Sleep((int)Math.Min(_owedTicks * 1000 / freq, 100));
            _owedTicks -= System.Diagnostics.Stopwatch.GetTimestamp() - start;
            if (_owedTicks < -freq / 10) _owedTicks = -freq / 10; // an oversleep is not banked forever
        }
    }
}
