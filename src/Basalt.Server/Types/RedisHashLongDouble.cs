using System.Numerics;
using System.Text;

namespace Basalt.Server.Types;

/// <summary>
/// Software x87 80-bit long double (64-bit mantissa, round-half-even), exact via BigInteger, so that
/// HINCRBYFLOAT gives the digits Redis 7.0 prints with "%.17Lf" (e.g. 3000 + 10.6 = "3010.60000000000000009").
/// A value is sign * Mant * 2^Exp with Mant &lt; 2^64.
/// </summary>
public readonly struct LongDouble
{
    private const int MinExp = -16445;          // exponent of the smallest subnormal's unit
    private const int MaxBinaryExp = 16383;     // largest finite value is below 2^16384
    private const int MaxChars = 5 * 1024;      // Redis's MAX_LONG_DOUBLE_CHARS

    public readonly bool Negative;
    public readonly BigInteger Mant;
    public readonly int Exp;
    public readonly bool Infinite;

    private LongDouble(bool neg, BigInteger mant, int exp, bool inf)
    {
        Negative = neg; Mant = mant; Exp = exp; Infinite = inf;
    }

    public bool IsZero => !Infinite && Mant.IsZero;

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    /// <summary>Rounds the exact value num/den (both positive, den a positive integer) to a long double.</summary>
    private static LongDouble Round(bool neg, BigInteger num, BigInteger den)
    {
        if (num.IsZero) return new LongDouble(neg, BigInteger.Zero, 0, false);
        // floor(log2(num/den))
        long k = (long)num.GetBitLength() - (long)den.GetBitLength();
        if (k >= 0 ? num < (den << (int)k) : (num << (int)-k) < den) k--;
        if (k > MaxBinaryExp) return new LongDouble(neg, 0, 0, true);
        long e = Math.Max(k - 63, MinExp);
        // mant = round(num / den / 2^e)
        BigInteger n = num, d = den;
        if (e >= 0) d <<= (int)e; else n <<= (int)-e;
        var q = BigInteger.DivRem(n, d, out var r);
        var twice = r << 1;
        int cmp = twice.CompareTo(d);
        if (cmp > 0 || (cmp == 0 && !q.IsEven)) q += 1;
        if (q.GetBitLength() > 64) { q >>= 1; e++; }
        if (e + 63 > MaxBinaryExp) return new LongDouble(neg, 0, 0, true);
        return new LongDouble(neg, q, (int)e, false);
    }

    /// <summary>strtold as Redis's string2ld uses it: whole string, no leading space, no NaN, no overflow or underflow to zero.</summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out LongDouble value)
    {
        value = default;
        if (s.Length == 0 || s.Length >= MaxChars || IsSpace(s[0])) return false;
        int i = 0;
        bool neg = false;
        if (s[i] is (byte)'+' or (byte)'-') { neg = s[i] == '-'; i++; }
        var rest = s[i..];
        if (Ascii.EqualsIgnoreCase(rest, "inf"u8) || Ascii.EqualsIgnoreCase(rest, "infinity"u8))
        {
            value = new LongDouble(neg, 0, 0, true);
            return true;
        }
        bool hex = rest.Length >= 2 && rest[0] == '0' && (rest[1] | 0x20) == 'x';
        if (hex) i += 2;
        int radix = hex ? 16 : 10;
        BigInteger digits = BigInteger.Zero;
        int nDigits = 0, fracDigits = 0;
        bool seenDot = false;
        var chunk = new StringBuilder();
        for (; i < s.Length; i++)
        {
            byte c = s[i];
            int dv = c >= '0' && c <= '9' ? c - '0' : hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
            if (dv >= 0)
            {
                chunk.Append((char)c);
                nDigits++;
                if (seenDot) fracDigits++;
            }
            else if (c == '.' && !seenDot) seenDot = true;
            else break;
        }
        if (nDigits == 0) return false; // "0x" alone would parse as 0 with "x" left over: rejected either way
        digits = hex ? BigInteger.Parse("0" + chunk.ToString(), System.Globalization.NumberStyles.HexNumber) : BigInteger.Parse(chunk.ToString());
        long exp = 0;
        if (i < s.Length && ((s[i] | 0x20) == (hex ? 'p' : 'e')))
        {
            int j = i + 1;
            bool eneg = false;
            if (j < s.Length && s[j] is (byte)'+' or (byte)'-') { eneg = s[j] == '-'; j++; }
            int start = j;
            while (j < s.Length && s[j] >= '0' && s[j] <= '9')
            {
                if (exp < 1_000_000) exp = exp * 10 + (s[j] - '0');
                j++;
            }
            if (j > start) { i = j; if (eneg) exp = -exp; }
        }
        if (i != s.Length) return false;

        if (digits.IsZero) { value = new LongDouble(neg, 0, 0, false); return true; }
        if (hex)
        {
            long e2 = exp - 4L * fracDigits;
            long top = e2 + (long)digits.GetBitLength();
            if (top > MaxBinaryExp + 2) return false;
            if (top < MinExp - 2) return false;
            value = e2 >= 0 ? Round(neg, digits << (int)e2, BigInteger.One) : Round(neg, digits, BigInteger.One << (int)-e2);
        }
        else
        {
            long e10 = exp - fracDigits;
            long mag = e10 + nDigits; // value < 10^mag
            if (mag > 4940) return false;          // overflow (HUGE_VAL, ERANGE)
            if (mag < -4960) return false;         // underflow to zero (ERANGE)
            value = e10 >= 0 ? Round(neg, digits * BigInteger.Pow(10, (int)e10), BigInteger.One)
                             : Round(neg, digits, BigInteger.Pow(10, (int)-e10));
        }
        if (value.Infinite) return false;
        if (value.IsZero) return false;
        return true;
    }

    public static LongDouble Add(LongDouble a, LongDouble b)
    {
        if (a.Infinite || b.Infinite) return new LongDouble(a.Infinite ? a.Negative : b.Negative, 0, 0, true);
        if (a.IsZero && b.IsZero) return new LongDouble(a.Negative && b.Negative, 0, 0, false);
        if (a.IsZero) return b;
        if (b.IsZero) return a;
        int e = Math.Min(a.Exp, b.Exp);
        var sa = (a.Negative ? -a.Mant : a.Mant) << (a.Exp - e);
        var sb = (b.Negative ? -b.Mant : b.Mant) << (b.Exp - e);
        var sum = sa + sb;
        if (sum.IsZero) return new LongDouble(false, 0, 0, false);
        bool neg = sum.Sign < 0;
        var abs = BigInteger.Abs(sum);
        return e >= 0 ? Round(neg, abs << e, BigInteger.One) : Round(neg, abs, BigInteger.One << -e);
    }

    /// <summary>Redis's human form: "%.17Lf", trailing zeros and dot removed, "-0" shown as "0".</summary>
    public string ToHumanString()
    {
        if (Infinite) return Negative ? "-inf" : "inf";
        // round(|v| * 10^17) half-even, on the exact binary value
        BigInteger num = Mant * BigInteger.Pow(10, 17), den = BigInteger.One;
        if (Exp >= 0) num <<= Exp; else den <<= -Exp;
        var q = BigInteger.DivRem(num, den, out var r);
        int cmp = (r << 1).CompareTo(den);
        if (cmp > 0 || (cmp == 0 && !q.IsEven)) q += 1;
        string digits = q.ToString().PadLeft(18, '0');
        string text = digits[..^17] + "." + digits[^17..];
        text = text.TrimEnd('0');
        if (text.EndsWith('.')) text = text[..^1];
        if (Negative) text = "-" + text;
        return text == "-0" ? "0" : text;
    }
}
