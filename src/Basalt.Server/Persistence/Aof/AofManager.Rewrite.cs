using System.Diagnostics;

namespace Basalt.Server.Persistence.Aof;

/// <summary>
/// AOF rewrite (BGREWRITEAOF, auto-aof-rewrite-*, CONFIG SET appendonly yes): under the lock a new incr file takes
/// the write stream while a point-in-time base is written to a temp file; when the base is complete it is renamed
/// to the next base name and the manifest (new base + the incr files written since) replaces the old one atomically.
/// </summary>
public sealed partial class AofManager
{
    /// <summary>Set once the RDB codec can write whole files (aof-use-rdb-preamble then writes .base.rdb files).</summary>
    public static bool RdbBaseSupported = false;

    private bool BaseUsesRdb => RdbBaseSupported && Cfg.GetBool("aof-use-rdb-preamble");

    public bool RewriteInProgress { get; private set; }
    public bool RewriteScheduled { get; private set; }
    public long LastRewriteTimeSec = -1;
    public long Rewrites;
    public long RewritesConsecutiveFailures;
    public bool LastRewriteOk = true;
    private long _rewriteStartTicks;
    private string? _rewriteTemp;
    private string? _rewriteTempIncr; // temp incr while the AOF is being turned on
    private volatile int _rewriteDone; // 1 ok, 2 failed: set by the snapshot target, finished by the cron
    private long _lastAutoCheckMs;

    /// <summary>INFO aof_current_rewrite_time_sec.</summary>
    public long CurrentRewriteTimeSec => RewriteInProgress ? Stopwatch.GetElapsedTime(_rewriteStartTicks).Seconds : -1;

    /// <summary>True while an RDB snapshot (BGSAVE) runs and a rewrite has to wait for it.</summary>
    public static Func<RedisServer, bool>? BgsaveInProgress;

    /// <summary>
    /// BGREWRITEAOF: null when started (or scheduled, <paramref name="scheduled"/>), else Redis's error text.
    /// Must be called under the execution lock.
    /// </summary>
    public string? RequestRewrite(out bool scheduled)
    {
        scheduled = false;
        if (RewriteInProgress) return "ERR Background append only file rewriting already in progress";
        if (BgsaveInProgress?.Invoke(_server) == true)
        {
            RewriteScheduled = true;
            scheduled = true;
            return null;
        }
        return StartRewrite();
    }

    private string? StartAppendOnly()
    {
        Directory.CreateDirectory(DirPath);
        State = AofState.WaitRewrite;
        if (RewriteInProgress) AbortRewrite("turning AOF on");
        if (BgsaveInProgress?.Invoke(_server) == true)
        {
            RewriteScheduled = true;
            Log.Warning("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
            EnsureAttached();
            return null;
        }
        string? err = StartRewrite();
        if (err is not null)
        {
            State = AofState.Off;
            Detach();
            Log.Warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
            return "Background AOF rewrite failed";
        }
        return null;
    }

    private string? StartRewrite()
    {
        RewriteScheduled = false;
        string dir = DirPath;
        string fn = Cfg.AppendFilename;
        try
        {
            Directory.CreateDirectory(dir);
            // The new incr file takes every write from this point; the base covers everything before it.
            if (State == AofState.WaitRewrite)
            {
                _rewriteTempIncr = Path.Combine(dir, AofManifest.TempIncrName(fn));
                var h = File.OpenHandle(_rewriteTempIncr, FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
                SwitchIncr(h, _rewriteTempIncr, 0);
                EnsureAttached();
            }
            else
            {
                var m = Manifest.Clone();
                string name = m.NewIncrName(fn);
                var h = File.OpenHandle(Path.Combine(dir, name), FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
                SwitchIncr(h, Path.Combine(dir, name), 0);
                m.Persist(dir, fn);
                Manifest = m;
                Log.Notice($"Creating AOF incr file {name} on background rewrite");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.Warning($"Can't open new incr AOF: {ex.Message}");
            LastRewriteOk = false;
            RewritesConsecutiveFailures++;
            return "ERR Can't open new incr AOF";
        }

        _rewriteTemp = Path.Combine(dir, $"temp-rewriteaof-bg-{Log.Pid}.aof");
        RewriteInProgress = true;
        _rewriteStartTicks = Stopwatch.GetTimestamp();
        _rewriteDone = 0;
        Log.Notice($"Background append only file rewriting started by pid {Log.Pid}");
        // Until the background snapshot coordinator can be used, the base is written here, under the lock
        // (Redis's synchronous rewriteAppendOnlyFile); the finish still runs through the same path as a background one.
        try
        {
            WriteBaseBlocking(_rewriteTemp);
            _rewriteDone = 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.Warning($"Write error writing append only file on disk: {ex.Message}");
            _rewriteDone = 2;
        }
        FinishRewriteIfDone();
        return null;
    }

    /// <summary>Writes a point-in-time base (RDB preamble or AOF commands) to <paramref name="path"/>, fsynced. Under the lock.</summary>
    private void WriteBaseBlocking(string path)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 64 * 1024);
        ISnapshotFormat format = new AofRewriteFormat(fs, Cfg.GetBool("aof-timestamp-enabled"));
        SnapshotAll(format);
        fs.Flush(flushToDisk: true);
    }

    /// <summary>Feeds every key of every database to a format, as the snapshot coordinator's blocking mode does.</summary>
    private void SnapshotAll(ISnapshotFormat format)
    {
        format.Begin();
        foreach (var db in _server.Databases)
        {
            if (db.Count == 0) continue;
            format.SelectDb(db.Index, db.Count, db.ExpiresCount);
            var keys = db.Keys;
            long now = Keyspace.Database.NowMs;
            for (int i = 0; i < keys.Capacity; i++)
            {
                if (!keys.IsUsed(i)) continue;
                var key = keys.KeyAt(i);
                long exp = db.GetExpire(key);
                if (exp != -1 && exp < now && Keyspace.Database.ExpireOnRead) continue; // already logically gone
                format.Entry(key, keys.ValueAt(i), exp);
            }
        }
        format.End();
    }

    /// <summary>Under the lock: completes a finished rewrite (rename base, manifest, history) or records its failure.</summary>
    private void FinishRewriteIfDone()
    {
        int done = _rewriteDone;
        if (!RewriteInProgress || done == 0) return;
        RewriteInProgress = false;
        _rewriteDone = 0;
        LastRewriteTimeSec = (long)Stopwatch.GetElapsedTime(_rewriteStartTicks).TotalSeconds;
        if (done == 1 && TryInstallRewrite(out var history))
        {
            LastRewriteOk = true;
            Rewrites++;
            RewritesConsecutiveFailures = 0;
            Log.Notice("Background AOF rewrite terminated with success");
            DeleteHistoryFiles(history);
            Log.Notice("Background AOF rewrite finished successfully");
        }
        else
        {
            LastRewriteOk = false;
            RewritesConsecutiveFailures++;
            Log.Warning("Background AOF rewrite terminated with error");
            TryDelete(_rewriteTemp);
            if (State == AofState.WaitRewrite) { TryDelete(_rewriteTempIncr); }
        }
        _rewriteTemp = null;
    }

    private bool TryInstallRewrite(out List<AofFileInfo> history)
    {
        history = new();
        string dir = DirPath;
        string fn = Cfg.AppendFilename;
        var m = Manifest.Clone();
        try
        {
            string baseName = m.NewBaseName(fn, BaseUsesRdb);
            long baseSize = new FileInfo(_rewriteTemp!).Length;
            File.Move(_rewriteTemp!, Path.Combine(dir, baseName), overwrite: true);
            Log.Notice($"Successfully renamed the temporary AOF base file {Path.GetFileName(_rewriteTemp)} into {baseName}");
            if (State == AofState.WaitRewrite)
            {
                // The incr file written while the AOF was being turned on becomes the first real incr file.
                string incrName = m.NewIncrName(fn);
                File.Move(_rewriteTempIncr!, Path.Combine(dir, incrName), overwrite: true);
                _incrPath = Path.Combine(dir, incrName);
                Log.Notice($"Successfully renamed the temporary AOF incr file {AofManifest.TempIncrName(fn)} into {incrName}");
            }
            m.MarkRewrittenIncrAsHistory();
            m.Persist(dir, fn);
            AofManifest.FsyncDirectory(dir);
            if (!Cfg.GetBool("aof-disable-auto-gc"))
            {
                history.AddRange(m.History);
                m.History.Clear();
                m.Persist(dir, fn);
            }
            Manifest = m;
            CurrentSize = BaseSize = baseSize + _incrOffset;
            if (State == AofState.WaitRewrite)
            {
                State = AofState.On;
                Log.Notice("Background AOF rewrite finished successfully");
            }
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.Warning($"Error trying to rename the temporary AOF base file: {ex.Message}");
            return false;
        }
    }

    private void AbortRewrite(string why)
    {
        if (!RewriteInProgress) return;
        Log.Notice($"Killing running AOF rewrite ({why})");
        RewriteInProgress = false;
        _rewriteDone = 0;
        TryDelete(_rewriteTemp);
        _rewriteTemp = null;
    }

    private static void TryDelete(string? path)
    {
        if (path is null) return;
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>From the cron, under the lock: finished rewrites, scheduled rewrites, auto-aof-rewrite.</summary>
    private void CronRewrite()
    {
        FinishRewriteIfDone();
        if (RewriteInProgress || State == AofState.Off) return;
        if (RewriteScheduled && BgsaveInProgress?.Invoke(_server) != true)
        {
            StartRewrite();
            return;
        }
        if (State != AofState.On) return;
        long nowMs = Environment.TickCount64;
        if (nowMs - _lastAutoCheckMs < 100) return;
        _lastAutoCheckMs = nowMs;
        long perc = Cfg.GetInt64("auto-aof-rewrite-percentage");
        long minSize = Cfg.GetInt64("auto-aof-rewrite-min-size");
        if (perc <= 0 || CurrentSize <= minSize || BgsaveInProgress?.Invoke(_server) == true) return;
        long baseSize = BaseSize == 0 ? 1 : BaseSize;
        long growth = (CurrentSize * 100 / baseSize) - 100;
        if (growth < perc) return;
        Log.Notice($"Starting automatic rewriting of AOF on {growth}% growth");
        StartRewrite();
    }
}
