using System.Diagnostics;
using Basalt.Server.Commands;
using Basalt.Server.Keyspace;

namespace Basalt.Server.Persistence;

/// <summary>
/// Point-in-time snapshots of the whole keyspace without fork and without copying it (the Dragonfly approach).
/// At the start (under the execution lock) the key tables of every database are captured and a bitmap marks, per
/// table, which entry slots still belong to the snapshot. A background thread then walks the tables in short
/// slices under the lock, serializing each pending entry and marking it done, and writes the bytes to the target
/// outside the lock. Before any write touches a pending key (a command's keys, a deletion, an expiry, an
/// eviction, a blocked client being served) that key is serialized first, so what lands in the snapshot is
/// the value as it was at the start; keys created later are not pending and never land in it. FLUSHDB/FLUSHALL
/// give the database fresh tables, leaving the captured ones intact; SWAPDB swaps table references, which
/// the snapshot follows because its state hangs off the table, not the database number.
/// The extra memory is the bitmaps (one bit per slot) plus values serialized early, never a copy of the data.
/// </summary>
public sealed class SnapshotCoordinator
{
    private readonly RedisServer _server;
    private Job? _job;
    private readonly List<KeyRef> _keyRefs = new();

    public SnapshotCoordinator(RedisServer server) => _server = server;

    /// <summary>True while a background snapshot runs (writes then pay the pre-write check).</summary>
    public bool Active => _job is not null;

    /// <summary>Time slice of one background step under the lock.</summary>
    public static readonly long SliceTicks = Stopwatch.Frequency / 1000;

    /// <summary>Pause between slices while commands are flowing (about 4 slices: commands keep ~80% of the lock).</summary>
    public const int GapMs = 4;

    /// <summary>Upper bound of entries per background slice (tests lower it to interleave writes finely).</summary>
    public int EntriesPerSlice { get; set; } = int.MaxValue;

    /// <summary>Tests only: when set, each background slice waits for one release (deterministic interleaving).</summary>
    internal SemaphoreSlim? StepGate { get; set; }

    /// <summary>Entries serialized early because a write was about to change them (INFO, tests).</summary>
    public long EarlyEntries { get; private set; }

    /// <summary>Bytes the last snapshot produced.</summary>
    public long LastBytes { get; private set; }

    /// <summary>
    /// Starts a background snapshot: <paramref name="createFormat"/> gets the stream the format must write to.
    /// Call under the execution lock; the snapshot's point in time is this call. Fails when one is already running.
    /// </summary>
    public bool TryStart(Func<Stream, ISnapshotFormat> createFormat, ISnapshotTarget target, out string? error)
    {
        if (_job is not null)
        {
            error = "a snapshot is already in progress";
            return false;
        }
        var chunks = new ChunkStream();
        var job = new Job(createFormat(chunks), target, chunks) { EntriesPerSlice = EntriesPerSlice, StepGate = StepGate };
        var dbs = _server.Databases;
        var tables = new List<TableState>();
        for (int d = 0; d < dbs.Length; d++)
        {
            if (dbs[d].Count == 0) continue;
            tables.Add(new TableState(d, dbs[d].Keys, dbs[d].Expires));
        }
        job.Tables = tables.ToArray();
        job.Format.Begin();
        _job = job;
        EarlyEntries = 0;
        foreach (var db in dbs) db.BeforeWrite = PreWrite;
        var thread = new Thread(() => Run(job)) { IsBackground = true, Name = "snapshot" };
        thread.Start();
        error = null;
        return true;
    }

    /// <summary>A whole snapshot in one go (SAVE, shutdown, DEBUG RELOAD). Call under the execution lock.</summary>
    public void RunBlocking(ISnapshotFormat format)
    {
        format.Begin();
        var dbs = _server.Databases;
        for (int d = 0; d < dbs.Length; d++)
        {
            var db = dbs[d];
            if (db.Count == 0) continue;
            format.SelectDb(d, db.Count, db.ExpiresCount);
            var keys = db.Keys;
            for (int i = 0; i < keys.Capacity; i++)
            {
                if (!keys.IsUsed(i)) continue;
                var key = keys.KeyAt(i);
                format.Entry(key, keys.ValueAt(i), db.Expires.Count > 0 && db.Expires.TryGetValue(key, out long at) ? at : -1, keys.LruAt(i));
            }
        }
        format.End();
        format.Flush();
    }

    /// <summary>Cancels a running background snapshot (its target gets Complete(false)). Under the lock.</summary>
    public void Cancel()
    {
        if (_job is { } job) job.Cancelled = true;
    }

    /// <summary>Called by the dispatcher before a write command runs: its keys leave the snapshot first.</summary>
    public void BeforeCommand(CommandContext ctx, CommandDef def)
    {
        if (_job is null || !CommandMetadata.HasKeys(def) && def.Name != "move" && def.Name != "copy") return;
        if (TrySimpleKeys(ctx, def)) return;
        var argv = new byte[ctx.Count][];
        for (int i = 0; i < argv.Length; i++) argv[i] = ctx.ArgBytes(i);
        var db = ctx.Db;
        CommandMetadata.GetKeys(def, argv, _keyRefs);
        foreach (var k in _keyRefs) PreWrite(db, argv[k.Position]);
        // MOVE key db / COPY src dst DB n write into another database.
        if (def.Name == "move" && argv.Length == 3 && TryDb(argv[2], out var target)) PreWrite(target, argv[1]);
        if (def.Name == "copy")
        {
            for (int i = 3; i + 1 < argv.Length; i++)
                if (System.Text.Ascii.EqualsIgnoreCase(argv[i], "db"u8) && TryDb(argv[i + 1], out var other)) PreWrite(other, argv[2]);
        }
    }

    /// <summary>
    /// The common case without allocating: one key spec, an index start and a plain range (SET, HSET, LPUSH, DEL, MSET...).
    /// </summary>
    private bool TrySimpleKeys(CommandContext ctx, CommandDef def)
    {
        var specs = def.Info.KeySpecs;
        if (specs.Length != 1) return false;
        var s = specs[0];
        if (s.BeginIndex <= 0 || s.IsKeyNum || s.RangeLimit != 0 || s.RangeKeyStep <= 0 || s.Flags.Length > 0 && Array.Exists(s.Flags, f => f is "not_key" or "incomplete" or "variable_flags"))
            return false;
        int first = s.BeginIndex;
        int last = s.RangeLastKey >= 0 ? first + s.RangeLastKey : ctx.Count + s.RangeLastKey;
        var db = ctx.Db;
        for (int i = first; i <= last && i < ctx.Count; i += s.RangeKeyStep) PreWrite(db, ctx.Arg(i));
        return true;
    }

    private bool TryDb(byte[] arg, out Database db)
    {
        db = null!;
        if (!Basalt.Protocol.RespNumbers.TryParseInt64(arg, out long n) || n < 0 || n >= _server.Databases.Length) return false;
        db = _server.Databases[n];
        return true;
    }

    /// <summary>Serializes <paramref name="key"/> now if it still belongs to the running snapshot.</summary>
    public void PreWrite(Database db, ReadOnlySpan<byte> key)
    {
        var job = _job;
        if (job is null) return;
        foreach (var t in job.Tables)
        {
            if (!ReferenceEquals(t.Keys, db.Keys)) continue;
            int i = t.Keys.IndexOf(key);
            if (i >= 0 && t.IsPending(i))
            {
                Emit(job, t, i);
                EarlyEntries++;
            }
            return;
        }
    }

    private static void Emit(Job job, TableState t, int index)
    {
        if (job.OutputDb != t.Db)
        {
            job.Format.SelectDb(t.Db, t.KeysAtStart, t.ExpiresAtStart);
            job.OutputDb = t.Db;
        }
        var key = t.Keys.KeyAt(index);
        long expire = t.Expires.Count > 0 && t.Expires.TryGetValue(key, out long at) ? at : -1;
        job.Format.Entry(key, t.Keys.ValueAt(index), expire, t.Keys.LruAt(index));
        t.MarkDone(index);
    }

    /// <summary>The background walk: slices under the lock, writes outside it.</summary>
    private void Run(Job job)
    {
        Exception? failure = null;
        bool finished = false;
        try
        {
            while (!finished)
            {
                ChunkStream.Chunk chunk;
                job.StepGate?.Wait();
                lock (_server.ExecLock)
                {
                    if (job.Cancelled) throw new OperationCanceledException("snapshot cancelled");
                    finished = Step(job);
                    if (finished)
                    {
                        job.Format.End();
                        Deactivate(job);
                    }
                    job.Format.Flush();
                    chunk = job.Chunks.Take();
                }
                if (chunk.Length > 0) job.Target.Write(chunk.Span);
                job.Chunks.Recycle(chunk);
                if (finished) break;
                // While clients are being served, hold the lock at most ~1/(1+GapSlices) of the time so commands keep
                // most of their throughput (the save takes longer instead); an idle server gets the walk at full speed.
                long commands = _server.Stats.TotalCommandsProcessed;
                if (commands != job.CommandsSeen && job.StepGate is null)
                {
                    job.CommandsSeen = commands;
                    Thread.Sleep(GapMs);
                }
                else Thread.Yield();
            }
        }
        catch (Exception ex)
        {
            failure = ex;
            lock (_server.ExecLock) Deactivate(job);
        }
        LastBytes = job.Chunks.TotalBytes;
        job.Target.Complete(failure is null, failure);
    }

    /// <summary>Serializes pending entries for about one slice; true when every table is done.</summary>
    private static bool Step(Job job)
    {
        long deadline = Stopwatch.GetTimestamp() + SliceTicks;
        int sinceCheck = 0, budget = job.EntriesPerSlice;
        while (job.Current < job.Tables.Length)
        {
            var t = job.Tables[job.Current];
            while (t.Cursor < t.Capacity)
            {
                int i = t.Cursor++;
                if (!t.IsPending(i)) continue;
                Emit(job, t, i);
                if (--budget <= 0) return false;
                if (++sinceCheck >= 64)
                {
                    sinceCheck = 0;
                    if (Stopwatch.GetTimestamp() >= deadline) return false;
                }
            }
            job.Current++;
        }
        return true;
    }

    private void Deactivate(Job job)
    {
        if (!ReferenceEquals(_job, job)) return;
        _job = null;
        foreach (var db in _server.Databases) db.BeforeWrite = null;
    }

    private sealed class Job(ISnapshotFormat format, ISnapshotTarget target, ChunkStream chunks)
    {
        public readonly ISnapshotFormat Format = format;
        public readonly ISnapshotTarget Target = target;
        public readonly ChunkStream Chunks = chunks;
        public TableState[] Tables = [];
        public int Current;
        public int OutputDb = -1;
        public int EntriesPerSlice;
        public long CommandsSeen;
        public SemaphoreSlim? StepGate;
        public volatile bool Cancelled;
    }

    /// <summary>One captured key table: which slots still belong to the snapshot, and the walk's position.</summary>
    private sealed class TableState
    {
        public readonly int Db;
        public readonly KeyTable<object> Keys;
        public readonly KeyTable<long> Expires;
        public readonly int Capacity;
        public readonly long KeysAtStart, ExpiresAtStart;
        private readonly ulong[] _pending;
        public int Cursor;

        public TableState(int db, KeyTable<object> keys, KeyTable<long> expires)
        {
            Db = db;
            Keys = keys;
            Expires = expires;
            Capacity = keys.Capacity;
            KeysAtStart = keys.Count;
            ExpiresAtStart = expires.Count;
            _pending = new ulong[(Capacity + 63) / 64];
            for (int i = 0; i < Capacity; i++)
                if (keys.IsUsed(i)) _pending[i >> 6] |= 1UL << (i & 63);
        }

        public bool IsPending(int i) => (uint)i < (uint)Capacity && (_pending[i >> 6] & (1UL << (i & 63))) != 0;

        public void MarkDone(int i) => _pending[i >> 6] &= ~(1UL << (i & 63));
    }
}

/// <summary>
/// The stream a background snapshot's format writes into under the lock; the snapshot thread takes the
/// accumulated bytes as a chunk and writes them out after releasing the lock. Two buffers alternate.
/// </summary>
internal sealed class ChunkStream : Stream
{
    public readonly record struct Chunk(byte[] Buffer, int Length)
    {
        public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);
    }

    private byte[] _buf = new byte[256 * 1024];
    private int _len;
    private byte[]? _spare = new byte[256 * 1024];

    public long TotalBytes { get; private set; }

    public Chunk Take()
    {
        var c = new Chunk(_buf, _len);
        _buf = _spare ?? new byte[256 * 1024];
        _spare = null;
        _len = 0;
        return c;
    }

    public void Recycle(Chunk c)
    {
        // Keep buffers that did not balloon on a huge value.
        if (c.Buffer.Length <= 4 * 1024 * 1024) Interlocked.CompareExchange(ref _spare, c.Buffer, null);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_len + buffer.Length > _buf.Length)
            Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + buffer.Length));
        buffer.CopyTo(_buf.AsSpan(_len));
        _len += buffer.Length;
        TotalBytes += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void WriteByte(byte value) => Write([value]);
    public override void Flush() { }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => TotalBytes;
    public override long Position { get => TotalBytes; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
