using System.Buffers.Binary;
using System.Numerics;

namespace Basalt.Server.Types;

/// <summary>
/// HyperLogLog in Redis 7.0's byte layout, stored as a plain string value.
/// Header (16 bytes): "HYLL", encoding (0 dense, 1 sparse), 3 unused bytes, 8-byte little-endian cached
/// cardinality whose top bit (byte 15, bit 7) marks it stale. Dense: 16384 6-bit registers packed LSB first.
/// Sparse: run-length opcodes ZERO (00xxxxxx, 1..64 zeros), XZERO (01xxxxxx yyyyyyyy, 1..16384 zeros) and
/// VAL (1vvvvvxx, value 1..32 repeated 1..4 times).
/// </summary>
public static partial class HyperLogLog
{
    public const int P = 14;
    public const int Q = 64 - P;
    public const int Registers = 1 << P;
    public const int RegisterMask = Registers - 1;
    public const int HeaderSize = 16;
    public const int DenseSize = HeaderSize + (Registers * 6 + 7) / 8;
    public const byte EncDense = 0;
    public const byte EncSparse = 1;
    public const int SparseValMaxValue = 32;
    public const int SparseValMaxLen = 4;
    public const int SparseZeroMaxLen = 64;
    public const int SparseXZeroMaxLen = 16384;
    private const ulong Seed = 0xadc83b19UL;

    /// <summary>An empty sparse HLL: the header then one XZERO covering every register.</summary>
    public static byte[] CreateSparse()
    {
        var v = new byte[HeaderSize + 2];
        v[0] = (byte)'H'; v[1] = (byte)'Y'; v[2] = (byte)'L'; v[3] = (byte)'L';
        v[4] = EncSparse;
        SetXZero(v, HeaderSize, Registers);
        return v;
    }

    /// <summary>The checks Redis makes before treating a string as an HLL (magic, encoding, dense size).</summary>
    public static bool IsValid(ReadOnlySpan<byte> v)
    {
        if (v.Length < HeaderSize) return false;
        if (v[0] != 'H' || v[1] != 'Y' || v[2] != 'L' || v[3] != 'L') return false;
        if (v[4] > EncSparse) return false;
        return v[4] != EncDense || v.Length == DenseSize;
    }

    public static bool IsDense(ReadOnlySpan<byte> v) => v[4] == EncDense;

    public static bool CacheValid(ReadOnlySpan<byte> v) => (v[15] & 0x80) == 0;

    public static void InvalidateCache(Span<byte> v) => v[15] |= 0x80;

    public static ulong ReadCache(ReadOnlySpan<byte> v) => BinaryPrimitives.ReadUInt64LittleEndian(v[8..]);

    public static void WriteCache(Span<byte> v, ulong card) => BinaryPrimitives.WriteUInt64LittleEndian(v[8..], card);

    /// <summary>MurmurHash64A (little-endian block reads, as Redis does on every platform).</summary>
    public static ulong Murmur64A(ReadOnlySpan<byte> key, ulong seed)
    {
        const ulong m = 0xc6a4a7935bd1e995UL;
        const int r = 47;
        ulong h = seed ^ ((ulong)key.Length * m);
        int blocks = key.Length >> 3;
        for (int i = 0; i < blocks; i++)
        {
            ulong k = BinaryPrimitives.ReadUInt64LittleEndian(key.Slice(i << 3, 8));
            k *= m;
            k ^= k >> r;
            k *= m;
            h ^= k;
            h *= m;
        }
        var tail = key[(blocks << 3)..];
        if (tail.Length > 0)
        {
            for (int i = tail.Length - 1; i >= 0; i--) h ^= (ulong)tail[i] << (8 * i);
            h *= m;
        }
        h ^= h >> r;
        h *= m;
        h ^= h >> r;
        return h;
    }

    /// <summary>Register index (low 14 bits of the hash) and run length: position of the first 1 in the rest, plus one.</summary>
    public static int PatternLength(ReadOnlySpan<byte> element, out int index)
    {
        ulong hash = Murmur64A(element, Seed);
        index = (int)(hash & RegisterMask);
        hash >>= P;
        hash |= 1UL << Q; // sentinel: the count never exceeds Q + 1
        return BitOperations.TrailingZeroCount(hash) + 1;
    }

    // ---- dense registers (offsets relative to the register area) ----

    public static int GetDense(ReadOnlySpan<byte> regs, int index)
    {
        int bit = index * 6;
        int b = bit >> 3, shift = bit & 7;
        int lo = regs[b] >> shift;
        int hi = b + 1 < regs.Length ? regs[b + 1] << (8 - shift) : 0;
        return (lo | hi) & 63;
    }

    public static void SetDense(Span<byte> regs, int index, int value)
    {
        int bit = index * 6;
        int b = bit >> 3, shift = bit & 7;
        regs[b] = (byte)((regs[b] & ~(63 << shift)) | (value << shift));
        if (b + 1 < regs.Length)
        {
            int rshift = 8 - shift;
            regs[b + 1] = (byte)((regs[b + 1] & ~(63 >> rshift)) | (value >> rshift));
        }
    }

    /// <summary>Raises register <paramref name="index"/> to <paramref name="count"/>; true when that changed it.</summary>
    public static bool DenseRaise(Span<byte> regs, int index, int count)
    {
        if (count <= GetDense(regs, index)) return false;
        SetDense(regs, index, count);
        return true;
    }

    // ---- sparse opcodes ----

    public static bool IsZero(byte op) => (op & 0xc0) == 0;
    public static bool IsXZero(byte op) => (op & 0xc0) == 0x40;
    public static bool IsVal(byte op) => (op & 0x80) != 0;
    public static int ZeroLen(byte op) => (op & 0x3f) + 1;
    public static int XZeroLen(byte op, byte next) => (((op & 0x3f) << 8) | next) + 1;
    public static int ValValue(byte op) => ((op >> 2) & 0x1f) + 1;
    public static int ValLen(byte op) => (op & 0x3) + 1;
    public static byte ValOp(int value, int len) => (byte)(0x80 | ((value - 1) << 2) | (len - 1));
    public static byte ZeroOp(int len) => (byte)(len - 1);

    public static void SetXZero(Span<byte> p, int at, int len)
    {
        int l = len - 1;
        p[at] = (byte)((l >> 8) | 0x40);
        p[at + 1] = (byte)(l & 0xff);
    }

    /// <summary>Byte at <paramref name="i"/>, or 0 past the end (Redis strings end with a NUL that truncated opcodes read).</summary>
    private static byte At(ReadOnlySpan<byte> s, int i) => i < s.Length ? s[i] : (byte)0;

    /// <summary>
    /// Raises 8-bit registers to a sparse value's registers. False when the opcodes do not cover exactly 16384
    /// registers; an opcode running past the last register is rejected at once (the reference server carries
    /// the CVE-2025-32023 bounds checks, so extra opcodes after a complete value are corrupt too).
    /// </summary>
    public static bool SparseToRaw(ReadOnlySpan<byte> v, Span<byte> max)
    {
        int i = 0, p = HeaderSize;
        while (p < v.Length)
        {
            byte op = v[p];
            int run = IsZero(op) ? ZeroLen(op) : IsXZero(op) ? XZeroLen(op, At(v, p + 1)) : ValLen(op);
            if (run + i > Registers) return false; // any opcode past the last register is corrupt
            if (IsVal(op))
            {
                int val = ValValue(op);
                for (int e = i + run; i < e; i++) if (val > max[i]) max[i] = (byte)val;
            }
            else i += run;
            p += IsXZero(op) ? 2 : 1;
        }
        return i == Registers;
    }

    /// <summary>Merges an HLL value into 8-bit registers (max of each); false for a corrupted sparse value.</summary>
    public static bool MergeInto(ReadOnlySpan<byte> v, Span<byte> max)
    {
        if (!IsDense(v)) return SparseToRaw(v, max);
        var regs = v[HeaderSize..];
        for (int g = 0, i = 0; g < regs.Length; g += 3, i += 4)
        {
            int b0 = regs[g], b1 = regs[g + 1], b2 = regs[g + 2];
            Raise(max, i, b0 & 63);
            Raise(max, i + 1, (b0 >> 6) | ((b1 & 15) << 2));
            Raise(max, i + 2, (b1 >> 4) | ((b2 & 3) << 4));
            Raise(max, i + 3, b2 >> 2);
        }
        return true;

        static void Raise(Span<byte> max, int i, int val)
        {
            if (val > max[i]) max[i] = (byte)val;
        }
    }

    /// <summary>A dense copy of a sparse value (header copied, cache included), or null when the sparse data is corrupted.</summary>
    public static byte[]? SparseToDense(ReadOnlySpan<byte> v)
    {
        var dense = new byte[DenseSize];
        v[..HeaderSize].CopyTo(dense);
        dense[4] = EncDense;
        var regs = dense.AsSpan(HeaderSize);
        int i = 0, p = HeaderSize;
        while (p < v.Length)
        {
            byte op = v[p];
            int run = IsZero(op) ? ZeroLen(op) : IsXZero(op) ? XZeroLen(op, At(v, p + 1)) : ValLen(op);
            if (run + i > Registers) return null;
            if (IsVal(op))
            {
                int val = ValValue(op);
                for (int e = i + run; i < e; i++) SetDense(regs, i, val);
            }
            else i += run;
            p += IsXZero(op) ? 2 : 1;
        }
        return i == Registers ? dense : null;
    }
}
