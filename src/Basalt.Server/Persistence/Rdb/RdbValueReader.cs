using Basalt.Protocol;
using Basalt.Server.Keyspace;
using Basalt.Server.Persistence.Rdb.Encodings;
using Basalt.Server.Types;

namespace Basalt.Server.Persistence.Rdb;

/// <summary>
/// Reads one value body (after its type byte) for every RDB value type 0..21, choosing the in-memory
/// encoding by the server's thresholds as Redis converts on load. Malformed or duplicate data throws
/// <see cref="RdbFormatException"/>. Returns null for an empty collection, which Redis treats as an
/// "empty key": skipped when loading a file, "Bad data format" for RESTORE.
/// </summary>
public static class RdbValueReader
{
    public static object? Read(RdbInput i, byte type, RedisServer server)
    {
        var cfg = server.Config;
        switch (type)
        {
            case RdbConstants.TypeString: return i.ReadString();
            case RdbConstants.TypeList: return ReadPlainList(i, cfg.ListMaxListpackSize);
            case RdbConstants.TypeSet: return ReadPlainSet(i, cfg.SetMaxIntsetEntries);
            case RdbConstants.TypeZSet: return ReadPlainZSet(i, binaryScores: false, cfg.ZsetMaxListpackEntries, cfg.ZsetMaxListpackValue)?.Stored;
            case RdbConstants.TypeZSet2: return ReadPlainZSet(i, binaryScores: true, cfg.ZsetMaxListpackEntries, cfg.ZsetMaxListpackValue)?.Stored;
            case RdbConstants.TypeHash: return ReadPlainHash(i, cfg.HashMaxListpackEntries, cfg.HashMaxListpackValue)?.Stored;
            case RdbConstants.TypeModule:
            case RdbConstants.TypeModule2: throw ModuleError(i);
            case RdbConstants.TypeHashZipmap:
                return BuildHash(i, Decode(i, Zipmap.Decode, "zipmap"), cfg.HashMaxListpackEntries, cfg.HashMaxListpackValue)?.Stored;
            case RdbConstants.TypeListZiplist:
                return BuildList(Decode(i, Ziplist.Decode, "ziplist"), cfg.ListMaxListpackSize);
            case RdbConstants.TypeSetIntset: return ReadIntset(i, cfg.SetMaxIntsetEntries);
            case RdbConstants.TypeZSetZiplist:
                return BuildPackedZSet(i, Decode(i, Ziplist.Decode, "ziplist"), cfg.ZsetMaxListpackEntries)?.Stored;
            case RdbConstants.TypeHashZiplist:
                return BuildHash(i, Decode(i, Ziplist.Decode, "ziplist"), cfg.HashMaxListpackEntries, long.MaxValue)?.Stored;
            case RdbConstants.TypeListQuicklist: return ReadQuicklist(i, v2: false, cfg.ListMaxListpackSize);
            case RdbConstants.TypeListQuicklist2: return ReadQuicklist(i, v2: true, cfg.ListMaxListpackSize);
            case RdbConstants.TypeHashListpack:
                // Packed hashes convert on the count only (a long value stays packed, as in Redis).
                return BuildHash(i, Decode(i, Listpack.Decode, "listpack"), cfg.HashMaxListpackEntries, long.MaxValue)?.Stored;
            case RdbConstants.TypeZSetListpack:
                return BuildPackedZSet(i, Decode(i, Listpack.Decode, "listpack"), cfg.ZsetMaxListpackEntries)?.Stored;
            case RdbConstants.TypeSetListpack:
                return BuildSet(i, Decode(i, Listpack.Decode, "listpack"), cfg.SetMaxIntsetEntries);
            case RdbConstants.TypeStreamListpacks:
            case RdbConstants.TypeStreamListpacks2:
            case RdbConstants.TypeStreamListpacks3:
                return RdbStreamCodec.Read(i, type);
            default:
                throw i.Error($"Unknown RDB value type {type}");
        }
    }

    // ---- blobs (ziplist, listpack, zipmap) ----

    private delegate List<byte[]> BlobDecoder(ReadOnlySpan<byte> blob);

    private static List<byte[]> Decode(RdbInput i, BlobDecoder decoder, string what)
    {
        long at = i.Position;
        var blob = i.ReadString();
        try { return decoder(blob); }
        catch (RdbFormatException e) { throw new RdbFormatException($"Bad {what} at offset {at}: {e.Message}"); }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or OverflowException or InvalidOperationException)
        {
            throw new RdbFormatException($"Bad {what} at offset {at}");
        }
    }

    // ---- lists ----

    private static RedisList? ReadPlainList(RdbInput i, int fill)
    {
        int n = i.ReadCount();
        if (n == 0) return null;
        var l = new RedisList();
        for (int k = 0; k < n; k++) l.PushTail(i.ReadString(), fill);
        return l;
    }

    private static RedisList? BuildList(List<byte[]> items, int fill)
    {
        if (items.Count == 0) return null;
        var l = new RedisList();
        foreach (var e in items) l.PushTail(e, fill);
        return l;
    }

    private static RedisList? ReadQuicklist(RdbInput i, bool v2, int fill)
    {
        int nodes = i.ReadCount();
        var l = new RedisList();
        for (int k = 0; k < nodes; k++)
        {
            int container = RdbConstants.QuicklistNodePacked;
            if (v2)
            {
                ulong c = i.ReadLength();
                if (c != RdbConstants.QuicklistNodePlain && c != RdbConstants.QuicklistNodePacked)
                    throw i.Error($"Unknown quicklist node container {c}");
                container = (int)c;
            }
            if (container == RdbConstants.QuicklistNodePlain)
            {
                l.PushTail(i.ReadString(), fill);
                continue;
            }
            // Empty nodes are skipped, as Redis does.
            var items = v2 ? Decode(i, Listpack.Decode, "listpack") : Decode(i, Ziplist.Decode, "ziplist");
            foreach (var e in items) l.PushTail(e, fill);
        }
        return l.Count == 0 ? null : l;
    }

    // ---- sets ----

    private static RedisSet? ReadPlainSet(RdbInput i, long maxIntset)
    {
        int n = i.ReadCount();
        if (n == 0) return null;
        var s = new RedisSet();
        for (int k = 0; k < n; k++)
            if (!s.Add(i.ReadString(), maxIntset)) throw i.Error("Duplicate set members detected");
        return s;
    }

    private static RedisSet? BuildSet(RdbInput i, List<byte[]> items, long maxIntset)
    {
        if (items.Count == 0) return null;
        var s = new RedisSet();
        foreach (var e in items)
            if (!s.Add(e, maxIntset)) throw i.Error("Duplicate set members detected");
        return s;
    }

    private static RedisSet? ReadIntset(RdbInput i, long maxIntset)
    {
        long at = i.Position;
        var blob = i.ReadString();
        long[] vals;
        try { vals = Intset.Decode(blob); }
        catch (Exception e) when (e is RdbFormatException or IndexOutOfRangeException or ArgumentException)
        {
            throw new RdbFormatException($"Bad intset at offset {at}");
        }
        if (vals.Length == 0) return null;
        for (int k = 1; k < vals.Length; k++)
            if (vals[k] <= vals[k - 1]) throw new RdbFormatException($"Intset not sorted or with duplicates at offset {at}");
        var s = RedisSet.FromSortedInts(vals);
        if (s.Count > maxIntset) s.Convert();
        return s;
    }

    // ---- hashes ----

    private static RedisHash? ReadPlainHash(RdbInput i, long maxEntries, long maxValue)
    {
        int n = i.ReadCount();
        if (n == 0) return null;
        var h = new RedisHash();
        for (int k = 0; k < n; k++)
        {
            var f = i.ReadString();
            var v = i.ReadString();
            if (!h.Set(f, v, maxEntries, maxValue)) throw i.Error("Duplicate hash fields detected");
        }
        return h;
    }

    private static RedisHash? BuildHash(RdbInput i, List<byte[]> items, long maxEntries, long maxValue)
    {
        if (items.Count % 2 != 0) throw i.Error("Hash blob with an odd number of entries");
        if (items.Count == 0) return null;
        var h = new RedisHash();
        for (int k = 0; k < items.Count; k += 2)
            if (!h.Set(items[k], items[k + 1], maxEntries, maxValue)) throw i.Error("Duplicate hash fields detected");
        return h;
    }

    // ---- sorted sets ----

    private static RedisSortedSet? ReadPlainZSet(RdbInput i, bool binaryScores, long maxEntries, long maxValue)
    {
        int n = i.ReadCount();
        if (n == 0) return null;
        var items = new List<(byte[] Member, double Score)>(Math.Min(n, 1 << 16));
        for (int k = 0; k < n; k++)
        {
            var m = i.ReadString();
            double s = binaryScores ? i.ReadBinaryDouble() : i.ReadTextDouble();
            if (double.IsNaN(s)) throw i.Error("Zset with NAN score detected");
            items.Add((m, s));
        }
        return BuildZSet(i, items, maxEntries, maxValue);
    }

    private static RedisSortedSet? BuildPackedZSet(RdbInput i, List<byte[]> flat, long maxEntries)
    {
        if (flat.Count % 2 != 0) throw i.Error("Zset blob with an odd number of entries");
        if (flat.Count == 0) return null;
        var items = new List<(byte[] Member, double Score)>(flat.Count / 2);
        for (int k = 0; k < flat.Count; k += 2)
        {
            if (!ZNumbers.TryStrtod(flat[k + 1], allowLeadingSpace: false, strict: false, out double s) || double.IsNaN(s))
                throw i.Error("Bad zset score");
            items.Add((flat[k], s));
        }
        // Packed zsets convert on the count only (a long member stays packed, as in Redis).
        return BuildZSet(i, items, maxEntries, long.MaxValue);
    }

    private static RedisSortedSet BuildZSet(RdbInput i, List<(byte[] Member, double Score)> items, long maxEntries, long maxValue)
    {
        var seen = new KeyTable<byte>(items.Count);
        foreach (var it in items)
        {
            seen.GetValueRefOrAdd(it.Member, out bool dup, it.Member);
            if (dup) throw i.Error("Duplicate zset fields detected");
        }
        items.Sort(static (a, b) => ZSkipList.Compare(a.Score, a.Member, b.Score, b.Member));
        return RedisSortedSet.FromSorted(items, maxEntries, maxValue);
    }

    // ---- modules ----

    private static RdbFormatException ModuleError(RdbInput i)
    {
        long at = i.Position;
        ulong id;
        try { id = i.ReadLength(); }
        catch (RdbFormatException) { return new RdbFormatException($"Module value at offset {at}: modules are not supported"); }
        return new RdbFormatException($"The RDB file contains module data I can't load: no matching module type '{ModuleName(id)}' (offset {at})");
    }

    /// <summary>A module type id holds a 9-character name (6 bits each, high bits first) and a 10-bit encoding version.</summary>
    internal static string ModuleName(ulong id)
    {
        const string charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var name = new char[9];
        ulong x = id >> 10;
        for (int k = 8; k >= 0; k--) { name[k] = charset[(int)(x & 63)]; x >>= 6; }
        return new string(name);
    }
}
