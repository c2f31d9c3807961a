using Basalt.Protocol;
using Basalt.Server.Types;

namespace Basalt.Server.Persistence.Aof;

/// <summary>
/// An AOF base in command form (aof-use-rdb-preamble no): per key the commands that rebuild it, as Redis's
/// rewrite writes them — SET, RPUSH/SADD/ZADD/HMSET in batches of 64 items, XADD/XSETID/XGROUP/XCLAIM for
/// streams — followed by PEXPIREAT when the key has a TTL.
/// </summary>
public sealed class AofRewriteFormat : ISnapshotFormat
{
    /// <summary>Redis's AOF_REWRITE_ITEMS_PER_CMD.</summary>
    public const int ItemsPerCommand = 64;

    private readonly Stream _out;
    private readonly bool _timestamp;
    private readonly RespWriter _w = new(64 * 1024);
    private readonly byte[] _num = new byte[48];

    public AofRewriteFormat(Stream output, bool timestampAnnotation)
    {
        _out = output;
        _timestamp = timestampAnnotation;
    }

    public void Begin()
    {
        if (_timestamp) _w.WriteRaw(AofManager.TimestampAnnotation(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    }

    public void SelectDb(int db, long keys, long expires)
    {
        _w.WriteRaw(Replication.PropagationFrames.Select(db));
    }

    public void Entry(ReadOnlySpan<byte> key, object value, long expireAtMs, uint accessStamp)
    {
        if (expireAtMs != -1 && expireAtMs < Keyspace.Database.NowMs) return; // already expired: Redis's rewrite skips it
        switch (value)
        {
            case byte[] s:
                _w.WriteArrayHeader(3);
                _w.WriteBulk("SET"u8);
                _w.WriteBulk(key);
                _w.WriteBulk(s);
                break;
            case GrowableString g:
                _w.WriteArrayHeader(3);
                _w.WriteBulk("SET"u8);
                _w.WriteBulk(key);
                _w.WriteBulk(g.Span);
                break;
            case RedisList l: WriteList(key, l); break;
            case RedisSet set: WriteSet(key, set); break;
            case RedisSortedSet z: WriteZSet(key, z); break;
            case ZSetPackByte[]: WriteZSet(key, RedisSortedSet.Readable(value)!); break;
            case RedisHash h: WriteHash(key, h); break;
            case HashPackByte[]: WriteHash(key, RedisHash.Readable(value)!); break;
            case RedisStream st: WriteStream(key, st); break;
            default: throw new InvalidOperationException("Unknown object type " + value.GetType().Name);
        }
        if (expireAtMs != -1)
        {
            _w.WriteArrayHeader(3);
            _w.WriteBulk("PEXPIREAT"u8);
            _w.WriteBulk(key);
            WriteNum(expireAtMs);
        }
        if (_w.Length >= 48 * 1024) Drain();
    }

    public void End() => Drain();

    public void Flush() => Drain();

    private void Drain()
    {
        _out.Write(_w.WrittenSpan);
        _w.Reset();
    }

    private void WriteNum(long v)
    {
        int n = RespNumbers.FormatInt64(v, _num);
        _w.WriteBulk(_num.AsSpan(0, n));
    }

    private void WriteDouble(double d)
    {
        int n = RespNumbers.FormatDouble(d, _num);
        _w.WriteBulk(_num.AsSpan(0, n));
    }

    /// <summary>Starts a batch command when <paramref name="inBatch"/> is 0; returns how many items it will hold.</summary>
    private void BatchHeader(ReadOnlySpan<byte> cmd, ReadOnlySpan<byte> key, long remaining, int itemWidth)
    {
        long items = Math.Min(remaining, ItemsPerCommand);
        _w.WriteArrayHeader(2 + items * itemWidth);
        _w.WriteBulk(cmd);
        _w.WriteBulk(key);
    }

    private void WriteList(ReadOnlySpan<byte> key, RedisList l)
    {
        long remaining = l.Count;
        int inBatch = 0;
        var cur = l.Iterate(reverse: false);
        while (cur.Next(out var v))
        {
            if (inBatch == 0) BatchHeader("RPUSH"u8, key, remaining, 1);
            _w.WriteBulk(v);
            remaining--;
            if (++inBatch == ItemsPerCommand) inBatch = 0;
            if (_w.Length >= 48 * 1024) Drain();
        }
    }

    private void WriteSet(ReadOnlySpan<byte> key, RedisSet s)
    {
        long remaining = s.Count;
        int inBatch = 0;
        var e = s.GetEnumerator();
        while (e.MoveNext())
        {
            if (inBatch == 0) BatchHeader("SADD"u8, key, remaining, 1);
            _w.WriteBulk(e.Current);
            remaining--;
            if (++inBatch == ItemsPerCommand) inBatch = 0;
            if (_w.Length >= 48 * 1024) Drain();
        }
    }

    private void WriteZSet(ReadOnlySpan<byte> key, RedisSortedSet z)
    {
        var items = new List<ZItem>(z.Count);
        z.CollectAll(items);
        long remaining = items.Count;
        int inBatch = 0;
        foreach (var it in items)
        {
            if (inBatch == 0) BatchHeader("ZADD"u8, key, remaining, 2);
            WriteDouble(it.Score);
            _w.WriteBulk(it.Member);
            remaining--;
            if (++inBatch == ItemsPerCommand) inBatch = 0;
            if (_w.Length >= 48 * 1024) Drain();
        }
    }

    private void WriteHash(ReadOnlySpan<byte> key, RedisHash h)
    {
        long remaining = h.Count;
        int inBatch = 0;
        var e = h.GetEnumerator();
        while (e.MoveNext())
        {
            if (inBatch == 0) BatchHeader("HMSET"u8, key, remaining, 2);
            _w.WriteBulk(e.Field);
            _w.WriteBulk(e.Value);
            remaining--;
            if (++inBatch == ItemsPerCommand) inBatch = 0;
            if (_w.Length >= 48 * 1024) Drain();
        }
    }

    private void WriteId(StreamId id)
    {
        int n = id.Format(_num);
        _w.WriteBulk(_num.AsSpan(0, n));
    }

    private void WriteStream(ReadOnlySpan<byte> key, RedisStream s)
    {
        if (s.Length > 0)
        {
            foreach (var (node, i) in s.Range(StreamId.Zero, StreamId.Max, rev: false))
            {
                var fields = new FieldReader(node.RawEntry(i));
                _w.WriteArrayHeader(3 + fields.Count);
                _w.WriteBulk("XADD"u8);
                _w.WriteBulk(key);
                WriteId(node.Ids[i]);
                for (int k = 0; k < fields.Count; k++) _w.WriteBulk(fields.Get(k));
                if (_w.Length >= 48 * 1024) Drain();
            }
        }
        else
        {
            // An empty stream is created by adding an entry that MAXLEN 0 removes at once.
            _w.WriteArrayHeader(7);
            _w.WriteBulk("XADD"u8);
            _w.WriteBulk(key);
            _w.WriteBulk("MAXLEN"u8);
            _w.WriteBulk("0"u8);
            WriteId(s.LastId);
            _w.WriteBulk("x"u8);
            _w.WriteBulk("y"u8);
        }
        _w.WriteArrayHeader(7);
        _w.WriteBulk("XSETID"u8);
        _w.WriteBulk(key);
        WriteId(s.LastId);
        _w.WriteBulk("ENTRIESADDED"u8);
        WriteNum(s.EntriesAdded);
        _w.WriteBulk("MAXDELETEDID"u8);
        WriteId(s.MaxDeletedId);

        foreach (var g in s.Groups.OrderBy(g => g.Name, ByteOrder.Instance))
        {
            _w.WriteArrayHeader(7);
            _w.WriteBulk("XGROUP"u8);
            _w.WriteBulk("CREATE"u8);
            _w.WriteBulk(key);
            _w.WriteBulk(g.Name);
            WriteId(g.LastId);
            _w.WriteBulk("ENTRIESREAD"u8);
            WriteNum(g.EntriesRead);
            foreach (var c in g.Consumers.OrderBy(c => c.Name, ByteOrder.Instance))
            {
                if (c.Pel.Count == 0)
                {
                    _w.WriteArrayHeader(5);
                    _w.WriteBulk("XGROUP"u8);
                    _w.WriteBulk("CREATECONSUMER"u8);
                    _w.WriteBulk(key);
                    _w.WriteBulk(g.Name);
                    _w.WriteBulk(c.Name);
                    continue;
                }
                foreach (var (id, nack) in c.Pel)
                {
                    _w.WriteArrayHeader(12);
                    _w.WriteBulk("XCLAIM"u8);
                    _w.WriteBulk(key);
                    _w.WriteBulk(g.Name);
                    _w.WriteBulk(c.Name);
                    _w.WriteBulk("0"u8);
                    WriteId(id);
                    _w.WriteBulk("TIME"u8);
                    WriteNum(nack.DeliveryTime);
                    _w.WriteBulk("RETRYCOUNT"u8);
                    WriteNum(nack.DeliveryCount);
                    _w.WriteBulk("JUSTID"u8);
                    _w.WriteBulk("FORCE"u8);
                }
            }
        }
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? a, byte[]? b) => a.AsSpan().SequenceCompareTo(b);
    }
}
