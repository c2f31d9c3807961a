using System.Runtime.InteropServices;

namespace Basalt.Server.Transactions;

/// <summary>Byte-array keys compared by content, looked up by span without copying.</summary>
public sealed class ByteKeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteKeyComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);
    public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        var h = new HashCode();
        h.AddBytes(alternate);
        return h.ToHashCode();
    }
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}

/// <summary>The watched keys of one database: key → the watches on it (one per watching client).</summary>
public sealed class WatchedKeys
{
    private readonly Dictionary<byte[], List<WatchEntry>> _byKey = new(ByteKeyComparer.Instance);
    private readonly Dictionary<byte[], List<WatchEntry>>.AlternateLookup<ReadOnlySpan<byte>> _lookup;

    public WatchedKeys() => _lookup = _byKey.GetAlternateLookup<ReadOnlySpan<byte>>();

    public int Count => _byKey.Count;

    public IEnumerable<KeyValuePair<byte[], List<WatchEntry>>> All => _byKey;

    public List<WatchEntry>? Find(ReadOnlySpan<byte> key) => _lookup.TryGetValue(key, out var list) ? list : null;

    /// <summary>Adds a watch unless its owner already watches this key; returns the entry or null.</summary>
    public WatchEntry? Add(MultiState owner, int db, ReadOnlySpan<byte> key, out bool firstKey)
    {
        firstKey = _byKey.Count == 0;
        ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(_lookup, key, out bool exists);
        if (exists)
        {
            foreach (var e in list!) if (ReferenceEquals(e.Owner, owner)) return null;
        }
        else list = new List<WatchEntry>(1);
        var entry = new WatchEntry { Owner = owner, Db = db, Key = exists ? FirstKey(list!) : key.ToArray() };
        list!.Add(entry);
        return entry;
    }

    private static byte[] FirstKey(List<WatchEntry> list) => list.Count > 0 ? list[0].Key : [];

    /// <summary>Removes one watch; returns true when the db has no watched keys left.</summary>
    public bool Remove(WatchEntry entry)
    {
        if (_lookup.TryGetValue(entry.Key, out var list))
        {
            list.Remove(entry);
            if (list.Count == 0) _byKey.Remove(entry.Key);
        }
        return _byKey.Count == 0;
    }
}
