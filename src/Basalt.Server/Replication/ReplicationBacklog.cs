namespace Basalt.Server.Replication;

/// <summary>
/// The replication backlog: a ring of the last <see cref="Size"/> bytes of the replication stream, addressed by
/// stream offset (the first byte ever sent is offset 1), so a reconnecting replica can continue from its offset.
/// Used under the execution lock.
/// </summary>
public sealed class ReplicationBacklog
{
    private byte[] _ring;
    private int _head;        // where the next byte goes
    private long _histLen;    // valid bytes in the ring

    public ReplicationBacklog(long size, long offset)
    {
        _ring = new byte[(int)Math.Clamp(size, 16 * 1024, Array.MaxLength)];
        Offset = offset;
    }

    /// <summary>Offset of the last byte appended (INFO master_repl_offset).</summary>
    public long Offset { get; private set; }

    public long Size => _ring.Length;

    public long HistLen => _histLen;

    /// <summary>Offset of the oldest byte still held (repl_backlog_first_byte_offset).</summary>
    public long FirstByteOffset => Offset - _histLen + 1;

    public void Append(ReadOnlySpan<byte> data)
    {
        Offset += data.Length;
        if (data.Length >= _ring.Length)
        {
            data[^_ring.Length..].CopyTo(_ring);
            _head = 0;
            _histLen = _ring.Length;
            return;
        }
        int first = Math.Min(data.Length, _ring.Length - _head);
        data[..first].CopyTo(_ring.AsSpan(_head));
        data[first..].CopyTo(_ring);
        _head = (_head + data.Length) % _ring.Length;
        _histLen = Math.Min(_ring.Length, _histLen + data.Length);
    }

    /// <summary>True when the bytes from <paramref name="offset"/> (next byte the replica wants) to the end are held.</summary>
    public bool CanServe(long offset) => _histLen > 0 ? offset >= FirstByteOffset && offset <= Offset + 1 : offset == Offset + 1;

    /// <summary>Copies the bytes from <paramref name="offset"/> to the end into <paramref name="sink"/>.</summary>
    public void CopyFrom(long offset, Action<ReadOnlyMemory<byte>> sink)
    {
        long count = Offset + 1 - offset;
        if (count <= 0) return;
        int start = (int)((_head - count + _ring.Length) % _ring.Length);
        int first = (int)Math.Min(count, _ring.Length - start);
        sink(_ring.AsMemory(start, first));
        if (count > first) sink(_ring.AsMemory(0, (int)(count - first)));
    }

    /// <summary>CONFIG SET repl-backlog-size: keeps the newest bytes that fit.</summary>
    public void Resize(long size)
    {
        int n = (int)Math.Clamp(size, 16 * 1024, Array.MaxLength);
        if (n == _ring.Length) return;
        var keep = (int)Math.Min(_histLen, n);
        var nr = new byte[n];
        int pos = 0;
        CopyFrom(Offset + 1 - keep, m => { m.Span.CopyTo(nr.AsSpan(pos)); pos += m.Length; });
        _ring = nr;
        _histLen = keep;
        _head = keep % n;
    }
}
