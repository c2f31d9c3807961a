using Basalt.Protocol;
using Basalt.Server.Commands;
using Basalt.Server.Introspection;
using Basalt.Server.Keyspace;

namespace Basalt.Server.Tracking;

[Flags]
public enum TrackingMode
{
    None = 0,
    Bcast = 1,
    OptIn = 2,
    OptOut = 4,
    NoLoop = 8,
    Caching = 16,       // CLIENT CACHING YES (OPTIN) / NO (OPTOUT) for the next command
    BrokenRedirect = 32,
}

/// <summary>One tracking client's settings.</summary>
public sealed class ClientTracking
{
    public TrackingMode Mode;
    public long Redirect;               // 0 = none
    public readonly List<byte[]> Prefixes = new(); // BCAST prefixes ("" when none were given)
}

/// <summary>
/// Client-side caching (CLIENT TRACKING). Default mode remembers which clients read each key (one table for
/// all databases, as Redis does) and sends one invalidation the first time the key changes, then forgets it.
/// BCAST mode collects changed keys per prefix and sends them after the command. Runs under the execution lock.
/// </summary>
public sealed partial class TrackingTable
{
    private sealed class BcastState
    {
        public readonly List<Client> Clients = new();
        // Changed keys (sorted, as Redis's radix tree reports them) -> the client that changed them (for NOLOOP).
        public readonly SortedDictionary<byte[], Client?> Pending = new(ByteOrder.Instance);
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    private enum DeferredKind { Key, Flush, Broken }

    private static readonly byte[] ChannelName = "__redis__:invalidate"u8.ToArray();

    private readonly RedisServer _server;
    private readonly Dictionary<Client, ClientTracking> _clients = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<byte[], HashSet<long>> _keys = new(ByteKeyComparer.Instance);
    private readonly Dictionary<byte[], HashSet<long>>.AlternateLookup<ReadOnlySpan<byte>> _keyLookup;
    private readonly Dictionary<byte[], BcastState> _prefixes = new(ByteKeyComparer.Instance);
    private readonly Action<Database, ReadOnlySpan<byte>> _onKeyModified;
    private readonly List<(DeferredKind Kind, byte[]? Key, long Id)> _deferred = new();
    private bool _bcastPending;
    private long _totalItems;

    /// <summary>Number of clients with tracking on: the dispatcher does nothing for tracking while it is 0.</summary>
    public int Active;

    /// <summary>The client whose command is running (NOLOOP, and replies before its own invalidations).</summary>
    public Client? Current;

    public TrackingTable(RedisServer server)
    {
        _server = server;
        _keyLookup = _keys.GetAlternateLookup<ReadOnlySpan<byte>>();
        _onKeyModified = OnKeyModified;
        server.ClientClosed += Disable;
        server.ClientReset += Disable;
        server.DatabaseFlushed += OnFlushed;
        // Static hooks: resolve the table through the client so several in-process servers work.
        ClientInfo.TrackingRedirect = static c => c.Server.Dispatcher.Tracking.Get(c) is { } t ? t.Redirect : -1;
        var previousFlags = ClientInfo.ExtraFlags;
        ClientInfo.ExtraFlags = c =>
        {
            string other = previousFlags?.Invoke(c) ?? "";
            var t = c.Server.Dispatcher.Tracking.Get(c);
            if (t is null) return other;
            return other + "t" + ((t.Mode & TrackingMode.BrokenRedirect) != 0 ? "R" : "") + ((t.Mode & TrackingMode.Bcast) != 0 ? "B" : "");
        };
    }

    public ClientTracking? Get(Client c) => Active == 0 ? null : _clients.GetValueOrDefault(c);

    /// <summary>INFO: tracked keys, (key, client) pairs, BCAST prefixes.</summary>
    public int TotalKeys => _keys.Count;
    public long TotalItems => _totalItems;
    public int TotalPrefixes => _prefixes.Count;

    /// <summary>Turns tracking on (or changes it for a client already tracking); options are already validated.</summary>
    public void Enable(Client c, long redirect, TrackingMode options, List<byte[]> prefixes)
    {
        if (!_clients.TryGetValue(c, out var t))
        {
            _clients[c] = t = new ClientTracking();
            if (Active++ == 0)
                foreach (var db in _server.Databases) db.KeyModified += _onKeyModified;
        }
        t.Mode = options & (TrackingMode.Bcast | TrackingMode.OptIn | TrackingMode.OptOut | TrackingMode.NoLoop);
        t.Redirect = redirect;
        if ((options & TrackingMode.Bcast) != 0)
        {
            if (prefixes.Count == 0) AddPrefix(c, t, []);
            foreach (var p in prefixes) AddPrefix(c, t, p);
        }
    }

    private void AddPrefix(Client c, ClientTracking t, byte[] prefix)
    {
        foreach (var p in t.Prefixes) if (p.AsSpan().SequenceEqual(prefix)) return;
        int at = 0;
        while (at < t.Prefixes.Count && t.Prefixes[at].AsSpan().SequenceCompareTo(prefix) < 0) at++;
        t.Prefixes.Insert(at, prefix);
        if (!_prefixes.TryGetValue(prefix, out var state)) _prefixes[prefix] = state = new BcastState();
        state.Clients.Add(c);
    }

    /// <summary>CLIENT TRACKING OFF, RESET, disconnect. Default-mode entries of the client are dropped lazily.</summary>
    public void Disable(Client c)
    {
        if (Active == 0 || !_clients.Remove(c, out var t)) return;
        foreach (var p in t.Prefixes)
        {
            if (!_prefixes.TryGetValue(p, out var state)) continue;
            state.Clients.Remove(c);
            if (state.Clients.Count == 0) _prefixes.Remove(p);
        }
        if (--Active == 0)
        {
            foreach (var db in _server.Databases) db.KeyModified -= _onKeyModified;
            _keys.Clear();
            _totalItems = 0;
            _bcastPending = false;
            Current = null;
        }
        if (ReferenceEquals(c, Current)) _deferred.Clear();
    }

    /// <summary>Whether a new prefix overlaps one the client has (either is a prefix of the other).</summary>
    public static bool Overlaps(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.StartsWith(b) || b.StartsWith(a);

    /// <summary>After a read-only command: remember its keys for the client (default mode, OPTIN/OPTOUT rules).</summary>
    public void RememberKeys(Client c, CommandDef def, CommandContext ctx)
    {
        if (!_clients.TryGetValue(c, out var t) || (t.Mode & TrackingMode.Bcast) != 0) return;
        if ((t.Mode & TrackingMode.OptIn) != 0 && (t.Mode & TrackingMode.Caching) == 0) return;
        if ((t.Mode & TrackingMode.OptOut) != 0 && (t.Mode & TrackingMode.Caching) != 0) return;
        var args = new byte[ctx.Count][];
        for (int i = 0; i < args.Length; i++) args[i] = ctx.ArgBytes(i);
        var keys = new List<KeyRef>();
        try
        {
            if (!CommandMetadata.GetKeys(def, args, keys)) return;
        }
        catch (Exception ex)
        {
            // Odd arguments must not take the connection down: the keys simply go untracked.
            Log.Warning($"Tracking could not find the keys of '{def.FullName}': {ex.Message}");
            return;
        }
        foreach (var k in keys)
        {
            var key = args[k.Position];
            if (!_keys.TryGetValue(key, out var ids)) _keys[key] = ids = new HashSet<long>();
            if (ids.Add(c.Id)) _totalItems++;
        }
    }

    /// <summary>After each top-level command: CLIENT CACHING lasts one command, then queued messages go out.</summary>
    public void AfterCommand(Client c, CommandDef? def)
    {
        if (_clients.TryGetValue(c, out var t) && (t.Mode & TrackingMode.Caching) != 0
            && (c.Flags & ClientFlags.Multi) == 0 && !(def is not null && def.FullName.StartsWith("client|", StringComparison.Ordinal)))
            t.Mode &= ~TrackingMode.Caching;
        if (_deferred.Count > 0)
        {
            foreach (var (kind, key, id) in _deferred) Deliver(c, kind, key, id, wake: false);
            _deferred.Clear();
        }
        if (_bcastPending) SendBroadcasts();
        Current = null;
    }

    private void OnKeyModified(Database db, ReadOnlySpan<byte> key)
    {
        if (_prefixes.Count > 0)
        {
            byte[]? copy = null;
            foreach (var (prefix, state) in _prefixes)
            {
                if (!key.StartsWith(prefix)) continue;
                copy ??= key.ToArray();
                state.Pending[copy] = Current;
                _bcastPending = true;
            }
            // Outside a command (active expiry) nothing would send them later.
            if (_bcastPending && Current is null) SendBroadcasts();
        }
        if (_keys.Count == 0 || !_keyLookup.TryGetValue(key, out var ids)) return;
        byte[]? keyBytes = null;
        foreach (var id in ids)
        {
            var target = _server.Clients.Find(id);
            if (target is null || !_clients.TryGetValue(target, out var t) || (t.Mode & TrackingMode.Bcast) != 0) continue;
            if ((t.Mode & TrackingMode.NoLoop) != 0 && ReferenceEquals(target, Current)) continue;
            keyBytes ??= key.ToArray();
            Send(target, t, DeferredKind.Key, keyBytes, null);
        }
        _totalItems -= ids.Count;
        _keyLookup.Remove(key);
    }

    /// <summary>FLUSHDB/FLUSHALL: every tracking client is told to drop everything (a null key list).</summary>
    private void OnFlushed(int dbIndex)
    {
        if (Active == 0) return;
        foreach (var (c, t) in _clients.ToArray()) Send(c, t, DeferredKind.Flush, null, null);
        _keys.Clear();
        _totalItems = 0;
    }

    private void SendBroadcasts()
    {
        _bcastPending = false;
        var keys = new List<byte[]>();
        foreach (var state in _prefixes.Values)
        {
            if (state.Pending.Count == 0) continue;
            foreach (var c in state.Clients)
            {
                if (!_clients.TryGetValue(c, out var t)) continue;
                keys.Clear();
                bool noLoop = (t.Mode & TrackingMode.NoLoop) != 0;
                foreach (var (k, by) in state.Pending)
                    if (!noLoop || !ReferenceEquals(by, c)) keys.Add(k);
                if (keys.Count > 0) Send(c, t, DeferredKind.Key, null, keys);
            }
            state.Pending.Clear();
        }
    }

    /// <summary>Sends an invalidation for c (to its redirect client when it has one), or the broken-redirect notice.</summary>
    private void Send(Client c, ClientTracking t, DeferredKind kind, byte[]? key, List<byte[]>? keys)
    {
        var target = c;
        bool redirected = false;
        if (t.Redirect != 0)
        {
            var r = _server.Clients.Find(t.Redirect);
            if (r is null)
            {
                t.Mode |= TrackingMode.BrokenRedirect;
                if (c.Protocol >= 3) Enqueue(c, DeferredKind.Broken, null, t.Redirect);
                return;
            }
            target = r;
            redirected = true;
        }
        if (target.Protocol < 3 && !(redirected && target.Has(ClientFlags.PubSub))) return;
        if (keys is not null)
        {
            // A batch (BCAST) is written at once: it is only produced after the command, never deferred.
            var w = target.Out;
            WriteEnvelope(w, target);
            w.WriteArrayHeader(keys.Count);
            foreach (var k in keys) w.WriteBulk(k);
            target.WakeWriter();
            return;
        }
        Enqueue(target, kind, key, 0);
    }

    /// <summary>The running client gets its own invalidations after its reply, as Redis 7.0 does.</summary>
    private void Enqueue(Client target, DeferredKind kind, byte[]? key, long id)
    {
        if (ReferenceEquals(target, Current)) _deferred.Add((kind, key, id));
        else Deliver(target, kind, key, id, wake: true);
    }

    private static void Deliver(Client target, DeferredKind kind, byte[]? key, long id, bool wake)
    {
        var w = target.Out;
        if (kind == DeferredKind.Broken)
        {
            w.WritePushHeader(2);
            w.WriteBulk("tracking-redir-broken"u8);
            w.WriteInteger(id);
        }
        else
        {
            WriteEnvelope(w, target);
            if (key is null) w.WriteRaw("_\r\n"u8); // Redis sends the RESP3 null even to RESP2 subscribers
            else
            {
                w.WriteArrayHeader(1);
                w.WriteBulk(key);
            }
        }
        if (wake) target.WakeWriter();
    }

    private static void WriteEnvelope(RespWriter w, Client target)
    {
        if (target.Protocol >= 3)
        {
            w.WritePushHeader(2);
            w.WriteBulk("invalidate"u8);
        }
        else
        {
            w.WriteArrayHeader(3);
            w.WriteBulk("message"u8);
            w.WriteBulk(ChannelName);
        }
    }
}
