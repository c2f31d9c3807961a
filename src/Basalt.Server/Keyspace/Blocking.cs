using Basalt.Protocol;
using Basalt.Server.Commands;

namespace Basalt.Server.Keyspace;

/*
 * Blocking API (lists now; sorted sets and streams reuse it). Everything runs under server.ExecLock.
 *
 *   A blocking command handler that finds no data:
 *     if (!Blocking.CanBlock(ctx)) { reply the "no data" null; return; }     // MULTI/EXEC, scripts
 *     Blocking.TryParseTimeout(ctx, argIndex, out long deadline)            // earlier, replies the errors
 *     ctx.Server.Blocking.Block(ctx.Client, keys, deadline, serve, timeoutReply, state);
 *   and writes nothing. The connection stops executing the client's input until it is unblocked.
 *
 *   serve(BlockedClient b, Database db, byte[] key) is called after a command completed for each waiter on a key
 *   that became "ready", in FIFO order of blocking. It returns false when there is nothing for this waiter (it stays
 *   blocked); true when it wrote b.Client.Out's reply (data or an error): the client is then unblocked and resumed.
 *   The state object is whatever the handler needs (direction, count, destination...).
 *
 *   Keys become ready automatically when any command modifies a waited key (Database.KeyModified hook) and
 *   explicitly with SignalKeyAsReady(db, key) / SignalDatabaseReady(db) (SWAPDB). ServeReadyKeys() runs after every top-level command
 *   (ClientConnection.ProcessInput); it repeats while serving makes further keys ready (BLMOVE chains).
 *   Other executors of commands outside ProcessInput (replication stream, AOF) should call it after each command.
 *   A command that may block needs CommandFlags.Blocking: the connection ends its batch after such a command
 *   (pre-filtered on names starting with b, x or w, so the batch of GET/SET pipelines is not slowed down).
 *
 *   Timeouts: deadline is Environment.TickCount64 ms (0 = forever); a timer writes timeoutReply and unblocks.
 *   Blocking.Unblock(client, error) serves CLIENT UNBLOCK (TIMEOUT: the timeout reply; ERROR: -UNBLOCKED ...).
 *   RemoveClient(client) drops a disconnecting client from every queue.
 */

/// <summary>Called for a waiter on a ready key: true when it replied (the client is then unblocked).</summary>
public delegate bool BlockedServe(BlockedClient b, Database db, byte[] key);

/// <summary>One blocked client: what it waits for and how to serve it.</summary>
public sealed class BlockedClient
{
    public required Client Client { get; init; }
    public required int DbIndex { get; init; }
    public required byte[][] Keys { get; init; }
    /// <summary>Environment.TickCount64 deadline in ms, 0 = none.</summary>
    public long Deadline { get; init; }
    public required BlockedServe Serve { get; init; }
    public required Action<RespWriter> TimeoutReply { get; init; }
    public object? State { get; init; }
    internal LinkedListNode<BlockedClient>?[] Nodes = [];
    internal bool Done;
}

public sealed class Blocking
{
    private readonly RedisServer _server;
    private readonly Dictionary<byte[], LinkedList<BlockedClient>>?[] _waiters;
    private readonly bool[] _hooked;
    private readonly Dictionary<long, BlockedClient> _byClient = new();
    private List<(int Db, byte[] Key)> _ready = new();
    private List<(int Db, byte[] Key)> _spare = new();
    private readonly HashSet<(int, byte[])> _readySet = new(new DbKeyComparer());
    private readonly PriorityQueue<BlockedClient, long> _timeouts = new();
    private Timer? _timer;
    private long _timerDue = long.MaxValue;

    public Blocking(RedisServer server)
    {
        _server = server;
        _waiters = new Dictionary<byte[], LinkedList<BlockedClient>>?[server.Databases.Length];
        _hooked = new bool[server.Databases.Length];
    }

    /// <summary>Number of blocked clients (INFO blocked_clients).</summary>
    public int BlockedCount => _byClient.Count;

    /// <summary>Number of keys with waiters (INFO blocking_keys).</summary>
    public int BlockingKeys
    {
        get { int n = 0; foreach (var d in _waiters) n += d?.Count ?? 0; return n; }
    }

    public bool HasReadyKeys => _ready.Count > 0;

    /// <summary>Blocking commands inside MULTI/EXEC or scripts behave as if the timeout expired at once.</summary>
    public static bool CanBlock(CommandContext ctx) =>
        ctx.Client.Connection is not null && !ctx.Client.Has(ClientFlags.Multi) && !ctx.Client.Has(ClientFlags.Internal);

    /// <summary>
    /// Parses a timeout in seconds (a float, sub-second precision) into a TickCount64 deadline (0 = forever),
    /// replying Redis 7.0's errors. Values whose millisecond count does not fit a 64-bit integer (inf, 1e30)
    /// are "negative" there, as the C cast yields LLONG_MIN.
    /// </summary>
    public static bool TryParseTimeout(CommandContext ctx, int arg, out long deadline)
    {
        deadline = 0;
        if (!TryParseLongDouble(ctx.Arg(arg), out double secs))
        {
            ctx.Reply.WriteError("ERR timeout is not a float or out of range");
            return false;
        }
        double ms = secs * 1000.0;
        long tval = ms >= 9.2233720368547758E18 || ms < -9.2233720368547758E18 || double.IsNaN(ms) ? long.MinValue : (long)ms;
        if (tval < 0)
        {
            ctx.Reply.WriteError("ERR timeout is negative");
            return false;
        }
        if (tval > 0) deadline = tval > long.MaxValue / 2 ? long.MaxValue : Environment.TickCount64 + tval;
        return true;
    }

    /// <summary>strtold-like: decimal or hex floats, inf, no surrounding spaces; nan rejected.</summary>
    private static bool TryParseLongDouble(ReadOnlySpan<byte> s, out double v)
    {
        if (RespNumbers.TryParseDouble(s, out v)) return true;
        // C's strtold also takes hexadecimal ("0x10").
        var t = s;
        bool neg = false;
        if (t.Length > 0 && (t[0] == '-' || t[0] == '+')) { neg = t[0] == '-'; t = t[1..]; }
        if (t.Length < 3 || t[0] != '0' || (t[1] | 0x20) != 'x') return false;
        double r = 0;
        bool any = false, frac = false;
        double scale = 1;
        int i = 2;
        for (; i < t.Length; i++)
        {
            byte c = t[i];
            int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
            if (c == '.' && !frac) { frac = true; continue; }
            if (d < 0) break;
            any = true;
            if (frac) { scale /= 16; r += d * scale; } else r = r * 16 + d;
        }
        if (!any) return false;
        if (i < t.Length)
        {
            if ((t[i] | 0x20) != 'p' || !RespNumbers.TryParseInt64(t[(i + 1)..], out long exp)) return false;
            r *= Math.Pow(2, Math.Clamp(exp, -2000, 2000));
        }
        v = neg ? -r : r;
        return true;
    }

    /// <summary>Blocks the client on <paramref name="keys"/> (copies owned by the caller). The handler writes nothing.</summary>
    public BlockedClient Block(Client client, byte[][] keys, long deadline, BlockedServe serve, Action<RespWriter> timeoutReply, object? state = null)
    {
        int dbi = client.DbIndex;
        var b = new BlockedClient { Client = client, DbIndex = dbi, Keys = keys, Deadline = deadline, Serve = serve, TimeoutReply = timeoutReply, State = state };
        b.Nodes = new LinkedListNode<BlockedClient>?[keys.Length];
        var map = _waiters[dbi] ??= new Dictionary<byte[], LinkedList<BlockedClient>>(ByteKeyComparer.Instance);
        if (!_hooked[dbi])
        {
            _hooked[dbi] = true;
            _server.Databases[dbi].KeyModified += OnKeyModified;
        }
        for (int i = 0; i < keys.Length; i++)
        {
            if (!map.TryGetValue(keys[i], out var q)) map[keys[i]] = q = new LinkedList<BlockedClient>();
            else if (AlreadyQueued(b, q)) continue; // BLPOP k k
            b.Nodes[i] = q.AddLast(b);
        }
        _byClient[client.Id] = b;
        client.Flags |= ClientFlags.Blocked;
        if (deadline > 0)
        {
            _timeouts.Enqueue(b, deadline);
            ScheduleTimer(deadline);
        }
        return b;
    }

    private static bool AlreadyQueued(BlockedClient b, LinkedList<BlockedClient> q)
    {
        foreach (var n in b.Nodes) if (n is not null && n.List == q) return true;
        return false;
    }

    public bool IsBlocked(Client client) => _byClient.ContainsKey(client.Id);

    private void OnKeyModified(Database db, ReadOnlySpan<byte> key)
    {
        var map = _waiters[db.Index];
        if (map is null || map.Count == 0) return;
        var lookup = map.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(key, out var stored, out _)) AddReady(db.Index, stored);
    }

    /// <summary>Marks a key as ready when clients wait on it (cheap when none do).</summary>
    public void SignalKeyAsReady(Database db, ReadOnlySpan<byte> key) => OnKeyModified(db, key);

    /// <summary>Marks every waited key of a database as ready (SWAPDB: the data under those keys changed).</summary>
    public void SignalDatabaseReady(int dbIndex)
    {
        var map = _waiters[dbIndex];
        if (map is null) return;
        foreach (var key in map.Keys) AddReady(dbIndex, key);
    }

    private void AddReady(int db, byte[] key)
    {
        if (_readySet.Add((db, key))) _ready.Add((db, key));
    }

    /// <summary>Serves waiters of every ready key, FIFO, until no key is ready. Called after each top-level command.</summary>
    public void ServeReadyKeys()
    {
        while (_ready.Count > 0)
        {
            var batch = _ready;
            _ready = _spare;
            _readySet.Clear();
            foreach (var (dbi, key) in batch)
            {
                var map = _waiters[dbi];
                if (map is null || !map.TryGetValue(key, out var q)) continue;
                var db = _server.Databases[dbi];
                var node = q.First;
                while (node is not null)
                {
                    // Serving only detaches the served client, so its successor stays valid.
                    var next = node.Next;
                    var b = node.Value;
                    if (_server.Snapshot.Active) _server.Snapshot.PreWrite(db, key);
                    if (b.Serve(b, db, key)) Finish(b);
                    node = next;
                }
            }
            batch.Clear();
            _spare = batch;
        }
    }

    /// <summary>Removes a client from all queues and lets its connection resume with its remaining input.</summary>
    private void Finish(BlockedClient b)
    {
        Detach(b);
        b.Client.WakeWriter();
        b.Client.Connection?.OnUnblocked();
    }

    private void Detach(BlockedClient b)
    {
        if (b.Done) return;
        b.Done = true;
        var map = _waiters[b.DbIndex];
        for (int i = 0; i < b.Keys.Length; i++)
        {
            var n = b.Nodes[i];
            if (n?.List is null) continue;
            var q = n.List;
            q.Remove(n);
            if (q.Count == 0) map?.Remove(b.Keys[i]);
        }
        _byClient.Remove(b.Client.Id);
        b.Client.Flags &= ~ClientFlags.Blocked;
    }

    /// <summary>CLIENT UNBLOCK: replies the timeout reply, or -UNBLOCKED when <paramref name="error"/>. False when not blocked.</summary>
    public static bool Unblock(Client client, bool error)
    {
        var reg = client.Server.Blocking;
        if (!reg._byClient.TryGetValue(client.Id, out var b)) return false;
        if (error) client.Out.WriteError("UNBLOCKED client unblocked via CLIENT UNBLOCK");
        else b.TimeoutReply(client.Out);
        reg.Finish(b);
        return true;
    }

    /// <summary>A disconnecting client leaves every queue (no reply).</summary>
    public void RemoveClient(Client client)
    {
        if (_byClient.TryGetValue(client.Id, out var b)) Detach(b);
    }

    private void ScheduleTimer(long deadline)
    {
        if (deadline >= _timerDue) return;
        _timerDue = deadline;
        _timer ??= new Timer(static s => ((Blocking)s!).OnTimer(), this, Timeout.Infinite, Timeout.Infinite);
        long delay = Math.Max(0, deadline - Environment.TickCount64);
        _timer.Change(Math.Min(delay, int.MaxValue - 1), Timeout.Infinite);
    }

    private void OnTimer()
    {
        lock (_server.ExecLock)
        {
            _timerDue = long.MaxValue;
            long now = Environment.TickCount64;
            while (_timeouts.TryPeek(out var b, out long due))
            {
                if (b.Done) { _timeouts.Dequeue(); continue; }
                if (due > now) { ScheduleTimer(due); break; }
                _timeouts.Dequeue();
                b.TimeoutReply(b.Client.Out);
                Finish(b);
            }
        }
    }

    private sealed class DbKeyComparer : IEqualityComparer<(int, byte[])>
    {
        public bool Equals((int, byte[]) x, (int, byte[]) y) => x.Item1 == y.Item1 && x.Item2.AsSpan().SequenceEqual(y.Item2);
        public int GetHashCode((int, byte[]) o) => HashCode.Combine(o.Item1, ByteKeyComparer.Hash(o.Item2));
    }
}

/// <summary>Byte-array keys compared by content, with span lookups.</summary>
public sealed class ByteKeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteKeyComparer Instance = new();
    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
    public int GetHashCode(byte[] o) => Hash(o);
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
    public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

    public static int Hash(ReadOnlySpan<byte> s)
    {
        var h = new HashCode();
        h.AddBytes(s);
        return h.ToHashCode();
    }
}
