namespace Basalt.Server.Types;

/// <summary>
/// A Redis stream: entries in ID order kept in blocks (<see cref="StreamNode"/>, like Redis's radix tree of
/// listpacks), the stream's counters (last generated ID, entries ever added, biggest deleted ID) and its
/// consumer groups sorted by name.
/// </summary>
public sealed class RedisStream : IRedisValue, Keyspace.IDigestible, Introspection.IMemoryEstimate
{
    public const long InvalidEntriesRead = -1;

    public List<StreamNode> Nodes = new();
    public long Length;
    public StreamId LastId;
    public StreamId FirstId;
    public StreamId MaxDeletedId;
    public long EntriesAdded;
    public List<StreamGroup> Groups = new();

    public string TypeName => "stream";
    public string Encoding => "stream";

    public IRedisValue Clone()
    {
        var c = (RedisStream)MemberwiseClone();
        c.Nodes = Nodes.Select(n => n.Clone()).ToList();
        c.Groups = Groups.Select(g => g.Clone()).ToList();
        return c;
    }

    /// <summary>Adds an entry whose ID the caller checked is above <see cref="LastId"/>.</summary>
    public void Append(StreamId id, FieldReader fields, long nodeMaxBytes, long nodeMaxEntries)
    {
        var tail = Nodes.Count > 0 ? Nodes[^1] : null;
        if (tail is not null)
        {
            long maxBytes = nodeMaxBytes <= 0 || nodeMaxBytes > (1L << 30) ? 1L << 30 : nodeMaxBytes;
            long total = 0;
            for (int i = 0; i < fields.Count; i++) total += fields.Get(i).Length;
            if (tail.ListpackBytes + total >= maxBytes) tail = null;
            else if (nodeMaxEntries > 0 && tail.Count >= nodeMaxEntries) tail = null;
        }
        if (tail is null)
        {
            tail = new StreamNode(id);
            Nodes.Add(tail);
        }
        tail.Append(id, fields);
        if (Length == 0) FirstId = id;
        Length++;
        EntriesAdded++;
        LastId = id;
    }

    /// <summary>Block holding <paramref name="id"/> if any: the last block whose master ID is not above it.</summary>
    private int NodeFor(StreamId id)
    {
        int lo = 0, hi = Nodes.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (Nodes[mid].Master <= id) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    public bool EntryExists(StreamId id)
    {
        int n = NodeFor(id);
        if (n < 0) return false;
        int i = Nodes[n].Find(id);
        return i >= 0 && !Nodes[n].Deleted[i];
    }

    /// <summary>Live entries with start &lt;= ID &lt;= end, ascending or (rev) descending.</summary>
    public IEnumerable<(StreamNode Node, int Index)> Range(StreamId start, StreamId end, bool rev)
    {
        if (start > end) yield break;
        if (!rev)
        {
            int n = Math.Max(NodeFor(start), 0);
            for (; n < Nodes.Count; n++)
            {
                var node = Nodes[n];
                for (int i = node.LowerBound(start); i < node.Count; i++)
                {
                    if (node.Ids[i] > end) yield break;
                    if (!node.Deleted[i]) yield return (node, i);
                }
            }
        }
        else
        {
            for (int n = NodeFor(end); n >= 0; n--)
            {
                var node = Nodes[n];
                int i = node.LowerBound(end);
                if (i >= node.Count || node.Ids[i] > end) i--;
                for (; i >= 0; i--)
                {
                    if (node.Ids[i] < start) yield break;
                    if (!node.Deleted[i]) yield return (node, i);
                }
            }
        }
    }

    /// <summary>Marks an entry deleted; a block left without live entries is dropped. False when absent.</summary>
    public bool Delete(StreamId id)
    {
        int n = NodeFor(id);
        if (n < 0) return false;
        var node = Nodes[n];
        int i = node.Find(id);
        if (i < 0 || node.Deleted[i]) return false;
        node.Deleted[i] = true;
        node.Live--;
        Length--;
        if (node.Live == 0) Nodes.RemoveAt(n);
        return true;
    }

    /// <summary>First (or last) live entry ID; 0-0 when empty.</summary>
    public StreamId EdgeId(bool first)
    {
        if (first)
        {
            foreach (var node in Nodes)
                for (int i = 0; i < node.Count; i++) if (!node.Deleted[i]) return node.Ids[i];
        }
        else
        {
            for (int n = Nodes.Count - 1; n >= 0; n--)
                for (int i = Nodes[n].Count - 1; i >= 0; i--) if (!Nodes[n].Deleted[i]) return Nodes[n].Ids[i];
        }
        return StreamId.Zero;
    }

    public void RefreshFirstId() => FirstId = Length == 0 ? StreamId.Zero : EdgeId(first: true);

    /// <summary>
    /// Trims from the head like Redis: whole blocks while they fit, then (unless approximate) entries inside the
    /// next block are flagged deleted. <paramref name="limit"/> (0 = none) bounds the entries removed.
    /// </summary>
    public long Trim(bool byMaxLen, long maxLen, StreamId minId, bool approx, long limit)
    {
        long deleted = 0;
        while (Nodes.Count > 0)
        {
            if (byMaxLen && Length <= maxLen) break;
            var node = Nodes[0];
            long entries = node.Live;
            if (limit != 0 && deleted + entries > limit) break;
            bool removeNode = byMaxLen ? Length - entries >= maxLen : node.LastStoredId < minId;
            if (removeNode)
            {
                Nodes.RemoveAt(0);
                Length -= entries;
                deleted += entries;
                continue;
            }
            if (approx) break;
            for (int i = 0; i < node.Count; i++)
            {
                bool stop = byMaxLen ? Length <= maxLen : node.Ids[i] >= minId;
                if (stop) break;
                if (!node.Deleted[i])
                {
                    node.Deleted[i] = true;
                    node.Live--;
                    Length--;
                    deleted++;
                }
            }
            break;
        }
        RefreshFirstId();
        return deleted;
    }

    // --- consumer groups ---

    /// <summary>Index of the group named <paramref name="name"/>, or ~insertion point.</summary>
    public int FindGroup(ReadOnlySpan<byte> name)
    {
        int lo = 0, hi = Groups.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            int c = Groups[mid].Name.AsSpan().SequenceCompareTo(name);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }

    public StreamGroup? LookupGroup(ReadOnlySpan<byte> name)
    {
        int i = FindGroup(name);
        return i >= 0 ? Groups[i] : null;
    }

    /// <summary>Creates a group; null when one with that name exists.</summary>
    public StreamGroup? CreateGroup(byte[] name, StreamId lastId, long entriesRead)
    {
        int i = FindGroup(name);
        if (i >= 0) return null;
        var g = new StreamGroup(name, lastId, entriesRead);
        Groups.Insert(~i, g);
        return g;
    }

    /// <summary>True when an XDEL'd ID may lie inside [start, end] (end null = open).</summary>
    public bool RangeHasTombstones(StreamId start, StreamId? end)
    {
        if (Length == 0 || MaxDeletedId.IsZero) return false;
        if (FirstId > MaxDeletedId) return false;
        var e = end ?? StreamId.Max;
        return start <= MaxDeletedId && MaxDeletedId <= e;
    }

    /// <summary>How many entries were added up to <paramref name="id"/>, when it can be known; else -1.</summary>
    public long EstimateDistanceFromFirstEverEntry(StreamId id)
    {
        if (EntriesAdded == 0) return 0;
        if (Length == 0 && id <= LastId) return EntriesAdded;
        int cmpLast = id.CompareTo(LastId);
        if (cmpLast == 0) return EntriesAdded;
        if (cmpLast > 0) return InvalidEntriesRead;
        int cmpFirst = id.CompareTo(FirstId);
        if (MaxDeletedId.IsZero || MaxDeletedId < FirstId)
        {
            if (cmpFirst < 0) return EntriesAdded - Length;
            if (cmpFirst == 0) return EntriesAdded - Length + 1;
        }
        return InvalidEntriesRead;
    }

    /// <summary>A group's lag (entries not yet delivered), or null when it cannot be computed.</summary>
    public long? Lag(StreamGroup g)
    {
        if (EntriesAdded == 0) return 0;
        if (g.EntriesRead != InvalidEntriesRead && !RangeHasTombstones(g.LastId, null)) return EntriesAdded - g.EntriesRead;
        long read = EstimateDistanceFromFirstEverEntry(g.LastId);
        return read != InvalidEntriesRead ? EntriesAdded - read : null;
    }

    /// <summary>Moves a group's last delivered ID forward to <paramref name="id"/>, keeping entries-read as Redis does.</summary>
    public void AdvanceGroup(StreamGroup g, StreamId id)
    {
        if (id <= g.LastId) return;
        if (g.EntriesRead != InvalidEntriesRead && !RangeHasTombstones(id, null)) g.EntriesRead++;
        else if (EntriesAdded != 0) g.EntriesRead = EstimateDistanceFromFirstEverEntry(id);
        g.LastId = id;
    }

    // --- introspection ---

    /// <summary>
    /// Node count of the radix tree Redis would hold for the block keys (16-byte big-endian IDs), assuming the
    /// tree is fully compressed: one node per compressed run or branch, plus a leaf per key; 1 when empty.
    /// </summary>
    public long RaxNodeCount()
    {
        if (Nodes.Count == 0) return 1;
        var keys = new byte[Nodes.Count][];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = new byte[16];
            Nodes[i].Master.WriteKey(keys[i]);
        }
        return CountRax(keys, 0, keys.Length, 0);
    }

    private static long CountRax(byte[][] keys, int lo, int hi, int depth)
    {
        if (depth == 16) return 1;
        int lcp = 0;
        while (depth + lcp < 16 && keys[lo][depth + lcp] == keys[hi - 1][depth + lcp]) lcp++;
        if (lcp > 0) return 1 + CountRax(keys, lo, hi, depth + lcp);
        long total = 1;
        int start = lo;
        for (int i = lo + 1; i <= hi; i++)
        {
            if (i == hi || keys[i][depth] != keys[start][depth])
            {
                total += CountRax(keys, start, i, depth + 1);
                start = i;
            }
        }
        return total;
    }

    /// <summary>DEBUG DIGEST: each live entry's ID written "ms.seq", then its fields and values, mixed in order (groups do not count).</summary>
    public void AddToDigest(Span<byte> digest)
    {
        Span<byte> idText = stackalloc byte[48];
        foreach (var (node, i) in Range(StreamId.Zero, StreamId.Max, rev: false))
        {
            var id = node.Ids[i];
            int len = id.Format(idText);
            idText[idText[..len].IndexOf((byte)'-')] = (byte)'.';
            Keyspace.Digest.Mix(digest, idText[..len]);
            var fields = new FieldReader(node.RawEntry(i));
            for (int k = 0; k < fields.Count; k++) Keyspace.Digest.Mix(digest, fields.Get(k));
        }
    }

    public long EstimateBytes(int samples) => MemoryBytes();

    public long MemoryBytes()
    {
        long total = 96;
        foreach (var n in Nodes) total += n.MemoryBytes;
        foreach (var g in Groups) total += 64 + g.Name.Length + g.Pel.Count * 48L + g.Consumers.Count * 64L;
        return total;
    }
}
