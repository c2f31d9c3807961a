using Basalt.Server.Keyspace;

namespace Basalt.Server.Transactions;

/// <summary>
/// MULTI/EXEC and WATCH bookkeeping for one server. Per-client state lives here (only for clients that
/// use transactions); per-db watched keys hook into the database only while some key is watched there,
/// so key modifications cost nothing when nobody watches.
/// Redis 7.0 rules followed: any modification signal dirties the watchers; a key already expired when
/// watched does not dirty them when it is merely deleted; EXEC fails when a watched key expired meanwhile;
/// FLUSH and SWAPDB only dirty watchers of keys that existed (or appear).
/// </summary>
public sealed class TransactionState
{
    private readonly RedisServer _server;
    private readonly Dictionary<Client, MultiState> _clients = new(ReferenceEqualityComparer.Instance);
    private WatchedKeys?[] _watched = [];
    private readonly Action<Database, ReadOnlySpan<byte>> _onKeyModified;
    private readonly Action<Database> _onClearing;

    /// <summary>EXEC blocks run (the unit propagation/AOF will wrap in MULTI ... EXEC).</summary>
    public long ExecutedTransactions;

    public TransactionState(RedisServer server)
    {
        _server = server;
        _onKeyModified = OnKeyModified;
        _onClearing = OnClearing;
        server.ClientReset += Forget;
        server.ClientClosed += Forget;
        server.DatabasesSwapped += OnSwapped;
        // Static hooks: resolve the state through the client so several in-process servers work.
        Introspection.ClientInfo.QueuedCommands = static c => c.Server.Dispatcher.Transactions.QueuedCount(c);
        var previousFlags = Introspection.ClientInfo.ExtraFlags;
        Introspection.ClientInfo.ExtraFlags = c =>
        {
            string other = previousFlags?.Invoke(c) ?? "";
            return c.Server.Dispatcher.Transactions.IsDirtyCas(c) ? other + "d" : other;
        };
    }

    public MultiState? Get(Client c) => _clients.GetValueOrDefault(c);

    public MultiState GetOrCreate(Client c)
    {
        if (!_clients.TryGetValue(c, out var s)) _clients[c] = s = new MultiState(c);
        return s;
    }

    public int QueuedCount(Client c) => Get(c)?.Queue?.Count ?? -1;

    public bool IsDirtyCas(Client c) => Get(c)?.DirtyCas == true;

    /// <summary>Number of clients watching at least one key.</summary>
    public int WatchingClients
    {
        get
        {
            int n = 0;
            foreach (var s in _clients.Values) if (s.Watched.Count > 0) n++;
            return n;
        }
    }

    // ---- MULTI state ----

    public void BeginMulti(Client c)
    {
        var s = GetOrCreate(c);
        s.Queue = new List<QueuedCommand>();
        s.QueuedFlags = 0;
        s.DirtyExec = false;
        c.Flags |= ClientFlags.Multi;
    }

    /// <summary>Queues the command the context holds (called by the dispatcher instead of running it).</summary>
    public void Enqueue(Client c, Commands.CommandContext ctx, Commands.CommandDef def)
    {
        var s = GetOrCreate(c);
        s.Queue ??= new List<QueuedCommand>();
        // A doomed transaction keeps nothing (still answers QUEUED), as Redis does: CLIENT LIST multi= stops growing.
        if (s.DirtyCas || s.DirtyExec) return;
        s.Queue.Add(QueuedCommand.Copy(ctx));
        s.QueuedFlags |= def.Flags;
    }

    /// <summary>A command was rejected while queueing: EXEC will answer EXECABORT.</summary>
    public void FlagExecAbort(Client c)
    {
        var s = Get(c);
        if (s is not null && s.InMulti) s.DirtyExec = true;
    }

    /// <summary>Ends MULTI (DISCARD, EXEC, errors) and drops every watch, as Redis's discardTransaction.</summary>
    public void Discard(Client c)
    {
        c.Flags &= ~ClientFlags.Multi;
        var s = Get(c);
        if (s is null) return;
        s.Queue = null;
        s.QueuedFlags = 0;
        s.DirtyExec = false;
        UnwatchAll(s);
        s.DirtyCas = false;
        _clients.Remove(c);
    }

    private void Forget(Client c) => Discard(c);

    // ---- WATCH ----

    public void Watch(Client c, int dbIndex, ReadOnlySpan<byte> key)
    {
        var s = GetOrCreate(c);
        var db = _server.Databases[dbIndex];
        if (_watched.Length != _server.Databases.Length) Array.Resize(ref _watched, _server.Databases.Length);
        var wk = _watched[dbIndex] ??= new WatchedKeys();
        var entry = wk.Add(s, dbIndex, key, out bool first);
        if (entry is null) return;
        // Redis notes whether the key is already logically expired: deleting it later is then no change.
        entry.Expired = db.IsExpiredKey(key);
        s.Watched.Add(entry);
        if (first)
        {
            db.KeyModified += _onKeyModified;
            db.Clearing += _onClearing;
        }
    }

    public void UnwatchAll(MultiState s)
    {
        foreach (var e in s.Watched)
        {
            var wk = _watched[e.Db]!;
            if (wk.Remove(e))
            {
                var db = _server.Databases[e.Db];
                db.KeyModified -= _onKeyModified;
                db.Clearing -= _onClearing;
            }
        }
        s.Watched.Clear();
        if (s.IsIdle) _clients.Remove(s.Client);
    }

    /// <summary>UNWATCH: forgets the keys and a modification already seen.</summary>
    public void Unwatch(Client c)
    {
        var s = Get(c);
        if (s is null) return;
        s.DirtyCas = false;
        UnwatchAll(s);
    }

    /// <summary>At EXEC: a watched key whose TTL passed (even if not yet deleted) fails the transaction.</summary>
    public bool AnyWatchedKeyExpired(MultiState s)
    {
        foreach (var e in s.Watched)
        {
            if (!e.Expired && _server.Databases[e.Db].IsExpiredKey(e.Key)) return true;
        }
        return false;
    }

    private void OnKeyModified(Database db, ReadOnlySpan<byte> key)
    {
        var wk = db.Index < _watched.Length ? _watched[db.Index] : null;
        if (wk is null || wk.Count == 0) return;
        var list = wk.Find(key);
        if (list is null) return;
        bool present = db.Keys.IndexOf(key) >= 0;
        foreach (var e in list)
        {
            // A key that was expired when watched and is now gone (expiry, DEL) is logically unchanged.
            if (e.Expired && !present) { e.Expired = false; continue; }
            e.Owner.DirtyCas = true;
        }
    }

    /// <summary>Before FLUSHDB/FLUSHALL empties <paramref name="db"/>: dirties watchers of keys that exist.</summary>
    private void OnClearing(Database db)
    {
        var wk = db.Index < _watched.Length ? _watched[db.Index] : null;
        if (wk is null) return;
        foreach (var (key, list) in wk.All)
        {
            if (db.Keys.IndexOf(key) < 0) continue;
            foreach (var e in list)
            {
                if (e.Expired) { e.Expired = false; continue; }
                e.Owner.DirtyCas = true;
            }
        }
    }

    /// <summary>After SWAPDB a b: each side's watchers see their old contents emptied and replaced by the other's.</summary>
    private void OnSwapped(int a, int b)
    {
        TouchSwapped(a, b);
        TouchSwapped(b, a);
    }

    private void TouchSwapped(int watchedDb, int otherDb)
    {
        var wk = watchedDb < _watched.Length ? _watched[watchedDb] : null;
        if (wk is null || wk.Count == 0) return;
        var emptied = _server.Databases[otherDb];      // holds the contents that used to be in watchedDb
        var replacement = _server.Databases[watchedDb];
        foreach (var (key, list) in wk.All)
        {
            bool wasThere = emptied.Keys.IndexOf(key) >= 0;
            bool isThere = replacement.Keys.IndexOf(key) >= 0;
            if (!wasThere && !isThere) continue;
            bool nowExpired = isThere && replacement.IsExpiredKey(key);
            foreach (var e in list)
            {
                if (e.Expired)
                {
                    if (!isThere) { e.Expired = false; continue; }
                    if (nowExpired) continue;
                }
                else if (!wasThere && nowExpired)
                {
                    e.Expired = true;
                    continue;
                }
                e.Owner.DirtyCas = true;
            }
        }
    }
}
