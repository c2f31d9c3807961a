using System.Globalization;
using System.Numerics;

namespace Basalt.Server.Types;

/// <summary>
/// Emulation of the x86-64 C <c>long double</c> (80-bit extended: 64-bit significand, 15-bit exponent) that
/// Redis uses for INCRBYFLOAT: strtold-compatible parsing, correctly rounded addition and printf("%.17Lf")
/// output with trailing zeros removed. Values are kept exactly as significand * 2^exponent in BigIntegers;
/// this is not a hot path, and exactness is what makes replies byte-identical (0.1 + 0.2 = "0.3").
/// </summary>
public readonly struct LongDouble
{
    private const int Precision = 64;
    private const long MinExp = -16445;   // exponent of the smallest subnormal
    private const long MaxTopExp = 16383; // highest power of two below the largest finite value
    private const int MaxChars = 5 * 1024; // Redis refuses longer inputs

    private readonly BigInteger _mant; // >= 0; value = ±_mant * 2^_exp
    private readonly long _exp;
    private readonly bool _neg;
    private readonly bool _special;    // infinity or NaN

    private LongDouble(bool neg, BigInteger mant, long exp, bool special = false)
    {
        _neg = neg;
        _mant = mant;
        _exp = exp;
        _special = special;
    }

    public static LongDouble Zero => default;

    public bool IsInfinityOrNaN => _special;

    private static LongDouble Infinity(bool neg) => new(neg, BigInteger.Zero, 0, special: true);

    /// <summary>Parses like Redis's string2ld: strtold syntax (decimal, hex, inf), no leading space, whole input, no NaN, no overflow/underflow.</summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out LongDouble value)
    {
        value = default;
        if (s.Length == 0 || s.Length >= MaxChars) return false;
        if (s.Contains((byte)0)) return false; // the C parser would stop before consuming everything
        if (s[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') return false;

        int p = 0;
        bool neg = false;
        if (s[p] is (byte)'+' or (byte)'-') { neg = s[p] == '-'; p++; }
        var rest = s[p..];
        if (EqualsIgnoreCase(rest, "inf"u8) || EqualsIgnoreCase(rest, "infinity"u8)) { value = Infinity(neg); return true; }
        if (rest.Length >= 2 && rest[0] == '0' && (rest[1] | 0x20) == 'x') return TryParseHex(neg, rest[2..], out value);
        return TryParseDecimal(neg, rest, out value);
    }

    private static bool EqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> lower)
    {
        if (a.Length != lower.Length) return false;
        for (int i = 0; i < a.Length; i++) if ((a[i] | 0x20) != lower[i]) return false;
        return true;
    }

    private static bool TryParseDecimal(bool neg, ReadOnlySpan<byte> s, out LongDouble value)
    {
        value = default;
        var digits = new System.Text.StringBuilder(s.Length);
        int p = 0, fracDigits = 0, mantDigits = 0;
        bool dot = false;
        for (; p < s.Length; p++)
        {
            byte c = s[p];
            if (c >= '0' && c <= '9')
            {
                mantDigits++;
                if (dot) fracDigits++;
                if (digits.Length > 0 || c != '0') digits.Append((char)c); // leading zeros dropped
            }
            else if (c == '.' && !dot) dot = true;
            else break;
        }
        if (mantDigits == 0) return false;
        long exp10 = 0;
        if (p < s.Length)
        {
            if ((s[p] | 0x20) != 'e' || !TryParseExponent(s[(p + 1)..], out exp10)) return false;
        }
        if (digits.Length == 0) { value = new LongDouble(neg, BigInteger.Zero, 0); return true; }
        exp10 -= fracDigits;
        long magnitude = digits.Length + exp10; // value is below 10^magnitude
        if (magnitude > 4940) return false;      // overflows to HUGE_VAL: refused
        if (magnitude < -4960) return false;     // underflows to zero: refused
        var n = BigInteger.Parse(digits.ToString(), CultureInfo.InvariantCulture);
        value = exp10 >= 0
            ? Round(neg, n * BigInteger.Pow(10, (int)exp10), 0, false)
            : FromRatio(neg, n, BigInteger.Pow(10, (int)-exp10));
        return !value._special && !value._mant.IsZero;
    }

    private static bool TryParseHex(bool neg, ReadOnlySpan<byte> s, out LongDouble value)
    {
        value = default;
        var n = BigInteger.Zero;
        int p = 0, fracDigits = 0, mantDigits = 0;
        bool dot = false;
        for (; p < s.Length; p++)
        {
            int d = HexValue(s[p]);
            if (d >= 0)
            {
                n = (n << 4) + d;
                mantDigits++;
                if (dot) fracDigits++;
            }
            else if (s[p] == '.' && !dot) dot = true;
            else break;
        }
        if (mantDigits == 0) return false;
        long exp2 = 0;
        if (p < s.Length)
        {
            if ((s[p] | 0x20) != 'p' || !TryParseExponent(s[(p + 1)..], out exp2)) return false;
        }
        if (n.IsZero) { value = new LongDouble(neg, BigInteger.Zero, 0); return true; }
        value = Round(neg, n, exp2 - 4L * fracDigits, false);
        return !value._special && !value._mant.IsZero;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>[+-]digits, saturating far beyond any representable exponent.</summary>
    private static bool TryParseExponent(ReadOnlySpan<byte> s, out long exp)
    {
        exp = 0;
        int p = 0;
        bool neg = false;
        if (p < s.Length && s[p] is (byte)'+' or (byte)'-') { neg = s[p] == '-'; p++; }
        if (p == s.Length) return false;
        for (; p < s.Length; p++)
        {
            if (s[p] < '0' || s[p] > '9') return false;
            if (exp < 10_000_000) exp = exp * 10 + (s[p] - '0');
        }
        if (neg) exp = -exp;
        return true;
    }

    /// <summary>The long double nearest to num/den (both positive).</summary>
    private static LongDouble FromRatio(bool neg, BigInteger num, BigInteger den)
    {
        long k = Precision + 3 - (long)(num.GetBitLength() - den.GetBitLength());
        BigInteger q, r;
        if (k >= 0) q = BigInteger.DivRem(num << (int)k, den, out r);
        else q = BigInteger.DivRem(num, den << (int)-k, out r);
        return Round(neg, q, -k, !r.IsZero);
    }

    /// <summary>Rounds ±m * 2^e (plus a nonzero tail below m's last bit when <paramref name="sticky"/>) to nearest, ties to even.</summary>
    private static LongDouble Round(bool neg, BigInteger m, long e, bool sticky)
    {
        long bits = (long)m.GetBitLength();
        long shift = bits - Precision;
        if (e + shift < MinExp) shift = MinExp - e; // subnormal range keeps fewer bits
        if (shift > 0)
        {
            var q = m >> (int)Math.Min(shift, int.MaxValue);
            var rem = m - (q << (int)shift);
            int cmp = rem.CompareTo(BigInteger.One << (int)(shift - 1));
            if (cmp > 0 || (cmp == 0 && (sticky || !q.IsEven))) q += 1;
            e += shift;
            if (q.GetBitLength() > Precision) { q >>= 1; e++; }
            m = q;
        }
        if (m.IsZero) return new LongDouble(neg, BigInteger.Zero, 0);
        if (e + (long)m.GetBitLength() - 1 > MaxTopExp) return Infinity(neg);
        return new LongDouble(neg, m, e);
    }

    /// <summary>a + b rounded once, as the FPU does.</summary>
    public static LongDouble Add(LongDouble a, LongDouble b)
    {
        if (a._special || b._special) return Infinity(false); // inf or NaN: callers only need to know that
        if (a._mant.IsZero) return b;
        if (b._mant.IsZero) return a;
        long e = Math.Min(a._exp, b._exp);
        var x = a._mant << (int)(a._exp - e);
        var y = b._mant << (int)(b._exp - e);
        var sum = (a._neg ? -x : x) + (b._neg ? -y : y);
        if (sum.IsZero) return Zero;
        return Round(sum.Sign < 0, BigInteger.Abs(sum), e, false);
    }

    /// <summary>printf("%.17Lf") with trailing zeros (and a bare point) removed and "-0" shown as "0", as Redis replies.</summary>
    public string ToHumanString()
    {
        if (_special) return _neg ? "-inf" : "inf";
        if (_mant.IsZero) return "0";
        string s;
        if (_exp >= 0)
        {
            s = (_mant << (int)_exp).ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            var pow17 = BigInteger.Pow(10, 17);
            var num = _mant * pow17;
            int sh = (int)-_exp;
            var q = num >> sh;
            var rem = num - (q << sh);
            int cmp = rem.CompareTo(BigInteger.One << (sh - 1));
            if (cmp > 0 || (cmp == 0 && !q.IsEven)) q += 1;
            var intPart = BigInteger.DivRem(q, pow17, out var frac);
            string fs = frac.ToString(CultureInfo.InvariantCulture).PadLeft(17, '0').TrimEnd('0');
            s = intPart.ToString(CultureInfo.InvariantCulture);
            if (fs.Length > 0) s += "." + fs;
        }
        return _neg && s != "0" ? "-" + s : s;
    }

    public override string ToString() => ToHumanString();
}
