using System.Buffers.Binary;

namespace Basalt.Server.Types;

/// <summary>
/// One packed node of a list (listpack-like): a single byte[] holding
/// [count:int32][used:int32] followed by entries. Each entry is [varint length][bytes][backlen], where backlen
/// is the size of (varint + bytes) written so it can be read backwards from the entry's end, which makes
/// tail pops and reverse walks O(1) per entry. The array may have slack after <c>used</c> for cheap appends.
/// All members are static helpers over the raw array so a list node is exactly one object.
/// </summary>
internal static class PackedNode
{
    public const int Header = 8;

    public static byte[] Create(int capacity = 32) { var b = new byte[Math.Max(capacity, Header)]; SetUsed(b, Header); return b; }

    public static int Count(byte[] n) => BinaryPrimitives.ReadInt32LittleEndian(n);
    public static void SetCount(byte[] n, int v) => BinaryPrimitives.WriteInt32LittleEndian(n, v);
    public static int Used(byte[] n) => BinaryPrimitives.ReadInt32LittleEndian(n.AsSpan(4));
    public static void SetUsed(byte[] n, int v) => BinaryPrimitives.WriteInt32LittleEndian(n.AsSpan(4), v);

    public static int VarSize(int v) => v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;

    /// <summary>Total bytes an element of <paramref name="len"/> bytes takes in a node.</summary>
    public static int EntrySize(int len)
    {
        int inner = VarSize(len) + len;
        return inner + VarSize(inner);
    }

    private static int WriteVar(Span<byte> d, int v)
    {
        int i = 0;
        while (v >= 0x80) { d[i++] = (byte)(v | 0x80); v >>= 7; }
        d[i++] = (byte)v;
        return i;
    }

    private static int ReadVar(ReadOnlySpan<byte> s, int p, out int v)
    {
        v = 0;
        int shift = 0, i = p;
        while (true)
        {
            byte b = s[i++];
            v |= (b & 0x7f) << shift;
            if (b < 0x80) return i - p;
            shift += 7;
        }
    }

    /// <summary>Writes a whole entry at <paramref name="p"/>; returns its size.</summary>
    private static int WriteEntry(Span<byte> d, int p, ReadOnlySpan<byte> value)
    {
        int h = WriteVar(d[p..], value.Length);
        value.CopyTo(d[(p + h)..]);
        int inner = h + value.Length;
        // backlen: lowest 7 bits at the highest address, continuation bit means "more bytes below".
        int bl = VarSize(inner);
        int v = inner;
        for (int i = 0; i < bl; i++)
        {
            byte b = (byte)(v & 0x7f);
            v >>= 7;
            if (i < bl - 1) b |= 0x80;
            d[p + inner + bl - 1 - i] = b;
        }
        return inner + bl;
    }

    /// <summary>The element starting at <paramref name="p"/>, and the offset of the next one.</summary>
    public static ReadOnlySpan<byte> Read(byte[] n, int p, out int next)
    {
        int h = ReadVar(n, p, out int len);
        int inner = h + len;
        next = p + inner + VarSize(inner);
        return new ReadOnlySpan<byte>(n, p + h, len);
    }

    /// <summary>Offset of the entry that ends at <paramref name="end"/>.</summary>
    public static int Prev(byte[] n, int end)
    {
        int v = 0, shift = 0, i = end - 1;
        while (true)
        {
            byte b = n[i];
            v |= (b & 0x7f) << shift;
            if (b < 0x80) break;
            shift += 7;
            i--;
        }
        return i - v;
    }

    /// <summary>Makes room for <paramref name="size"/> bytes at <paramref name="p"/>, shifting the rest.</summary>
    private static byte[] OpenGap(byte[] n, int p, int size)
    {
        int used = Used(n);
        if (used + size > n.Length)
        {
            int need = used + size;
            // Small nodes grow by a quarter (most lists stay small); larger ones double, up to 8 KB at a time.
            var nb = new byte[need <= 256 ? need + need / 4 : Math.Max(need, Math.Min(n.Length * 2, need + 8192))];
            Buffer.BlockCopy(n, 0, nb, 0, p);
            Buffer.BlockCopy(n, p, nb, p + size, used - p);
            n = nb;
        }
        else if (p < used)
        {
            Buffer.BlockCopy(n, p, n, p + size, used - p);
        }
        SetUsed(n, used + size);
        return n;
    }

    /// <summary>Inserts an element at byte offset <paramref name="p"/> (Header = front, Used = back). May reallocate.</summary>
    public static byte[] InsertAt(byte[] n, int p, ReadOnlySpan<byte> value)
    {
        int size = EntrySize(value.Length);
        n = OpenGap(n, p, size);
        WriteEntry(n, p, value);
        SetCount(n, Count(n) + 1);
        return n;
    }

    /// <summary>Removes the entry at <paramref name="p"/> whose successor starts at <paramref name="next"/>.</summary>
    public static void RemoveAt(byte[] n, int p, int next)
    {
        int used = Used(n);
        Buffer.BlockCopy(n, next, n, p, used - next);
        SetUsed(n, used - (next - p));
        SetCount(n, Count(n) - 1);
    }

    /// <summary>Removes the bytes [from, to) holding <paramref name="entries"/> elements.</summary>
    public static void RemoveRange(byte[] n, int from, int to, int entries)
    {
        int used = Used(n);
        Buffer.BlockCopy(n, to, n, from, used - to);
        SetUsed(n, used - (to - from));
        SetCount(n, Count(n) - entries);
    }

    /// <summary>Byte offset of the element at <paramref name="index"/> (0-based, must be in range).</summary>
    public static int OffsetOf(byte[] n, int index)
    {
        int count = Count(n);
        if (index <= count / 2)
        {
            int p = Header;
            for (int i = 0; i < index; i++) Read(n, p, out p);
            return p;
        }
        int e = Used(n);
        for (int i = count; i > index; i--) e = Prev(n, e);
        return e;
    }

    /// <summary>Shrinks a node with much slack (after pops) so idle lists do not hold memory.</summary>
    public static byte[] Compact(byte[] n)
    {
        int used = Used(n);
        if (n.Length <= 64 || n.Length <= used * 2) return n;
        var nb = new byte[used + used / 4];
        Buffer.BlockCopy(n, 0, nb, 0, used);
        return nb;
    }
}
