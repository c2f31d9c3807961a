using System.Globalization;

namespace Basalt.Server.Types;

/// <summary>A score interval of ZRANGEBYSCORE/ZCOUNT: '(' makes a bound exclusive.</summary>
public readonly struct ZScoreRange
{
    public readonly double Min, Max;
    public readonly bool MinEx, MaxEx;

    public ZScoreRange(double min, bool minEx, double max, bool maxEx) { Min = min; MinEx = minEx; Max = max; MaxEx = maxEx; }

    public bool IsEmpty => Min > Max || (Min == Max && (MinEx || MaxEx));
    public bool GteMin(double v) => MinEx ? v > Min : v >= Min;
    public bool LteMax(double v) => MaxEx ? v < Max : v <= Max;

    /// <summary>Parses min and max as Redis does (strtod, so leading spaces, hex and "" = 0 are accepted; NaN is not).</summary>
    public static bool TryParse(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out ZScoreRange range)
    {
        range = default;
        if (!TryParseBound(min, out double a, out bool ax) || !TryParseBound(max, out double b, out bool bx)) return false;
        range = new ZScoreRange(a, ax, b, bx);
        return true;
    }

    private static bool TryParseBound(ReadOnlySpan<byte> s, out double v, out bool exclusive)
    {
        exclusive = s.Length > 0 && s[0] == (byte)'(';
        if (exclusive) s = s[1..];
        return ZNumbers.TryStrtod(s, allowLeadingSpace: true, strict: false, out v);
    }
}

/// <summary>A lexicographic interval of ZRANGEBYLEX: "[x" inclusive, "(x" exclusive, "-" and "+" the extremes.</summary>
public readonly struct ZLexRange
{
    // Kind: -1 = "-" (below everything), +1 = "+" (above everything), 0 = a string bound.
    public readonly byte[] Min, Max;
    public readonly int MinKind, MaxKind;
    public readonly bool MinEx, MaxEx;

    private ZLexRange(byte[] min, int minKind, bool minEx, byte[] max, int maxKind, bool maxEx)
    {
        Min = min; MinKind = minKind; MinEx = minEx; Max = max; MaxKind = maxKind; MaxEx = maxEx;
    }

    public static bool TryParse(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out ZLexRange range)
    {
        range = default;
        if (!TryParseBound(min, out var a, out int ak, out bool ax) || !TryParseBound(max, out var b, out int bk, out bool bx)) return false;
        range = new ZLexRange(a, ak, ax, b, bk, bx);
        return true;
    }

    private static bool TryParseBound(ReadOnlySpan<byte> s, out byte[] value, out int kind, out bool exclusive)
    {
        value = []; kind = 0; exclusive = false;
        if (s.Length == 0) return false;
        switch (s[0])
        {
            case (byte)'+': if (s.Length != 1) return false; kind = 1; return true;
            case (byte)'-': if (s.Length != 1) return false; kind = -1; return true;
            case (byte)'(': exclusive = true; value = s[1..].ToArray(); return true;
            case (byte)'[': value = s[1..].ToArray(); return true;
            default: return false;
        }
    }

    private static int CompareBounds(int ak, byte[] a, int bk, byte[] b)
    {
        if (ak != 0 || bk != 0) return ak == bk ? 0 : ak < bk ? -1 : 1;
        return a.AsSpan().SequenceCompareTo(b);
    }

    public bool IsEmpty
    {
        get
        {
            int c = CompareBounds(MinKind, Min, MaxKind, Max);
            return c > 0 || (c == 0 && (MinEx || MaxEx));
        }
    }

    public bool GteMin(ReadOnlySpan<byte> m)
    {
        if (MinKind != 0) return MinKind < 0;
        int c = m.SequenceCompareTo(Min);
        return MinEx ? c > 0 : c >= 0;
    }

    public bool LteMax(ReadOnlySpan<byte> m)
    {
        if (MaxKind != 0) return MaxKind > 0;
        int c = m.SequenceCompareTo(Max);
        return MaxEx ? c < 0 : c <= 0;
    }
}

/// <summary>strtod as Redis uses it for scores, increments, weights and ranges.</summary>
public static class ZNumbers
{
    /// <summary>ZADD/ZINCRBY/WEIGHTS parsing: no leading space, no overflow or underflow to zero, no NaN, whole string.</summary>
    public static bool TryParseScore(ReadOnlySpan<byte> s, out double v) => TryStrtod(s, allowLeadingSpace: false, strict: true, out v);

    /// <summary>
    /// Parses the whole of <paramref name="s"/> with C strtod syntax (decimal, hex, inf/infinity, nan refused).
    /// Strict mode refuses the empty string and out-of-range values (ERANGE), as getDoubleFromObject does;
    /// otherwise "" is 0 and overflow gives ±inf, as the range parser's bare strtod does.
    /// </summary>
    public static bool TryStrtod(ReadOnlySpan<byte> s, bool allowLeadingSpace, bool strict, out double v)
    {
        v = 0;
        int i = 0;
        if (allowLeadingSpace) while (i < s.Length && IsSpace(s[i])) i++;
        else if (s.Length > 0 && IsSpace(s[0])) return false;
        var body = s[i..];
        if (body.Length == 0) return !strict;
        if (body.Length > 400) return false;
        bool neg = false;
        var t = body;
        if (t[0] == (byte)'+' || t[0] == (byte)'-') { neg = t[0] == (byte)'-'; t = t[1..]; }
        if (t.Length is > 0 and <= 15)
        {
            // Plain integers below 10^15 convert exactly (< 2^53): the common score, without the general parser.
            long acc = 0;
            int k = 0;
            for (; k < t.Length; k++)
            {
                uint d = (uint)(t[k] - '0');
                if (d > 9) break;
                acc = acc * 10 + d;
            }
            if (k == t.Length) { v = neg ? -(double)acc : acc; return true; }
        }
        if (EqIgnoreCase(t, "inf") || EqIgnoreCase(t, "infinity")) { v = neg ? double.NegativeInfinity : double.PositiveInfinity; return true; }
        if (t.Length >= 3 && EqIgnoreCase(t[..3], "nan")) return false;
        if (t.Length > 2 && t[0] == (byte)'0' && (t[1] | 0x20) == (byte)'x') return TryHex(t[2..], neg, strict, out v);

        // Decimal: digits [. digits] [e [sign] digits], at least one mantissa digit, nothing after.
        int p = 0, digits = 0;
        bool nonZero = false;
        while (p < t.Length && IsDigit(t[p])) { nonZero |= t[p] != '0'; p++; digits++; }
        if (p < t.Length && t[p] == (byte)'.') { p++; while (p < t.Length && IsDigit(t[p])) { nonZero |= t[p] != '0'; p++; digits++; } }
        if (digits == 0) return false;
        if (p < t.Length && (t[p] | 0x20) == (byte)'e')
        {
            int q = p + 1;
            if (q < t.Length && (t[q] == (byte)'+' || t[q] == (byte)'-')) q++;
            int ed = 0;
            while (q < t.Length && IsDigit(t[q])) { q++; ed++; }
            if (ed == 0) return false; // strtod would stop before 'e': trailing garbage
            p = q;
        }
        if (p != t.Length) return false;
        Span<char> chars = stackalloc char[t.Length];
        for (int k = 0; k < t.Length; k++) chars[k] = (char)t[k];
        if (!double.TryParse(chars, NumberStyles.Float, CultureInfo.InvariantCulture, out v)) return false;
        if (neg) v = -v;
        if (strict && (double.IsInfinity(v) || (v == 0 && nonZero))) return false;
        return true;
    }

    private static bool TryHex(ReadOnlySpan<byte> t, bool neg, bool strict, out double v)
    {
        v = 0;
        double m = 0;
        int p = 0, digits = 0, exp = 0;
        bool frac = false;
        for (; p < t.Length; p++)
        {
            int d = HexVal(t[p]);
            if (d >= 0) { m = m * 16 + d; digits++; if (frac) exp -= 4; continue; }
            if (t[p] == (byte)'.' && !frac) { frac = true; continue; }
            break;
        }
        if (digits == 0) return false;
        if (p < t.Length && (t[p] | 0x20) == (byte)'p')
        {
            int q = p + 1, sign = 1, e = 0, ed = 0;
            if (q < t.Length && (t[q] == (byte)'+' || t[q] == (byte)'-')) { sign = t[q] == (byte)'-' ? -1 : 1; q++; }
            while (q < t.Length && IsDigit(t[q])) { if (e < 100000) e = e * 10 + (t[q] - '0'); q++; ed++; }
            if (ed == 0) return false;
            exp += sign * e;
            p = q;
        }
        if (p != t.Length) return false;
        v = Math.ScaleB(m, exp);
        if (neg) v = -v;
        if (strict && (double.IsInfinity(v) || (v == 0 && m != 0))) return false;
        return true;
    }

    private static int HexVal(byte b) => b >= '0' && b <= '9' ? b - '0' : (b | 0x20) >= 'a' && (b | 0x20) <= 'f' ? (b | 0x20) - 'a' + 10 : -1;
    private static bool IsDigit(byte b) => b >= '0' && b <= '9';
    private static bool IsSpace(byte b) => b == ' ' || (b >= 9 && b <= 13);

    private static bool EqIgnoreCase(ReadOnlySpan<byte> a, string b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++) if ((a[i] | 0x20) != b[i]) return false;
        return true;
    }
}
