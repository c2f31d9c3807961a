using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Basalt.Protocol;

/// <summary>Number parsing and formatting with Redis's exact rules (string2ll, %.17g, strtod).</summary>
public static class RespNumbers
{
    /// <summary>
    /// Strict signed 64-bit parse as Redis's string2ll: optional '-', digits, no '+', no spaces,
    /// no leading zeros (except "0"), no overflow.
    /// </summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 20) return false;
        if (s.Length == 1 && s[0] == '0') return true;
        int i = 0;
        bool neg = false;
        if (s[0] == '-') { neg = true; i = 1; if (s.Length == 1) return false; }
        if (s[i] < '1' || s[i] > '9') return false;
        ulong v = 0;
        for (; i < s.Length; i++)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9) return false;
            if (v > (ulong.MaxValue - d) / 10) return false;
            v = v * 10 + d;
        }
        if (neg)
        {
            if (v > (ulong)long.MaxValue + 1) return false;
            value = (long)(0 - v);
        }
        else
        {
            if (v > long.MaxValue) return false;
            value = (long)v;
        }
        return true;
    }

    public static bool TryParseInt64(string s, out long value) => TryParseInt64(Encoding.ASCII.GetBytes(s), out value);

    /// <summary>Parses a double the way Redis accepts scores and float increments: strtod syntax, inf allowed, NaN and spaces refused.</summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 256) return false;
        if (s[0] == ' ' || s[^1] == ' ' || s[0] == '\t' || s[^1] == '\t') return false;
        Span<char> chars = stackalloc char[s.Length];
        for (int i = 0; i < s.Length; i++) chars[i] = (char)s[i];
        ReadOnlySpan<char> c = chars;
        if (EqualsIgnoreCase(c, "inf") || EqualsIgnoreCase(c, "+inf") || EqualsIgnoreCase(c, "infinity") || EqualsIgnoreCase(c, "+infinity")) { value = double.PositiveInfinity; return true; }
        if (EqualsIgnoreCase(c, "-inf") || EqualsIgnoreCase(c, "-infinity")) { value = double.NegativeInfinity; return true; }
        // strtod accepts hex floats too, rarely used; decimal syntax only here.
        foreach (var ch in c)
            if (!(ch >= '0' && ch <= '9') && ch != '.' && ch != 'e' && ch != 'E' && ch != '-' && ch != '+') return false;
        if (!double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return false;
        return !double.IsNaN(value);
    }

    private static bool EqualsIgnoreCase(ReadOnlySpan<char> a, string b) => a.Equals(b, StringComparison.OrdinalIgnoreCase);

    /// <summary>Formats like C's printf("%.17g"), which Redis 7.0 uses for scores and RESP3 doubles; inf/-inf/nan spelled as Redis.</summary>
    public static int FormatDouble(double value, Span<byte> dest)
    {
        string s = FormatDouble(value);
        return Encoding.ASCII.GetBytes(s, dest);
    }

    public static string FormatDouble(double value)
    {
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";
        if (double.IsNaN(value)) return "nan";
        return FormatG(value, 17);
    }

    /// <summary>printf %.{precision}g semantics.</summary>
    public static string FormatG(double value, int precision)
    {
        if (value == 0) return double.IsNegative(value) ? "-0" : "0";
        // "E" gives d.dddE+xxx with precision-1 fractional digits, correctly rounded.
        string e = value.ToString("E" + (precision - 1), CultureInfo.InvariantCulture);
        int ePos = e.IndexOf('E');
        int exp = int.Parse(e.AsSpan(ePos + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string mantissa = e[..ePos];
        bool neg = mantissa[0] == '-';
        string digits = mantissa.Replace("-", "").Replace(".", "");
        var sb = new StringBuilder(32);
        if (neg) sb.Append('-');
        if (exp < -4 || exp >= precision)
        {
            sb.Append(digits[0]);
            string frac = digits[1..].TrimEnd('0');
            if (frac.Length > 0) sb.Append('.').Append(frac);
            sb.Append('e').Append(exp < 0 ? '-' : '+');
            int ax = Math.Abs(exp);
            if (ax < 10) sb.Append('0');
            sb.Append(ax);
        }
        else if (exp >= 0)
        {
            string intPart = digits[..(exp + 1)];
            string frac = digits[(exp + 1)..].TrimEnd('0');
            sb.Append(intPart);
            if (frac.Length > 0) sb.Append('.').Append(frac);
        }
        else
        {
            sb.Append("0.");
            sb.Append('0', -exp - 1);
            sb.Append(digits.TrimEnd('0'));
        }
        return sb.ToString();
    }

    public static int FormatInt64(long value, Span<byte> dest)
    {
        Utf8Formatter.TryFormat(value, dest, out int n);
        return n;
    }

    public static byte[] Int64ToBytes(long value)
    {
        Span<byte> tmp = stackalloc byte[24];
        int n = FormatInt64(value, tmp);
        return tmp[..n].ToArray();
    }
}
