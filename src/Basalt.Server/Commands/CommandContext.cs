using System.Text;
using Basalt.Protocol;
using Basalt.Server.Keyspace;

namespace Basalt.Server.Commands;

/// <summary>
/// What a handler sees while it runs: the arguments (slices of the receive buffer, valid only during
/// the call), the reply writer, the client's session and the server. One instance per client, reused.
/// </summary>
public sealed class CommandContext
{
    private byte[] _buf = [];
    private ArgRef[] _refs = [];
    private int _start;

    public CommandContext(Client client, RedisServer server)
    {
        Client = client;
        Server = server;
    }

    public Client Client { get; }
    public RedisServer Server { get; }

    /// <summary>The command being executed (the subcommand for container commands).</summary>
    public CommandDef Command { get; internal set; } = null!;

    /// <summary>Number of arguments including the command name.</summary>
    public int Count { get; private set; }

    public RespWriter Reply => Client.Out;

    /// <summary>The write stream to AOF and replicas; check <see cref="Replication.Propagator.Active"/> before building ops.</summary>
    public Replication.Propagator Propagator => Server.Propagator;

    /// <summary>
    /// For handlers that propagate a rewritten form of themselves (through <see cref="Propagator"/>): the command
    /// as received is then not propagated. Call it only when <see cref="Replication.Propagator.Active"/>.
    /// </summary>
    public void SuppressPropagation() => Server.Dispatcher.SuppressPropagation();

    public Database Db => Server.Databases[Client.DbIndex];

    public void SetArgs(byte[] buf, ArgRef[] refs, int start, int count)
    {
        _buf = buf;
        _refs = refs;
        _start = start;
        Count = count;
    }

    /// <summary>Argument <paramref name="i"/> (0 is the command name).</summary>
    public ReadOnlySpan<byte> Arg(int i)
    {
        ref ArgRef r = ref _refs[_start + i];
        return new ReadOnlySpan<byte>(_buf, r.Offset, r.Length);
    }

    /// <summary>A copy of argument <paramref name="i"/> that may be stored.</summary>
    public byte[] ArgBytes(int i) => Arg(i).ToArray();

    public string ArgString(int i) => Encoding.UTF8.GetString(Arg(i));

    /// <summary>True when argument <paramref name="i"/> equals the ASCII keyword, ignoring case.</summary>
    public bool ArgIs(int i, ReadOnlySpan<byte> lowerKeyword) => Ascii.EqualsIgnoreCase(Arg(i), lowerKeyword);

    public bool TryArgInt64(int i, out long value) => RespNumbers.TryParseInt64(Arg(i), out value);

    /// <summary>Parses an integer argument, replying Redis's error when it is not one.</summary>
    public bool GetInt64OrReply(int i, out long value)
    {
        if (RespNumbers.TryParseInt64(Arg(i), out value)) return true;
        Reply.WriteError(Errors.NotInteger);
        return false;
    }

    public bool GetDoubleOrReply(int i, out double value)
    {
        if (RespNumbers.TryParseDouble(Arg(i), out value)) return true;
        Reply.WriteError(Errors.NotFloat);
        return false;
    }

    /// <summary>
    /// Looks up a key that should hold a <typeparamref name="T"/> (byte[] for strings). Returns false, having replied
    /// WRONGTYPE, when it holds another type; otherwise true with the value or null when missing.
    /// Counts keyspace hits and misses as Redis does for reads.
    /// </summary>
    public bool TryLookup<T>(ReadOnlySpan<byte> key, out T? value) where T : class
    {
        var obj = Db.Lookup(key);
        if (obj is null) { Server.Stats.KeyspaceMisses++; Notifications.KeyspaceEvents.Notify(this, Notifications.KeyspaceEvents.KeyMiss, "keymiss", key); value = null; return true; }
        Server.Stats.KeyspaceHits++;
        if (obj is T t) { value = t; return true; }
        if (TryView(obj, default, out value)) return true;
        WrongType();
        return false;
    }

    private Types.RedisHash? _hashView;
    private Types.RedisSortedSet? _zsetView;

    /// <summary>
    /// A bare listpack (hash or sorted set stored without its wrapper) as this context's reusable view of type
    /// <typeparamref name="T"/>, valid for the command being executed; writes go back to <paramref name="slot"/> when
    /// it is bound. Commands that hold several values at once use the types' Readable/Writable instead.
    /// </summary>
    private bool TryView<T>(object obj, Keyspace.KeySlot slot, out T? value) where T : class
    {
        if (typeof(T) == typeof(Types.RedisHash) && Types.RedisHash.IsPack(obj))
        {
            var view = _hashView ??= new Types.RedisHash();
            view.Bind(obj, slot);
            value = (T)(object)view;
            return true;
        }
        if (typeof(T) == typeof(Types.RedisSortedSet) && Types.RedisSortedSet.IsPack(obj))
        {
            var view = _zsetView ??= new Types.RedisSortedSet();
            view.Bind(obj, slot);
            value = (T)(object)view;
            return true;
        }
        value = null;
        return false;
    }

    /// <summary>A hash just stored at <paramref name="key"/> as a bare listpack, as a view that writes back to its slot.</summary>
    public Types.RedisHash BindHashForWrite(ReadOnlySpan<byte> key)
    {
        var slot = Keyspace.KeySlot.Of(Db.Keys, key);
        TryView(slot.Value, slot, out Types.RedisHash? view);
        return view!;
    }

    /// <summary>Like <see cref="TryLookup{T}"/> for a write: no hit/miss accounting.</summary>
    public bool TryLookupForWrite<T>(ReadOnlySpan<byte> key, out T? value) where T : class
    {
        var obj = Db.Lookup(key);
        if (obj is null) { value = null; return true; }
        if (obj is T t) { value = t; return true; }
        if ((Types.RedisHash.IsPack(obj) || Types.RedisSortedSet.IsPack(obj)) && TryView(obj, Keyspace.KeySlot.Of(Db.Keys, key), out value))
            return true;
        value = null;
        WrongType();
        return false;
    }

    /// <summary>Replies "-ERR syntax error".</summary>
    public void SyntaxError() => Reply.WriteError(Errors.Syntax);

    public void WrongType() => Reply.WriteError(Errors.WrongType);
}
