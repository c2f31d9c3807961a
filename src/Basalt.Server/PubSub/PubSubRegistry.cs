using Basalt.Protocol;
using Basalt.Server.Introspection;
using Basalt.Server.Keyspace;

// Namespace differs from the folder: "PubSub" would clash with CommandFlags.PubSub in the command files.
namespace Basalt.Server.Messaging;

/// <summary>The three subscription spaces: SUBSCRIBE channels, PSUBSCRIBE patterns, SSUBSCRIBE shard channels.</summary>
public enum SubKind { Channel, Pattern, Shard }

/// <summary>
/// Who listens to what: channel/pattern/shard-channel -> subscribers in subscription order, and per client its
/// subscriptions. Everything here runs under the execution lock. Messages are appended to the subscribers'
/// reply buffers (in each subscriber's own protocol) and handed to their senders, so a slow subscriber never
/// holds up the publisher; the pubsub output buffer limit cuts it off instead.
/// </summary>
public sealed class PubSubRegistry
{
    /// <summary>A client's subscriptions. Patterns keep subscription order (PUNSUBSCRIBE without arguments follows it).</summary>
    private sealed class ClientSubscriptions
    {
        public readonly HashSet<byte[]> Channels = new(ByteKeyComparer.Instance);
        public readonly List<byte[]> Patterns = new();
        public readonly HashSet<byte[]> ShardChannels = new(ByteKeyComparer.Instance);
        public bool IsEmpty => Channels.Count == 0 && Patterns.Count == 0 && ShardChannels.Count == 0;
    }

    private readonly Dictionary<byte[], List<Client>> _channels = new(ByteKeyComparer.Instance);
    private readonly Dictionary<byte[], List<Client>> _shardChannels = new(ByteKeyComparer.Instance);
    private readonly Dictionary<byte[], List<Client>> _patterns = new(ByteKeyComparer.Instance);
    // Patterns in the order they first got a subscriber: PUBLISH tries them in this order.
    private readonly List<byte[]> _patternOrder = new();
    private readonly Dictionary<byte[], List<Client>>.AlternateLookup<ReadOnlySpan<byte>> _channelLookup;
    private readonly Dictionary<byte[], List<Client>>.AlternateLookup<ReadOnlySpan<byte>> _shardLookup;
    private readonly Dictionary<Client, ClientSubscriptions> _clients = new(ReferenceEqualityComparer.Instance);

    public PubSubRegistry(RedisServer server)
    {
        _channelLookup = _channels.GetAlternateLookup<ReadOnlySpan<byte>>();
        _shardLookup = _shardChannels.GetAlternateLookup<ReadOnlySpan<byte>>();
        server.ClientClosed += RemoveClient;
        server.ClientReset += RemoveClient;
        ClientInfo.Subscriptions = static c => c.Server.PubSub.Counts(c);
    }

    /// <summary>Channels with at least one subscriber (INFO pubsub_channels).</summary>
    public int ChannelCount => _channels.Count;

    /// <summary>Distinct patterns with at least one subscriber (PUBSUB NUMPAT, INFO pubsub_patterns).</summary>
    public int PatternCount => _patterns.Count;

    public int ShardChannelCount => _shardChannels.Count;

    /// <summary>CLIENT LIST sub/psub/ssub.</summary>
    public (int Sub, int PSub, int SSub) Counts(Client c) =>
        _clients.TryGetValue(c, out var s) ? (s.Channels.Count, s.Patterns.Count, s.ShardChannels.Count) : (0, 0, 0);

    /// <summary>The count subscribe/unsubscribe replies carry: channels + patterns, or shard channels alone.</summary>
    public int ReplyCount(Client c, SubKind kind)
    {
        if (!_clients.TryGetValue(c, out var s)) return 0;
        return kind == SubKind.Shard ? s.ShardChannels.Count : s.Channels.Count + s.Patterns.Count;
    }

    public bool HasAny(Client c) => _clients.ContainsKey(c);

    private Dictionary<byte[], List<Client>> Space(SubKind kind) => kind switch
    {
        SubKind.Channel => _channels,
        SubKind.Pattern => _patterns,
        _ => _shardChannels,
    };

    /// <summary>Adds a subscription; false when the client already had it.</summary>
    public bool Subscribe(Client c, SubKind kind, ReadOnlySpan<byte> name)
    {
        if (!_clients.TryGetValue(c, out var s)) _clients[c] = s = new ClientSubscriptions();
        byte[] key;
        switch (kind)
        {
            case SubKind.Pattern:
                foreach (var p in s.Patterns) if (name.SequenceEqual(p)) return false;
                key = name.ToArray();
                s.Patterns.Add(key);
                break;
            default:
                var set = kind == SubKind.Channel ? s.Channels : s.ShardChannels;
                if (set.GetAlternateLookup<ReadOnlySpan<byte>>().Contains(name)) return false;
                key = name.ToArray();
                set.Add(key);
                break;
        }
        var space = Space(kind);
        if (!space.TryGetValue(key, out var subscribers))
        {
            space[key] = subscribers = new List<Client>(1);
            if (kind == SubKind.Pattern) _patternOrder.Add(key);
        }
        subscribers.Add(c);
        return true;
    }

    /// <summary>Removes a subscription; false when the client did not have it.</summary>
    public bool Unsubscribe(Client c, SubKind kind, ReadOnlySpan<byte> name)
    {
        if (!_clients.TryGetValue(c, out var s)) return false;
        byte[]? key = null;
        if (kind == SubKind.Pattern)
        {
            for (int i = 0; i < s.Patterns.Count; i++)
            {
                if (!name.SequenceEqual(s.Patterns[i])) continue;
                key = s.Patterns[i];
                s.Patterns.RemoveAt(i);
                break;
            }
        }
        else
        {
            var set = kind == SubKind.Channel ? s.Channels : s.ShardChannels;
            if (set.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(name, out var actual))
            {
                set.Remove(actual);
                key = actual;
            }
        }
        if (key is null) return false;
        var space = Space(kind);
        if (space.TryGetValue(key, out var subscribers))
        {
            subscribers.Remove(c);
            if (subscribers.Count == 0)
            {
                space.Remove(key);
                if (kind == SubKind.Pattern) RemovePatternOrder(key);
            }
        }
        if (s.IsEmpty) _clients.Remove(c);
        return true;
    }

    private void RemovePatternOrder(byte[] key)
    {
        for (int i = 0; i < _patternOrder.Count; i++)
        {
            if (_patternOrder[i].AsSpan().SequenceEqual(key)) { _patternOrder.RemoveAt(i); return; }
        }
    }

    /// <summary>A copy of the client's subscriptions of one kind (for unsubscribe-all).</summary>
    public List<byte[]> Snapshot(Client c, SubKind kind)
    {
        if (!_clients.TryGetValue(c, out var s)) return [];
        return kind switch
        {
            SubKind.Channel => [.. s.Channels],
            SubKind.Pattern => [.. s.Patterns],
            _ => [.. s.ShardChannels],
        };
    }

    /// <summary>Drops every subscription of a client without replies (disconnect, RESET).</summary>
    public void RemoveClient(Client c)
    {
        if (_clients.TryGetValue(c, out var s))
        {
            foreach (var ch in s.Channels) DropSubscriber(_channels, ch, c, false);
            foreach (var p in s.Patterns) DropSubscriber(_patterns, p, c, true);
            foreach (var ch in s.ShardChannels) DropSubscriber(_shardChannels, ch, c, false);
            _clients.Remove(c);
        }
        c.Flags &= ~ClientFlags.PubSub;
    }

    private void DropSubscriber(Dictionary<byte[], List<Client>> space, byte[] key, Client c, bool pattern)
    {
        if (!space.TryGetValue(key, out var subscribers)) return;
        subscribers.Remove(c);
        if (subscribers.Count > 0) return;
        space.Remove(key);
        if (pattern) RemovePatternOrder(key);
    }

    /// <summary>Channels (or shard channels) with subscribers whose name matches the glob (all when null).</summary>
    public List<byte[]> ActiveChannels(bool shard, ReadOnlySpan<byte> pattern, bool all)
    {
        var result = new List<byte[]>();
        foreach (var key in (shard ? _shardChannels : _channels).Keys)
        {
            if (all || Glob.Match(pattern, key, false)) result.Add(key);
        }
        return result;
    }

    /// <summary>Subscribers of a channel or shard channel (pattern subscribers not included, as PUBSUB NUMSUB).</summary>
    public int NumSub(bool shard, ReadOnlySpan<byte> channel) =>
        (shard ? _shardLookup : _channelLookup).TryGetValue(channel, out var list) ? list.Count : 0;

    /// <summary>
    /// PUBLISH: channel subscribers in subscription order, then each matching pattern's subscribers.
    /// Returns the number of deliveries (a client matched by two patterns counts twice).
    /// </summary>
    public int Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message, Client? publisher)
    {
        int receivers = 0;
        if (_channelLookup.TryGetValue(channel, out var subscribers))
        {
            // Index loops: a subscriber closed while we deliver must not break the iteration.
            for (int i = 0; i < subscribers.Count; i++)
            {
                Deliver(subscribers[i], publisher, "message"u8, default, false, channel, message);
                receivers++;
            }
        }
        for (int p = 0; p < _patternOrder.Count; p++)
        {
            var pattern = _patternOrder[p];
            if (!Glob.Match(pattern, channel, false)) continue;
            if (!_patterns.TryGetValue(pattern, out var clients)) continue;
            for (int i = 0; i < clients.Count; i++)
            {
                Deliver(clients[i], publisher, "pmessage"u8, pattern, true, channel, message);
                receivers++;
            }
        }
        return receivers;
    }

    /// <summary>SPUBLISH: shard channel subscribers only.</summary>
    public int ShardPublish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message, Client? publisher)
    {
        if (!_shardLookup.TryGetValue(channel, out var subscribers)) return 0;
        int receivers = 0;
        for (int i = 0; i < subscribers.Count; i++)
        {
            Deliver(subscribers[i], publisher, "smessage"u8, default, false, channel, message);
            receivers++;
        }
        return receivers;
    }

    private static void Deliver(Client c, Client? publisher, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> pattern, bool hasPattern,
        ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        // Still counted as a receiver (as Redis does), but a closing client or one with replies off gets nothing.
        if (c.Has(ClientFlags.CloseAsap) || c.ReplyMode == ReplyMode.Off) return;
        RespWriter w = c.Out;
        w.WritePushHeader(hasPattern ? 4 : 3);
        w.WriteBulk(kind);
        if (hasPattern) w.WriteBulk(pattern);
        w.WriteBulk(channel);
        w.WriteBulk(message);
        // The publisher's own buffer goes out at the end of its batch; waking it here would swap it mid-command.
        if (!ReferenceEquals(c, publisher)) c.WakeWriter();
    }

    /// <summary>Commands a RESP2 client may run while subscribed.</summary>
    public static bool AllowedWhileSubscribed(Commands.CommandDef def) =>
        def.Parent is null && def.Name is "ping" or "subscribe" or "unsubscribe" or "psubscribe" or "punsubscribe"
            or "ssubscribe" or "sunsubscribe" or "quit" or "reset";
}
