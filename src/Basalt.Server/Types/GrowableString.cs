namespace Basalt.Server.Types;

/// <summary>
/// A string value that APPEND and SETRANGE grow in place: a buffer with spare room, so building a value by many small
/// appends costs amortized O(1) per call (Redis's sds greedy growth) instead of a copy of the whole value each time.
/// Only those two commands see this form: <see cref="Keyspace.Database.Lookup"/> turns it back into an exact byte[]
/// for every other reader, and the code that walks the tables directly (snapshots, digests, memory figures, DEBUG)
/// reads it through <see cref="Span"/> or <see cref="Plain"/>.
/// </summary>
public sealed class GrowableString : IRedisValue, Introspection.IMemoryEstimate
{
    private const int MaxPrealloc = 1024 * 1024; // as Redis: double up to 1 MB, then grow by 1 MB at a time

    public byte[] Buffer { get; private set; }
    public int Length { get; private set; }

    public GrowableString(ReadOnlySpan<byte> initial, long capacity)
    {
        Buffer = GC.AllocateUninitializedArray<byte>((int)Math.Max(initial.Length, capacity));
        initial.CopyTo(Buffer);
        Length = initial.Length;
    }

    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    public string TypeName => "string";
    public string Encoding => "raw";

    /// <summary>The exact value as a new array.</summary>
    public byte[] ToArray() => Buffer.AsSpan(0, Length).ToArray();

    /// <summary>A copy is a plain string (COPY).</summary>
    public IRedisValue Clone() => new GrowableString(Span, Length);

    public long EstimateBytes(int samples) => Introspection.MemoryStats.SdsSize(Buffer.Length) + Introspection.MemoryStats.RobjSize;

    /// <summary>The capacity to reserve for a value of <paramref name="needed"/> bytes that is being grown.</summary>
    public static long GreedyCapacity(long needed) =>
        Math.Min(needed < MaxPrealloc ? needed * 2 : needed + MaxPrealloc, Array.MaxLength);

    /// <summary>Makes room for <paramref name="needed"/> bytes (new bytes are zero), keeping the content.</summary>
    public void EnsureLength(long needed)
    {
        if (needed > Buffer.Length)
        {
            var grown = new byte[GreedyCapacity(needed)];
            Buffer.AsSpan(0, Length).CopyTo(grown);
            Buffer = grown;
        }
        else if (needed > Length) Buffer.AsSpan(Length, (int)needed - Length).Clear();
        if (needed > Length) Length = (int)needed;
    }

    /// <summary>The value as a byte[] string: a growable one is copied out, anything else is returned as is.</summary>
    public static object Plain(object value) => value is GrowableString g ? g.ToArray() : value;
}
