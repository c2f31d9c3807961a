using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Basalt.Server.Keyspace;

namespace Basalt.Server.Notifications;

/// <summary>
/// Keyspace notifications (notify-keyspace-events): an event on a key is published to
/// <c>__keyspace@db__:key</c> (message = event name, class K) and <c>__keyevent@db__:event</c>
/// (message = key, class E) through the ordinary pub/sub registry. When notifications are off the cost
/// is one reference compare and one int test.
/// </summary>
public static class KeyspaceEvents
{
    public const int Keyspace = 1 << 0;   // K
    public const int Keyevent = 1 << 1;   // E
    public const int Generic = 1 << 2;    // g
    public const int String = 1 << 3;     // $
    public const int List = 1 << 4;       // l
    public const int Set = 1 << 5;        // s
    public const int Hash = 1 << 6;       // h
    public const int ZSet = 1 << 7;       // z
    public const int Expired = 1 << 8;    // x
    public const int Evicted = 1 << 9;    // e
    public const int Stream = 1 << 10;    // t
    public const int KeyMiss = 1 << 11;   // m
    public const int Module = 1 << 12;    // d
    public const int New = 1 << 13;       // n
    public const int All = Generic | String | List | Set | Hash | ZSet | Expired | Evicted | Stream | Module;

    // Parsed mask for the config string it came from; a CONFIG SET installs a new string reference. One object,
    // so servers sharing the process (tests) never see one server's text with another's mask.
    private sealed record Parsed(string Text, int Mask);
    private static Parsed _cached = new("", 0);

    /// <summary>Class bits for a notify-keyspace-events string (unknown characters add nothing).</summary>
    public static int ParseFlags(string text)
    {
        int m = 0;
        foreach (char c in text)
        {
            m |= c switch
            {
                'A' => All, 'g' => Generic, '$' => String, 'l' => List, 's' => Set, 'h' => Hash,
                'z' => ZSet, 'x' => Expired, 'e' => Evicted, 'K' => Keyspace, 'E' => Keyevent,
                't' => Stream, 'm' => KeyMiss, 'd' => Module, 'n' => New, _ => 0,
            };
        }
        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Mask(RedisServer server)
    {
        string text = server.Config.NotifyKeyspaceEvents;
        var cached = _cached;
        if (!ReferenceEquals(text, cached.Text)) _cached = cached = new Parsed(text, ParseFlags(text));
        return cached.Mask;
    }

    /// <summary>True when an event of <paramref name="flagClass"/> would be published (lets callers skip work).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Enabled(RedisServer server, int flagClass)
    {
        int mask = Mask(server);
        return (mask & flagClass) != 0 && (mask & (Keyspace | Keyevent)) != 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Notify(RedisServer server, int flagClass, string eventName, int db, ReadOnlySpan<byte> key)
    {
        int mask = Mask(server);
        if ((mask & flagClass) == 0) return;
        Publish(server, mask, eventName, db, key);
    }

    /// <summary>An event on a key of the command's current database.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Notify(Commands.CommandContext ctx, int flagClass, string eventName, ReadOnlySpan<byte> key) =>
        Notify(ctx.Server, flagClass, eventName, ctx.Db.Index, key);

    private static readonly byte[] SpacePrefix = "__keyspace@"u8.ToArray();
    private static readonly byte[] EventPrefix = "__keyevent@"u8.ToArray();

    private static void Publish(RedisServer server, int mask, string eventName, int db, ReadOnlySpan<byte> key)
    {
        if ((mask & (Keyspace | Keyevent)) == 0) return;
        int eventLen = Encoding.ASCII.GetByteCount(eventName);
        int size = 11 + 11 + 3 + Math.Max(key.Length, eventLen);
        byte[]? rented = null;
        Span<byte> buf = size <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(size));
        Span<byte> ev = stackalloc byte[64];
        byte[]? rentedEv = null;
        if (eventLen > ev.Length) ev = rentedEv = new byte[eventLen];
        ev = ev[..Encoding.ASCII.GetBytes(eventName, ev)];
        try
        {
            if ((mask & Keyspace) != 0)
            {
                int n = Channel(buf, SpacePrefix, db, key);
                server.PubSub.Publish(buf[..n], ev, null);
            }
            if ((mask & Keyevent) != 0)
            {
                int n = Channel(buf, EventPrefix, db, ev);
                server.PubSub.Publish(buf[..n], key, null);
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static int Channel(Span<byte> buf, byte[] prefix, int db, ReadOnlySpan<byte> tail)
    {
        prefix.CopyTo(buf);
        int n = prefix.Length;
        db.TryFormat(buf[n..], out int w);
        n += w;
        "__:"u8.CopyTo(buf[n..]);
        n += 3;
        tail.CopyTo(buf[n..]);
        return n + tail.Length;
    }

    /// <summary>Hooks the server-side events that are not tied to one command: TTL expiry and eviction.</summary>
    public static void Attach(RedisServer server)
    {
        foreach (var db in server.Databases)
        {
            db.KeyAdded += (d, key) => Notify(server, New, "new", d.Index, key);
            db.KeyExpired += (d, key) => Notify(server, Expired, "expired", d.Index, key);
        }
        server.Dispatcher.Evictor.KeyEvicted += (d, key) => Notify(server, Evicted, "evicted", d.Index, key);
    }
}
