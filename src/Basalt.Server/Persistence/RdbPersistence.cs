using System.Diagnostics;
using Basalt.Server.Persistence.Rdb;

namespace Basalt.Server.Persistence;

/// <summary>
/// RDB persistence: SAVE, BGSAVE (on the forkless snapshot), save points, the start-up load, the final save at
/// shutdown, and the state INFO persistence and MISCONF report. Methods that touch state run under the exec lock.
/// </summary>
public sealed class RdbPersistence
{
    private readonly RedisServer _server;

    public RdbPersistence(RedisServer server) => _server = server;

    public bool BgsaveInProgress { get; private set; }
    public bool BgsaveScheduled { get; set; }
    public long BgsaveStartUnix { get; private set; } = -1;
    public bool LastBgsaveOk { get; private set; } = true;
    public long LastBgsaveTimeSec { get; private set; } = -1;
    public long RdbSaves { get; private set; }
    public long LastLoadKeysLoaded { get; private set; }
    public long LastLoadKeysExpired { get; private set; }
    private long _dirtyAtBgsaveStart;
    private long _lastBgsaveTryUnix;
    private const int BgsaveRetryDelaySeconds = 5;

    /// <summary>Raised (outside the lock) when a BGSAVE finished: ok and the file path (replication may ship it).</summary>
    public event Action<bool, string>? BgsaveDone;

    public string FilePath => Path.Combine(_server.Config.Dir.Length > 0 ? _server.Config.Dir : Directory.GetCurrentDirectory(), _server.Config.DbFilename);

    public static long NowUnix => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>
    /// Writes refused with MISCONF: save points are configured, the last background save failed and
    /// stop-writes-on-bgsave-error is on (as Redis decides in writeCommandsDeniedByDiskError).
    /// </summary>
    public bool DenyWrites => !LastBgsaveOk && _server.Config.StopWritesOnBgsaveError && _server.Config.SavePoints.Count > 0;

    public const string MisconfError =
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

    /// <summary>SAVE: the whole snapshot now, under the lock. Returns false (and logs) on failure.</summary>
    public bool SaveBlocking()
    {
        string final = FilePath;
        string temp = Path.Combine(Path.GetDirectoryName(final)!, $"temp-{Environment.ProcessId}.rdb");
        try
        {
            using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var format = new RdbSnapshotFormat(fs, _server, _server.Replicator.SaveInfoAux());
                _server.Snapshot.RunBlocking(format);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, final, overwrite: true);
            SyncDirectory(final);
        }
        catch (Exception ex)
        {
            Log.Warning($"Failed saving the DB: {ex.Message}");
            try { File.Delete(temp); } catch { }
            LastBgsaveOk = false;
            return false;
        }
        Log.Notice("DB saved on disk");
        _server.Dirty = 0;
        _server.LastSaveUnix = NowUnix;
        LastBgsaveOk = true;
        RdbSaves++;
        return true;
    }

    /// <summary>
    /// BGSAVE: starts a background snapshot to a temp file renamed over the dump when complete.
    /// Returns null on success or Redis's error text.
    /// </summary>
    public string? StartBackground()
    {
        if (BgsaveInProgress) return "ERR Background save already in progress";
        if (_server.Snapshot.Active) return "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";
        string final = FilePath;
        string temp = Path.Combine(Path.GetDirectoryName(final)!, $"temp-{Environment.ProcessId}-bg.rdb");
        FileStream fs;
        try { fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16); }
        catch (Exception ex)
        {
            Log.Warning($"Can't save in background: {ex.Message}");
            LastBgsaveOk = false;
            _lastBgsaveTryUnix = NowUnix;
            return "ERR " + ex.Message;
        }
        var target = new FileTarget(this, fs, temp, final);
        _dirtyAtBgsaveStart = _server.Dirty;
        _lastBgsaveTryUnix = NowUnix;
        if (!_server.Snapshot.TryStart(s => new RdbSnapshotFormat(s, _server, _server.Replicator.SaveInfoAux()), target, out var error))
        {
            fs.Dispose();
            try { File.Delete(temp); } catch { }
            return "ERR " + error;
        }
        BgsaveInProgress = true;
        BgsaveScheduled = false;
        BgsaveStartUnix = NowUnix;
        target.Started = Stopwatch.GetTimestamp();
        Log.Notice("Background saving started");
        return null;
    }

    private void Finished(bool ok, string final, long startedTicks)
    {
        lock (_server.ExecLock)
        {
            BgsaveInProgress = false;
            LastBgsaveTimeSec = (long)Stopwatch.GetElapsedTime(startedTicks).TotalSeconds;
            BgsaveStartUnix = -1;
            LastBgsaveOk = ok;
            if (ok)
            {
                _server.Dirty -= _dirtyAtBgsaveStart;
                _server.LastSaveUnix = NowUnix;
                RdbSaves++;
                Log.Notice("Background saving terminated with success");
            }
            else Log.Warning("Background saving error");
        }
        BgsaveDone?.Invoke(ok, final);
    }

    /// <summary>Save points and scheduled BGSAVEs; called from the server cron under the lock.</summary>
    public void Cron()
    {
        if (BgsaveInProgress || _server.Snapshot.Active) return;
        if (BgsaveScheduled)
        {
            StartBackground();
            return;
        }
        long now = NowUnix;
        foreach (var sp in _server.Config.SavePoints)
        {
            if (_server.Dirty >= sp.Changes && now - _server.LastSaveUnix > sp.Seconds
                && (now - _lastBgsaveTryUnix > BgsaveRetryDelaySeconds || LastBgsaveOk))
            {
                Log.Notice($"{sp.Changes} changes in {sp.Seconds} seconds. Saving...");
                StartBackground();
                return;
            }
        }
    }

    /// <summary>
    /// Loads the dump file at start-up if it exists, on the loading thread while clients get -LOADING: parsed off the
    /// execution lock into databases nobody sees, then swapped in under the lock. False (after logging) when unreadable.
    /// </summary>
    public bool LoadAtStartup()
    {
        string path = FilePath;
        if (!File.Exists(path)) return true;
        var sw = Stopwatch.StartNew();
        bool keepExpired;
        lock (_server.ExecLock)
        {
            _server.Dispatcher.Evictor.Sync(); // LRU or LFU decides how IDLE/FREQ records apply
            keepExpired = _server.Config.Get("replicaof").Length > 0; // a replica waits for its master's DELs
        }
        try
        {
            LoadedAside loaded;
            using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
            {
                _server.Loading.SetTotal(fs.Length);
                loaded = LoadedAside.Load(new LoadingProgressStream(fs, _server.Loading), _server, keepExpired);
            }
            lock (_server.ExecLock) loaded.Install(_server);
            var result = loaded.Result;
            LastLoadKeysLoaded = result.KeysLoaded;
            LastLoadKeysExpired = result.ExpiredSkipped;
            LoadedAux = result.Aux;
            Log.Notice($"Done loading RDB, keys loaded: {result.KeysLoaded}, keys expired: {result.ExpiredSkipped}.");
            Log.Notice($"DB loaded from disk: {sw.Elapsed.TotalSeconds:0.000} seconds");
            return true;
        }
        catch (Exception ex) when (ex is RdbFormatException or IOException or EndOfStreamException or NotImplementedException)
        {
            Log.Warning($"Fatal error loading the DB {path}: {ex.Message}");
            return false;
        }
    }

    /// <summary>
    /// Loads an RDB file into the (empty or merged) databases, under the lock (DEBUG RELOAD: blocking, as in Redis);
    /// false after logging when it is unreadable.
    /// </summary>
    public bool LoadFile(string path)
    {
        var sw = Stopwatch.StartNew();
        _server.Dispatcher.Evictor.Sync(); // LRU or LFU decides how IDLE/FREQ records apply

        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var result = RdbFile.Load(fs, _server, new RdbLoadOptions { KeepExpired = _server.Config.Get("replicaof").Length > 0 } /* a replica waits for its master's DELs */);
            LastLoadKeysLoaded = result.KeysLoaded;
            LastLoadKeysExpired = result.ExpiredSkipped;
            LoadedAux = result.Aux;
            Log.Notice($"Done loading RDB, keys loaded: {result.KeysLoaded}, keys expired: {result.ExpiredSkipped}.");
            Log.Notice($"DB loaded from disk: {sw.Elapsed.TotalSeconds:0.000} seconds");
            return true;
        }
        catch (Exception ex) when (ex is RdbFormatException or IOException or EndOfStreamException or NotImplementedException)
        {
            Log.Warning($"Fatal error loading the DB {path}: {ex.Message}");
            return false;
        }
    }

    /// <summary>Aux fields of the file loaded at start (repl-id / repl-offset let a restarted replica resume).</summary>
    public Dictionary<string, string>? LoadedAux { get; private set; }

    /// <summary>Flushes the directory entry after a rename, so the new file survives a crash.</summary>
    private static void SyncDirectory(string file) => DurableFiles.FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);

    private sealed class FileTarget(RdbPersistence owner, FileStream fs, string temp, string final) : ISnapshotTarget
    {
        public long Started;

        public void Write(ReadOnlySpan<byte> chunk) => fs.Write(chunk);

        public void Complete(bool ok, Exception? error)
        {
            try
            {
                if (ok)
                {
                    fs.Flush(flushToDisk: true);
                    fs.Dispose();
                    File.Move(temp, final, overwrite: true);
                    SyncDirectory(final);
                }
            }
            catch (Exception ex)
            {
                error = ex;
                ok = false;
            }
            if (!ok)
            {
                if (error is not null) Log.Warning($"Write error saving DB on disk: {error.Message}");
                fs.Dispose();
                try { File.Delete(temp); } catch { }
            }
            owner.Finished(ok, final, Started);
        }
    }
}
