using Basalt.Server.Commands;
using Basalt.Server.Introspection;

namespace Basalt.Server.Replication;

/// <summary>
/// A replica loading its master's snapshot (Redis's loading / async_loading). The dataset is parsed off the execution
/// lock into databases nobody sees; meanwhile clients get -LOADING for commands without the loading flag (or, while
/// the old data keeps being served, for commands flagged no-async-loading). Flags change under the lock.
/// </summary>
public sealed class DatasetLoading
{
    public const string Error = "LOADING Redis is loading the dataset in memory";

    private volatile bool _loading, _async;
    private long _startUnix, _startMs, _totalBytes, _loadedBytes;

    /// <summary>loading:1 — only commands flagged "loading" run.</summary>
    public bool Loading => _loading;
    /// <summary>async_loading:1 — the old data is served; commands flagged "no-async-loading" are refused.</summary>
    public bool Async => _async;
    public bool Any => _loading | _async;

    /// <summary>Under the lock. <paramref name="totalBytes"/> is 0 when unknown (EOF-marked transfer).</summary>
    public void Begin(long totalBytes, bool async)
    {
        _startUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        _startMs = Environment.TickCount64;
        Interlocked.Exchange(ref _totalBytes, Math.Max(0, totalBytes));
        Interlocked.Exchange(ref _loadedBytes, 0);
        if (async) _async = true;
        else _loading = true;
    }

    /// <summary>Under the lock.</summary>
    public void End()
    {
        _loading = false;
        _async = false;
    }

    /// <summary>From the loading thread: bytes of the snapshot consumed so far.</summary>
    public void Progress(long bytes) => Interlocked.Add(ref _loadedBytes, bytes);

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
        b.Field("loading_rdb_used_mem", 0);
        b.Field("loading_loaded_bytes", loaded);
        b.Field2("loading_loaded_perc", total > 0 ? loaded * 100.0 / (total + 1) : 0);
        b.Field("loading_eta_seconds", elapsed == 0 ? 1 : elapsed * Math.Max(0, total - loaded) / (loaded + 1));
    }
}
