namespace Basalt.Server.Types;

/// <summary>A pending (delivered, not acknowledged) entry of a group, shared by the group's and the owner's PEL.</summary>
public sealed class StreamNack
{
    public long DeliveryTime;
    public long DeliveryCount;
    public StreamConsumer? Consumer;

    public StreamNack(StreamConsumer? consumer, long now)
    {
        Consumer = consumer;
        DeliveryTime = now;
        DeliveryCount = 1;
    }
}

public sealed class StreamConsumer
{
    public readonly byte[] Name;
    public long SeenTime;
    public readonly SortedList<StreamId, StreamNack> Pel = new();

    public StreamConsumer(byte[] name, long now)
    {
        Name = name;
        SeenTime = now;
    }
}

/// <summary>A consumer group: last delivered ID, entries-read counter, the PEL and consumers sorted by name.</summary>
public sealed class StreamGroup
{
    public readonly byte[] Name;
    public StreamId LastId;
    public long EntriesRead;
    public SortedList<StreamId, StreamNack> Pel = new();
    public List<StreamConsumer> Consumers = new();

    public StreamGroup(byte[] name, StreamId lastId, long entriesRead)
    {
        Name = name;
        LastId = lastId;
        EntriesRead = entriesRead;
    }

    public int FindConsumer(ReadOnlySpan<byte> name)
    {
        int lo = 0, hi = Consumers.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            int c = Consumers[mid].Name.AsSpan().SequenceCompareTo(name);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }

    public StreamConsumer? LookupConsumer(ReadOnlySpan<byte> name)
    {
        int i = FindConsumer(name);
        return i >= 0 ? Consumers[i] : null;
    }

    /// <summary>Creates a consumer; null when it already exists.</summary>
    public StreamConsumer? CreateConsumer(ReadOnlySpan<byte> name, long now)
    {
        int i = FindConsumer(name);
        if (i >= 0) return null;
        var c = new StreamConsumer(name.ToArray(), now);
        Consumers.Insert(~i, c);
        return c;
    }

    /// <summary>The consumer, created when missing; its seen time is refreshed.</summary>
    public StreamConsumer LookupOrCreateConsumer(ReadOnlySpan<byte> name, long now, out bool created)
    {
        var c = LookupConsumer(name);
        created = c is null;
        c ??= CreateConsumer(name, now)!;
        c.SeenTime = now;
        return c;
    }

    /// <summary>Removes a consumer and its pending entries; returns how many it had (0 when absent).</summary>
    public long DeleteConsumer(ReadOnlySpan<byte> name)
    {
        int i = FindConsumer(name);
        if (i < 0) return 0;
        var c = Consumers[i];
        long pending = c.Pel.Count;
        foreach (var id in c.Pel.Keys) Pel.Remove(id);
        Consumers.RemoveAt(i);
        return pending;
    }

    /// <summary>First index in a PEL whose ID is at least <paramref name="id"/>.</summary>
    public static int LowerBound(SortedList<StreamId, StreamNack> pel, StreamId id)
    {
        var keys = pel.Keys;
        int lo = 0, hi = keys.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (keys[mid] < id) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    public StreamGroup Clone()
    {
        var g = new StreamGroup(Name, LastId, EntriesRead);
        var map = new Dictionary<StreamConsumer, StreamConsumer>();
        foreach (var c in Consumers)
        {
            var nc = new StreamConsumer(c.Name, c.SeenTime);
            map[c] = nc;
            g.Consumers.Add(nc);
        }
        foreach (var (id, n) in Pel)
        {
            var nn = new StreamNack(n.Consumer is null ? null : map[n.Consumer], n.DeliveryTime) { DeliveryCount = n.DeliveryCount };
            g.Pel.Add(id, nn);
            nn.Consumer?.Pel.Add(id, nn);
        }
        return g;
    }
}
