using System.Diagnostics;

namespace Basalt.Server.Persistence.Aof;

/// <summary>
/// AOF rewrite (BGREWRITEAOF, auto-aof-rewrite-*, CONFIG SET appendonly yes): under the lock a new incr file takes
/// the write stream while a point-in-time base is written to a temp file; when the base is complete it is renamed
/// to the next base name and the manifest (new base + the incr files written since) replaces the old one atomically.
/// </summary>
public sealed partial class AofManager
{
    private bool BaseUsesRdb => Cfg.GetBool("aof-use-rdb-preamble");

    public bool RewriteInProgress { get; private set; }
    public bool RewriteScheduled { get; private set; }
    public long LastRewriteTimeSec = -1;
    public long Rewrites;
    public long RewritesConsecutiveFailures;
    public bool LastRewriteOk = true;
    private long _rewriteStartTicks;
    private string? _rewriteTemp;
    private string? _rewriteTempIncr; // temp incr while the AOF is being turned on
    private long _lastAutoCheckMs;

    /// <summary>INFO aof_current_rewrite_time_sec.</summary>
    public long CurrentRewriteTimeSec => RewriteInProgress ? Stopwatch.GetElapsedTime(_rewriteStartTicks).Seconds : -1;

    /// <summary>True while an RDB snapshot (BGSAVE) runs and a rewrite has to wait for it.</summary>
    public static Func<RedisServer, bool>? BgsaveInProgress = s => s.Snapshot.Active;

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
            if (_incr is not null) { RetireHandle(_incr); _incr = null; }
            _len = 0;
            TryDelete(_rewriteTempIncr);
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
            else if (State == AofState.On)
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

        string temp = Path.Combine(dir, $"temp-rewriteaof-bg-{Log.Pid}.aof");
        RewriteJob job;
        try { job = new RewriteJob(temp); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.Warning($"Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): {ex.Message}");
            return "ERR Background append only file rewriting failed";
        }
        if (!_server.Snapshot.TryStart(CreateBaseFormat, job, out string? error))
        {
            job.Complete(false, null);
            TryDelete(temp);
            Log.Warning($"Can't rewrite append only file in background: {error}");
            LastRewriteOk = false;
            RewritesConsecutiveFailures++;
            return "ERR Can't rewrite append only file in background: " + error;
        }
        _rewriteTemp = temp;
        _job = job;
        RewriteInProgress = true;
        _rewriteStartTicks = Stopwatch.GetTimestamp();
        Log.Notice($"Background append only file rewriting started by pid {Log.Pid}");
        return null;
    }

    private RewriteJob? _job;

    /// <summary>The base file format: RDB when the preamble is on (and available), else commands.</summary>
    private ISnapshotFormat CreateBaseFormat(Stream s) => BaseUsesRdb
        ? new RdbSnapshotFormat(s, _server, [new("aof-base", "1")])
        : new AofRewriteFormat(s, Cfg.GetBool("aof-timestamp-enabled"));

    /// <summary>Receives the background base snapshot into the temp file (snapshot thread, outside the lock).</summary>
    private sealed class RewriteJob : ISnapshotTarget
    {
        private readonly FileStream _fs;
        public volatile int Done; // 1 ok, 2 failed
        public volatile bool Abandoned;

        public RewriteJob(string path) => _fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 64 * 1024);

        public void Write(ReadOnlySpan<byte> chunk) => _fs.Write(chunk);

        public void Complete(bool ok, Exception? error)
        {
            try
            {
                if (ok) _fs.Flush(flushToDisk: true);
            }
            catch (IOException ex) { ok = false; error = ex; }
            finally { _fs.Dispose(); }
            if (!ok && !Abandoned && error is not null) Log.Warning($"Write error writing append only file on disk: {error.Message}");
            Done = ok ? 1 : 2;
        }
    }

    /// <summary>Writes a point-in-time base (RDB preamble or AOF commands) to <paramref name="path"/>, fsynced. Under the lock.</summary>
    private void WriteBaseBlocking(string path)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 64 * 1024);
        _server.Snapshot.RunBlocking(CreateBaseFormat(fs));
        fs.Flush(flushToDisk: true);
    }

    /// <summary>Under the lock: completes a finished rewrite (rename base, manifest, history) or records its failure.</summary>
    private void FinishRewriteIfDone()
    {
        if (!RewriteInProgress || _job is null || _job.Done == 0) return;
        int done = _job.Done;
        RewriteInProgress = false;
        _job = null;
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
            if (State == AofState.WaitRewrite) RewriteScheduled = true; // turning the AOF on retries until a base exists
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
            if (State != AofState.Off) m.MarkRewrittenIncrAsHistory(); // with the AOF off only the base is renewed
            m.Persist(dir, fn);
            DurableFiles.FsyncDirectory(dir);
            if (!Cfg.GetBool("aof-disable-auto-gc"))
            {
                history.AddRange(m.History);
                m.History.Clear();
                m.Persist(dir, fn);
            }
            Manifest = m;
            CurrentSize = BaseSize = baseSize + _incrOffset;
            if (State == AofState.WaitRewrite) State = AofState.On;
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
        if (_job is not null) { _job.Abandoned = true; _job = null; }
        _server.Snapshot.Cancel();
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
