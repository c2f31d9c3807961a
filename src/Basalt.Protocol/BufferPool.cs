using System.Buffers;

namespace Basalt.Protocol;

/// <summary>
/// The shared byte pool, minus the big arrays: a buffer that grew past <see cref="MaxPooledLength"/> (a pipelined
/// flood, a huge reply) is left to the GC instead of being parked in ArrayPool.Shared, which would keep it alive
/// (and resident) until a later trim, long after the one client that needed it has gone.
/// </summary>
public static class BufferPool
{
    public const int MaxPooledLength = 1024 * 1024;

    public static byte[] Rent(int minimumLength) => ArrayPool<byte>.Shared.Rent(minimumLength);

    public static void Return(byte[] buffer)
    {
        if (buffer.Length <= MaxPooledLength) ArrayPool<byte>.Shared.Return(buffer);
    }
}
