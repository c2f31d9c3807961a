namespace Basalt.Server.Eviction;

/// <summary>
/// String values taken from evicted keys, handed to the next SETs of the same length instead of new arrays.
/// Under a write flood at maxmemory (a cache), every SET evicts about one key of the same size: without reuse each
/// evicted value is garbage in the oldest GC generation, and only full collections (cost: the whole live heap)
/// give it back. Reused, the values never become garbage. Used under the execution lock only; bounded in bytes.
/// Only arrays nothing else references are offered: the evictor offers a value after deleting its key, and not
/// while a snapshot runs.
/// </summary>
public sealed class EvictedStringPool
{
    private const int MaxLength = 64 * 1024;
    private readonly Dictionary<int, Stack<byte[]>> _byLength = new();
    private long _bytes;

    /// <summary>Bytes held: free memory to the eviction measure (like a memory allocator's free lists).</summary>
    public long Bytes => _bytes;

    /// <summary>Upper bound of <see cref="Bytes"/>; 0 turns the pool off.</summary>
    public long Capacity { get; set; }

    /// <summary>Keeps <paramref name="value"/> for reuse; false when it does not fit (it is left to the GC).</summary>
    public bool Offer(byte[] value)
    {
        if (value.Length == 0 || value.Length > MaxLength || _bytes + value.Length > Capacity) return false;
        if (!_byLength.TryGetValue(value.Length, out var stack)) _byLength[value.Length] = stack = new Stack<byte[]>();
        stack.Push(value);
        _bytes += value.Length;
        return true;
    }

    /// <summary>A copy of <paramref name="content"/>, in a recycled array when one of that length is held.</summary>
    public byte[] Copy(ReadOnlySpan<byte> content)
    {
        if (_bytes > 0 && _byLength.TryGetValue(content.Length, out var stack) && stack.TryPop(out var array))
        {
            _bytes -= array.Length;
            content.CopyTo(array);
            return array;
        }
        return content.ToArray();
    }

    public void Clear()
    {
        _byLength.Clear();
        _bytes = 0;
    }
}
