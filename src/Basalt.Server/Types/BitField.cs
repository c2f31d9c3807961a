namespace Basalt.Server.Types;

public enum BitFieldOverflow { Wrap, Sat, Fail }

/// <summary>
/// Integer fields of 1..64 bits at arbitrary bit offsets in a byte string, most significant bit first
/// (bit 0 is the top bit of byte 0, as SETBIT/GETBIT number them), and BITFIELD's overflow rules.
/// Reads past the end of the span see zeros.
/// </summary>
public static class BitField
{
    public static ulong GetUnsigned(ReadOnlySpan<byte> s, long offset, int bits)
    {
        ulong v = 0;
        for (int i = 0; i < bits; i++)
        {
            long bit = offset + i;
            long index = bit >> 3;
            int b = index < s.Length ? (s[(int)index] >> (7 - (int)(bit & 7))) & 1 : 0;
            v = (v << 1) | (uint)b;
        }
        return v;
    }

    public static long GetSigned(ReadOnlySpan<byte> s, long offset, int bits)
    {
        ulong v = GetUnsigned(s, offset, bits);
        if (bits < 64 && (v & (1UL << (bits - 1))) != 0) v |= ulong.MaxValue << bits; // sign-extend
        return (long)v;
    }

    /// <summary>Writes the low <paramref name="bits"/> bits of <paramref name="value"/>; the span must be long enough.</summary>
    public static void Set(Span<byte> s, long offset, int bits, ulong value)
    {
        for (int i = 0; i < bits; i++)
        {
            bool on = ((value >> (bits - 1 - i)) & 1) != 0;
            long bit = offset + i;
            int index = (int)(bit >> 3);
            int mask = 1 << (7 - (int)(bit & 7));
            s[index] = (byte)(on ? s[index] | mask : s[index] & ~mask);
        }
    }

    /// <summary>
    /// Checks value + incr against a signed field of <paramref name="bits"/> bits. Returns 0 when it fits,
    /// 1 / -1 on overflow / underflow, with <paramref name="limit"/> the wrapped or saturated result.
    /// </summary>
    public static int CheckSignedOverflow(long value, long incr, int bits, BitFieldOverflow mode, out long limit)
    {
        long max = bits == 64 ? long.MaxValue : (1L << (bits - 1)) - 1;
        long min = -max - 1;
        long maxIncr = unchecked((long)((ulong)max - (ulong)value));
        long minIncr = unchecked(min - value);
        limit = 0;
        int result;
        if (value > max || (bits != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr)) result = 1;
        else if (value < min || (bits != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr)) result = -1;
        else return 0;

        if (mode == BitFieldOverflow.Sat) limit = result > 0 ? max : min;
        else if (mode == BitFieldOverflow.Wrap)
        {
            ulong c = unchecked((ulong)value + (ulong)incr);
            if (bits < 64)
            {
                ulong mask = ulong.MaxValue << bits;
                c = (c & (1UL << (bits - 1))) != 0 ? c | mask : c & ~mask;
            }
            limit = (long)c;
            return 1; // wrapping always reports 1, as Redis does
        }
        return result;
    }

    /// <summary>Like <see cref="CheckSignedOverflow"/> for unsigned fields (at most 63 bits).</summary>
    public static int CheckUnsignedOverflow(ulong value, long incr, int bits, BitFieldOverflow mode, out ulong limit)
    {
        ulong max = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        long maxIncr = unchecked((long)(max - value));
        long minIncr = unchecked(-(long)value);
        limit = 0;
        int result;
        if (value > max || (incr > 0 && incr > maxIncr)) result = 1;
        else if (incr < 0 && incr < minIncr) result = -1;
        else return 0;

        if (mode == BitFieldOverflow.Sat) limit = result > 0 ? max : 0;
        else if (mode == BitFieldOverflow.Wrap)
        {
            ulong mask = bits == 64 ? 0 : ulong.MaxValue << bits;
            limit = unchecked(value + (ulong)incr) & ~mask;
            return 1;
        }
        return result;
    }
}
