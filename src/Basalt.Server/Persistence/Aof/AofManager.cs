using System.Globalization;
using Basalt.Server.Replication;
using Microsoft.Win32.SafeHandles;

namespace Basalt.Server.Persistence.Aof;

public enum AofState { Off, On, WaitRewrite }

/// <summary>
/// The append-only file: a propagation sink that buffers the write stream under the execution lock and writes it
/// to the current incr file before replies go out (<see cref="RedisServer.BeforeRepliesSent"/>). appendfsync always
/// fsyncs there too; everysec leaves the fsync to a background thread once a second (never under the lock).
/// Rewrites (BGREWRITEAOF, auto, turning AOF on) live in AofManager.Rewrite.cs.
/// </summary>
public sealed partial class AofManager : IPropagationSink
{
    private readonly RedisServer _server;
    private readonly Lock _fsyncGate = new(); // serializes fsync/close of handles between the lock holder and the fsync thread
    private byte[] _buf = new byte[16 * 1024];
    private int _len;
    private int _selectedDb = -1;
    private long _lastTimestamp;
    private volatile SafeFileHandle? _incr;
    private string? _incrPath;
    private long _incrOffset;
    private readonly List<SafeFileHandle> _toClose = new();
    private Thread? _fsyncThread;
    private volatile bool _stopFsync;
    private volatile bool _needFsync;
    private volatile int _fsyncInProgress;
    private bool _attached;

    public AofManager(RedisServer server)
    {
        _server = server;
        server.BeforeRepliesSent += FlushBeforeReplies;
    }

    public AofState State { get; private set; }
    internal AofManifest Manifest { get; private set; } = new();

    // INFO persistence.
    public long CurrentSize;
    public long BaseSize;
    public bool LastWriteOk = true;

    /// <summary>Why the last write failed (the MISCONF reply names it).</summary>
    public string LastWriteError = "";
    public long DelayedFsync;
    public int BufferLength => _len;
    public bool FsyncPending => _fsyncInProgress != 0;

    private Config.ServerConfig Cfg => _server.Config;

    // Settings read on every write, cached per config version (no lookups on the hot path).
    private int _cfgVersion = -1;
    private bool _timestamps;
    private volatile bool _noFsyncOnRewrite, _fsyncAlways, _fsyncEverysec;

    private void RefreshSettings()
    {
        if (_cfgVersion == Cfg.Version) return;
        _cfgVersion = Cfg.Version;
        _timestamps = Cfg.GetBool("aof-timestamp-enabled");
        _noFsyncOnRewrite = Cfg.GetBool("no-appendfsync-on-rewrite");
        _fsyncAlways = Cfg.AppendFsync == "always";
        _fsyncEverysec = Cfg.AppendFsync == "everysec";
    }

    /// <summary>The AOF directory as an absolute path (dir is the working directory).</summary>
    public string DirPath => Path.GetFullPath(Cfg.AppendDirname);

    // ---------------------------------------------------------------- the write stream

    public void Feed(PropagationUnit unit)
    {
        if (State == AofState.Off) return;
        bool any = false;
        for (int i = 0; i < unit.Count; i++) if ((unit.Targets(i) & PropagateTargets.Aof) != 0) { any = true; break; }
        if (!any) return;
        RefreshSettings();
        bool tx = unit.Transaction;
        if (tx)
        {
            int firstDb = -1;
            for (int i = 0; i < unit.Count && firstDb < 0; i++) if ((unit.Targets(i) & PropagateTargets.Aof) != 0) firstDb = unit.Db(i);
            Emit(firstDb, PropagationFrames.Multi);
        }
        for (int i = 0; i < unit.Count; i++)
            if ((unit.Targets(i) & PropagateTargets.Aof) != 0) Emit(unit.Db(i), unit.Command(i));
        if (tx) Emit(-1, PropagationFrames.Exec);
    }

    private void Emit(int db, ReadOnlySpan<byte> command)
    {
        if (_timestamps)
        {
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (now > _lastTimestamp)
            {
                _lastTimestamp = now;
                Append(TimestampAnnotation(now));
            }
        }
        if (db >= 0 && db != _selectedDb)
        {
            Append(PropagationFrames.Select(db));
            _selectedDb = db;
        }
        Append(command);
    }

    internal static byte[] TimestampAnnotation(long unix) =>
        System.Text.Encoding.ASCII.GetBytes("#TS:" + unix.ToString(CultureInfo.InvariantCulture) + "\r\n");

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_len + bytes.Length > _buf.Length)
            Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + bytes.Length));
        bytes.CopyTo(_buf.AsSpan(_len));
        _len += bytes.Length;
    }

    /// <summary>
    /// Under the execution lock, before replies are sent: writes the buffered stream to the incr file and, with
    /// appendfsync always, fsyncs it, so an acknowledged write is on disk.
    /// </summary>
    public void FlushBeforeReplies()
    {
        if (_len == 0 || _incr is null) return;
        Flush(force: false);
    }

    private void Flush(bool force)
    {
        if (_incr is null) return;
        if (_len > 0)
        {
            try
            {
                RandomAccess.Write(_incr, _buf.AsSpan(0, _len), _incrOffset);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                if (LastWriteOk) Log.Warning($"Error writing to the AOF file: {ex.Message}");
                LastWriteOk = false;
                LastWriteError = ex.Message;
                if (_fsyncAlways)
                {
                    // As Redis: with appendfsync always an acknowledged write may not be lost, so the server stops.
                    Log.Warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
                    Environment.Exit(1);
                }
                return; // the buffer is kept and retried on the next flush
            }
            if (!LastWriteOk) Log.Warning("AOF write error looks solved, Redis can write again.");
            LastWriteOk = true;
            _incrOffset += _len;
            CurrentSize += _len;
            _len = 0;
            if (_buf.Length > 1 << 20) _buf = new byte[16 * 1024];
            _needFsync = true;
        }
        RefreshSettings();
        bool skipForRewrite = _noFsyncOnRewrite && RewriteInProgress;
        if (_needFsync && (force || (_fsyncAlways && !skipForRewrite)))
        {
            _needFsync = false;
            lock (_fsyncGate) FsyncQuiet(_incr);
        }
    }

    private static void FsyncQuiet(SafeFileHandle h)
    {
        try { RandomAccess.FlushToDisk(h); }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException) { Log.Warning($"Can't fsync the AOF: {ex.Message}"); }
    }

    // ---------------------------------------------------------------- background fsync (everysec) and cron

    private void FsyncLoop()
    {
        while (!_stopFsync)
        {
            Thread.Sleep(100);
            try { FsyncTick(); }
            catch (Exception ex) { Log.Warning("AOF fsync thread error: " + ex.Message); }
        }
    }

    private void FsyncTick()
    {
        SafeFileHandle[] closing;
        lock (_toClose) { closing = _toClose.ToArray(); _toClose.Clear(); }
        foreach (var h in closing)
        {
            lock (_fsyncGate) FsyncQuiet(h);
            h.Dispose();
        }
        if (_nextFsyncMs > Environment.TickCount64) return;
        _nextFsyncMs = Environment.TickCount64 + 1000;
        // Settings come from the cached copies (the config dictionary belongs to the lock holder).
        if (!_needFsync || !_fsyncEverysec) return;
        if (_noFsyncOnRewrite && RewriteInProgress) return;
        var h2 = _incr;
        if (h2 is null) return;
        _needFsync = false;
        _fsyncInProgress = 1;
        lock (_fsyncGate) { if (!h2.IsClosed) FsyncQuiet(h2); }
        _fsyncInProgress = 0;
    }

    private long _nextFsyncMs;

    /// <summary>From ServerCron: writes what expiry/eviction fed outside commands, finishes rewrites, auto-rewrites.</summary>
    public void Cron()
    {
        lock (_server.ExecLock)
        {
            if (_incr is not null && _len > 0) Flush(force: false);
            CronRewrite();
        }
    }

    // ---------------------------------------------------------------- files

    private void OpenIncr(string name)
    {
        var h = File.OpenHandle(Path.Combine(DirPath, name), FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite);
        SwitchIncr(h, Path.Combine(DirPath, name), RandomAccess.GetLength(h));
    }

    /// <summary>Writes what is buffered to the old incr file, then appends to <paramref name="h"/>; the next write emits SELECT.</summary>
    private void SwitchIncr(SafeFileHandle h, string path, long offset)
    {
        if (_incr is not null)
        {
            Flush(force: false);
            RetireHandle(_incr);
        }
        _incr = h;
        _incrPath = path;
        _incrOffset = offset;
        _selectedDb = -1;
    }

    /// <summary>Old handles are fsynced and closed off the lock (inline with appendfsync always).</summary>
    private void RetireHandle(SafeFileHandle h)
    {
        if (Cfg.AppendFsync == "always" || _fsyncThread is null)
        {
            lock (_fsyncGate) FsyncQuiet(h);
            h.Dispose();
            return;
        }
        lock (_toClose) _toClose.Add(h);
    }

    private void EnsureAttached()
    {
        if (_attached) return;
        _server.Propagator.AddSink(this);
        _attached = true;
        if (_fsyncThread is null)
        {
            Shutdown.BeforeExit += s => { if (s == _server) OnShutdown(); return true; };
            _stopFsync = false;
            _fsyncThread = new Thread(FsyncLoop) { IsBackground = true, Name = "basalt-aof-fsync" };
            _fsyncThread.Start();
        }
    }

    private void Detach()
    {
        if (!_attached) return;
        _server.Propagator.RemoveSink(this);
        _attached = false;
    }

    /// <summary>
    /// Startup after loading (Redis's aofOpenIfNeededOnServerStart): with an empty manifest a base is written first,
    /// then the last incr file is opened for appending (or a new one created), the manifest persisted and history removed.
    /// </summary>
    public void OpenOnStartup()
    {
        if (!Cfg.AppendOnly) return;
        string dir = DirPath;
        Directory.CreateDirectory(dir);
        string fn = Cfg.AppendFilename;
        bool changed = false;
        if (Manifest.IsEmpty)
        {
            string baseName = Manifest.NewBaseName(fn, BaseUsesRdb);
            WriteBaseBlocking(Path.Combine(dir, baseName));
            Log.Notice($"Creating AOF base file {baseName} on server start");
            changed = true;
        }
        if (Manifest.Incr.Count > 0)
        {
            var last = Manifest.Incr[^1];
            OpenIncr(last.Name);
            Log.Notice($"Opening AOF incr file {last.Name} on server start");
        }
        else
        {
            string name = Manifest.NewIncrName(fn);
            OpenIncr(name);
            Log.Notice($"Creating AOF incr file {name} on server start");
            changed = true;
        }
        var history = new List<AofFileInfo>();
        if (!Cfg.GetBool("aof-disable-auto-gc")) { history.AddRange(Manifest.History); Manifest.History.Clear(); }
        if (changed || history.Count > 0) Manifest.Persist(dir, fn);
        DeleteHistoryFiles(history);
        State = AofState.On;
        EnsureAttached();
    }

    /// <summary>Called once loading finished: what is on disk now is the size to grow from.</summary>
    internal void SetLoadedManifest(AofManifest m, long totalSize)
    {
        Manifest = m;
        CurrentSize = BaseSize = totalSize;
    }

    /// <summary>Final flush and fsync (SHUTDOWN, signals).</summary>
    public void OnShutdown()
    {
        lock (_server.ExecLock)
        {
            AbortRewrite("shutdown");
            if (_incr is null) return;
            Log.Notice("Calling fsync() on the AOF file.");
            Flush(force: true);
            lock (_fsyncGate) FsyncQuiet(_incr);
        }
    }

    /// <summary>CONFIG SET appendonly: starts (with a rewrite) or stops the AOF. Returns an error text or null.</summary>
    public string? ApplyConfig()
    {
        bool want = Cfg.AppendOnly;
        if (want && State == AofState.Off) return StartAppendOnly();
        if (!want && State != AofState.Off) StopAppendOnly();
        return null;
    }

    private void StopAppendOnly()
    {
        Log.Notice("Calling fsync() on the AOF file.");
        Flush(force: true);
        AbortRewrite("AOF turned off");
        if (_incr is not null) { RetireHandle(_incr); _incr = null; }
        _len = 0;
        State = AofState.Off;
        Detach();
    }

    private void DeleteHistoryFiles(List<AofFileInfo> files)
    {
        foreach (var f in files)
        {
            Log.Notice($"Removing the history file {f.Name} in the background");
            try { File.Delete(Path.Combine(DirPath, f.Name)); } catch (IOException) { }
        }
    }
}
