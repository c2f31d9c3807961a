using System.Buffers;

namespace Basalt.Protocol;

/// <summary>
/// Byte buffers for connections and replies. Up to <see cref="MaxSharedLength"/> they come from ArrayPool.Shared.
/// Bigger ones (a pipelined flood, a huge reply) go to a small cache of their own instead: ArrayPool.Shared would
/// keep several of them per size and core, resident long after the one client that needed them has gone. This cache
/// holds at most <see cref="MaxCachedBytes"/>, and drops what has not been reused for a few seconds
/// (and everything on <see cref="Trim"/>, i.e. MEMORY PURGE), so a burst reuses its buffers and idle memory goes back.
/// </summary>
public static class BufferPool
{
    public const int MaxSharedLength = 1024 * 1024;
    private const long MaxCachedBytes = 64L * 1024 * 1024;
    private const int IdleMs = 5000;

    private static readonly object Gate = new();
    private static readonly byte[]?[] Cached = new byte[8][];
    private static readonly long[] CachedAt = new long[8];
    private static long _cachedBytes;
    private static Timer? _timer;

    public static byte[] Rent(int minimumLength)
    {
        if (minimumLength <= MaxSharedLength) return ArrayPool<byte>.Shared.Rent(minimumLength);
        lock (Gate)
        {
            int best = -1;
            for (int i = 0; i < Cached.Length; i++)
                if (Cached[i] is { } b && b.Length >= minimumLength && (best < 0 || b.Length < Cached[best]!.Length)) best = i;
            if (best >= 0)
            {
                var b = Cached[best]!;
                Cached[best] = null;
                _cachedBytes -= b.Length;
                return b;
            }
        }
        long size = MaxSharedLength;
        while (size < minimumLength) size <<= 1;
        return GC.AllocateUninitializedArray<byte>((int)Math.Min(size, Array.MaxLength));
    }

    public static void Return(byte[] buffer)
    {
        if (buffer.Length <= MaxSharedLength)
        {
            if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
            return;
        }
        if (buffer.Length > MaxCachedBytes) return;
        lock (Gate)
        {
            int free = Array.IndexOf(Cached, null);
            if (free < 0 || _cachedBytes + buffer.Length > MaxCachedBytes) return;
            Cached[free] = buffer;
            CachedAt[free] = Environment.TickCount64;
            _cachedBytes += buffer.Length;
            _timer ??= new Timer(_ => DropIdle(), null, IdleMs, IdleMs);
        }
    }

    /// <summary>Bytes held in the cache of big buffers.</summary>
    public static long CachedBytes { get { lock (Gate) return _cachedBytes; } }

    /// <summary>Drops every cached big buffer.</summary>
    public static void Trim() => Drop(long.MaxValue);

    private static void DropIdle() => Drop(IdleMs);

    private static void Drop(long olderThanMs)
    {
        long now = Environment.TickCount64;
        lock (Gate)
        {
            for (int i = 0; i < Cached.Length; i++)
            {
                if (Cached[i] is not { } b || (olderThanMs != long.MaxValue && now - CachedAt[i] < olderThanMs)) continue;
                Cached[i] = null;
                _cachedBytes -= b.Length;
            }
        }
    }
}
