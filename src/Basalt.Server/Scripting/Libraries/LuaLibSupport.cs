using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using KeraLua;

namespace Basalt.Server.Scripting.Libraries;

/// <summary>
/// Plumbing shared by the script libraries (cjson, cmsgpack, bit, struct).
/// A Lua error raised from a C# callback would longjmp over managed frames, which .NET on Unix does not
/// support. So the C# functions never raise: on failure they return (ErrorSentinel, message, level) and a
/// small Lua wrapper (chunk "=lualib") turns that into error(message, level). Level 2 reproduces luaL_error's
/// "chunk:line:" prefix of the calling script line; level 0 reproduces errors raised inside the Lua API
/// (e.g. "table index is nil"), which carry no position.
/// </summary>
internal static unsafe class LuaLibSupport
{
    /// <summary>Light userdata that no script can forge; marks an error return.</summary>
    internal static readonly IntPtr ErrorSentinel = (IntPtr)0x5EB1A5;

    /// <summary>Lua 5.1's LUAI_MAXCSTACK: the libraries' nesting limits come from lua_checkstack failing there.</summary>
    internal const int MaxCStack = 8000;

    public const string WrapperChunkName = "=lualib";

    // Builds wrapped functions: wrap(rawtable, target, firstarg) sets target[name] = wrapper for each raw function.
    private const string WrapperChunk = @"
local S, error = ...
local function chk(...)
  local a, msg, lvl = ...
  if a == S then error(msg, lvl) end
  return ...
end
local function wrap(raw, target, cfg)
  for name, f in next, raw do
    if cfg == nil then
      target[name] = function(...) return chk(f(...)) end
    else
      target[name] = function(...) return chk(f(cfg, ...)) end
    end
  end
  return target
end
return wrap";

    [DllImport("lua54", CallingConvention = CallingConvention.Cdecl)]
    private static extern byte* lua_tolstring(IntPtr L, int idx, out UIntPtr len);

    [DllImport("lua54", CallingConvention = CallingConvention.Cdecl)]
    private static extern IntPtr lua_pushlstring(IntPtr L, byte* s, UIntPtr len);

    /// <summary>Pushes the function wrap(raw, target, cfg) (see WrapperChunk).</summary>
    internal static void PushWrapBuilder(Lua state)
    {
        var status = state.LoadBuffer(Encoding.ASCII.GetBytes(WrapperChunk), WrapperChunkName);
        if (status != LuaStatus.OK) throw new InvalidOperationException("lualib wrapper chunk: " + state.ToString(-1, false));
        state.PushLightUserData(ErrorSentinel);
        state.GetGlobal("error");
        if (state.PCall(2, 1, 0) != LuaStatus.OK) throw new InvalidOperationException("lualib wrapper chunk: " + state.ToString(-1, false));
    }

    /// <summary>
    /// Creates the global table `name`, filled with wrapped versions of the raw functions (each gets cfgIndex's value
    /// as hidden first argument when cfgIndex != 0). Leaves the library table on the stack.
    /// </summary>
    internal static void CreateLibrary(Lua state, (string Name, LuaFunction Fn)[] functions, int cfgIndex = 0)
    {
        if (cfgIndex < 0) cfgIndex = state.AbsIndex(cfgIndex);
        PushWrapBuilder(state);
        state.CreateTable(0, functions.Length);
        foreach (var (n, f) in functions)
        {
            state.PushCFunction(f);
            state.SetField(-2, n);
        }
        state.CreateTable(0, functions.Length + 4);
        if (cfgIndex != 0) state.PushCopy(cfgIndex); else state.PushNil();
        if (state.PCall(3, 1, 0) != LuaStatus.OK) throw new InvalidOperationException("lualib wrap: " + state.ToString(-1, false));
    }

    internal static void SetString(Lua state, string field, string value)
    {
        state.PushString(value);
        state.SetField(-2, field);
    }

    // ---- error returns -------------------------------------------------------------------------------

    /// <summary>Like luaL_error: message prefixed by the calling script's position.</summary>
    internal static int Error(IntPtr L, string message) => ErrorAt(L, message, 2);

    /// <summary>Like an error raised inside the Lua API (no position prefix).</summary>
    internal static int RawError(IntPtr L, string message) => ErrorAt(L, message, 0);

    private static int ErrorAt(IntPtr L, string message, int level)
    {
        var state = Lua.FromIntPtr(L);
        state.CheckStack(3);
        state.PushLightUserData(ErrorSentinel);
        PushBytes(L, Encoding.UTF8.GetBytes(message));
        state.PushInteger(level);
        return 3;
    }

    /// <summary>luaL_argerror. The function name is the library field name (what a direct call reports).</summary>
    internal static int ArgError(IntPtr L, int arg, string function, string extra) =>
        Error(L, $"bad argument #{arg} to '{function}' ({extra})");

    /// <summary>luaL_typerror: "(number expected, got string)".</summary>
    internal static int TypeError(IntPtr L, int arg, int index, string function, string expected) =>
        ArgError(L, arg, function, $"{expected} expected, got {TypeName(L, index)}");

    internal static string TypeName(IntPtr L, int index)
    {
        var state = Lua.FromIntPtr(L);
        var t = state.Type(index);
        return t switch
        {
            LuaType.None => "no value",
            LuaType.Nil => "nil",
            LuaType.Boolean => "boolean",
            LuaType.LightUserData => "userdata",
            LuaType.Number => "number",
            LuaType.String => "string",
            LuaType.Table => "table",
            LuaType.Function => "function",
            LuaType.UserData => "userdata",
            LuaType.Thread => "thread",
            _ => "?",
        };
    }

    /// <summary>C (long)d on x86-64: out of range or NaN gives INT64_MIN (cvttsd2si).</summary>
    internal static long CLong(double d) =>
        double.IsNaN(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0 ? long.MinValue : (long)d;

    /// <summary>C (int)d on x86-64: out of range or NaN gives INT_MIN.</summary>
    internal static int CInt(double d) =>
        double.IsNaN(d) || d >= 2147483648.0 || d <= -2147483649.0 ? int.MinValue : (int)d;

    // ---- strings -------------------------------------------------------------------------------------

    /// <summary>Span over a string value on the stack (valid while the value stays there). Only for LuaType.String.</summary>
    internal static ReadOnlySpan<byte> StringSpan(IntPtr L, int index)
    {
        byte* p = lua_tolstring(L, index, out var len);
        return p == null ? default : new ReadOnlySpan<byte>(p, checked((int)(ulong)len));
    }

    internal static void PushBytes(IntPtr L, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            byte dummy = 0;
            lua_pushlstring(L, p == null ? &dummy : p, (UIntPtr)(uint)bytes.Length);
        }
    }

    /// <summary>
    /// luaL_checklstring as Lua 5.1 does it: strings as they are, numbers converted with "%.14g".
    /// Returns false for other types (caller reports the type error).
    /// </summary>
    internal static bool TryCheckBytes(IntPtr L, int index, out byte[] bytes)
    {
        var state = Lua.FromIntPtr(L);
        switch (state.Type(index))
        {
            case LuaType.String:
                bytes = StringSpan(L, index).ToArray();
                return true;
            case LuaType.Number:
                bytes = Encoding.ASCII.GetBytes(FormatG(state.ToNumber(index), 14));
                return true;
            default:
                bytes = Array.Empty<byte>();
                return false;
        }
    }

    // ---- numbers -------------------------------------------------------------------------------------

    /// <summary>
    /// Pushes a Lua 5.1 number (always a double there). Integral values that "%.14g" prints as integers become
    /// Lua 5.4 integers so tostring/concatenation give the same text as in Redis; others stay floats.
    /// </summary>
    internal static void PushNumber51(Lua state, double d)
    {
        if (d == Math.Floor(d) && Math.Abs(d) < 1e14 && !(d == 0 && double.IsNegative(d)))
            state.PushInteger((long)d);
        else
            state.PushNumber(d);
    }

    /// <summary>lua_tonumber with Lua 5.1 string coercion (including hex); false if not convertible.</summary>
    internal static bool TryToNumber(IntPtr L, int index, out double value)
    {
        var state = Lua.FromIntPtr(L);
        var t = state.Type(index);
        if (t == LuaType.Number) { value = state.ToNumber(index); return true; }
        if (t == LuaType.String)
        {
            var s = StringSpan(L, index);
            return TryParseLua51Number(s, out value);
        }
        value = 0;
        return false;
    }

    /// <summary>Lua 5.1 luaO_str2d: strtod (which also takes hex, inf, nan) with surrounding whitespace.</summary>
    internal static bool TryParseLua51Number(ReadOnlySpan<byte> s, out double value)
    {
        int i = 0;
        while (i < s.Length && IsSpace(s[i])) i++;
        int used = CStrtod(s[i..], out value);
        if (used == 0) return false;
        i += used;
        while (i < s.Length && IsSpace(s[i])) i++;
        return i == s.Length;
    }

    private static bool IsSpace(byte c) => c == ' ' || (c >= 9 && c <= 13);

    /// <summary>
    /// C strtod on a byte span (no leading-space skip): returns bytes consumed (0 = no conversion).
    /// Handles decimal, hexadecimal (0x..., with p exponent), inf/infinity and nan[(...)].
    /// </summary>
    internal static int CStrtod(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        int i = 0;
        bool neg = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-')) { neg = s[i] == '-'; i++; }
        if (MatchCI(s, i, "inf"))
        {
            i += 3;
            if (MatchCI(s, i, "inity")) i += 5;
            value = neg ? double.NegativeInfinity : double.PositiveInfinity;
            return i;
        }
        if (MatchCI(s, i, "nan"))
        {
            i += 3;
            if (i < s.Length && s[i] == '(')
            {
                int j = i + 1;
                while (j < s.Length && (char.IsAsciiLetterOrDigit((char)s[j]) || s[j] == '_')) j++;
                if (j < s.Length && s[j] == ')') i = j + 1;
            }
            value = neg ? -double.NaN : double.NaN;
            return i;
        }
        if (i + 1 < s.Length && s[i] == '0' && (s[i + 1] | 0x20) == 'x')
        {
            int h = ParseHexFloat(s, i + 2, out double hv);
            if (h > 0) { value = neg ? -hv : hv; return h; }
            value = neg ? -0.0 : 0.0; // "0x" without digits: only the "0" is consumed
            return i + 1;
        }
        int start = i;
        int digits = 0;
        while (i < s.Length && IsDigit(s[i])) { i++; digits++; }
        if (i < s.Length && s[i] == '.')
        {
            i++;
            while (i < s.Length && IsDigit(s[i])) { i++; digits++; }
        }
        if (digits == 0) return 0;
        if (i < s.Length && (s[i] | 0x20) == 'e')
        {
            int j = i + 1;
            if (j < s.Length && (s[j] == '+' || s[j] == '-')) j++;
            if (j < s.Length && IsDigit(s[j]))
            {
                while (j < s.Length && IsDigit(s[j])) j++;
                i = j;
            }
        }
        var text = Encoding.ASCII.GetString(s[start..i]);
        if (text.EndsWith('.')) text += "0";
        if (text.StartsWith('.')) text = "0" + text;
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v);
        value = neg ? -v : v;
        return i;
    }

    private static int ParseHexFloat(ReadOnlySpan<byte> s, int i, out double value)
    {
        value = 0;
        BigInteger mant = BigInteger.Zero;
        int exp = 0, digits = 0;
        while (i < s.Length && HexVal(s[i]) >= 0) { mant = mant * 16 + HexVal(s[i]); i++; digits++; }
        if (i < s.Length && s[i] == '.')
        {
            int j = i + 1;
            int frac = 0;
            while (j < s.Length && HexVal(s[j]) >= 0) { mant = mant * 16 + HexVal(s[j]); j++; frac++; }
            if (digits + frac > 0) { i = j; digits += frac; exp -= 4 * frac; }
        }
        if (digits == 0) return 0;
        if (i < s.Length && (s[i] | 0x20) == 'p')
        {
            int j = i + 1;
            bool eneg = false;
            if (j < s.Length && (s[j] == '+' || s[j] == '-')) { eneg = s[j] == '-'; j++; }
            if (j < s.Length && IsDigit(s[j]))
            {
                int e = 0;
                while (j < s.Length && IsDigit(s[j])) { if (e < 100000) e = e * 10 + (s[j] - '0'); j++; }
                exp += eneg ? -e : e;
                i = j;
            }
        }
        value = ScaleExact(mant, exp);
        return i;
    }

    private static double ScaleExact(BigInteger mant, int exp2)
    {
        if (mant.IsZero) return 0;
        // Keep 64 significant bits (sticky bit for correct rounding of the rest), then scale.
        long bits = (long)mant.GetBitLength();
        if (bits > 62)
        {
            int shift = (int)(bits - 62);
            bool sticky = !(mant & ((BigInteger.One << shift) - 1)).IsZero;
            mant >>= shift;
            if (sticky) mant |= 1;
            exp2 += shift;
        }
        return Math.ScaleB((double)(long)mant, exp2);
    }

    private static int HexVal(byte c) => c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
    private static bool IsDigit(byte c) => c >= '0' && c <= '9';

    private static bool MatchCI(ReadOnlySpan<byte> s, int i, string word)
    {
        if (i + word.Length > s.Length) return false;
        for (int k = 0; k < word.Length; k++)
            if ((s[i + k] | 0x20) != word[k]) return false;
        return true;
    }

    /// <summary>C's printf("%.{precision}g") (glibc: exact value, ties to even; "inf", "-inf", "nan", "-nan").</summary>
    internal static string FormatG(double v, int precision)
    {
        if (double.IsNaN(v)) return BitConverter.DoubleToInt64Bits(v) < 0 ? "-nan" : "nan";
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        if (v == 0) return double.IsNegative(v) ? "-0" : "0";
        if (v == Math.Floor(v) && Math.Abs(v) < Pow10(precision) && Math.Abs(v) < 1e17)
            return ((long)v).ToString(CultureInfo.InvariantCulture);

        bool neg = v < 0;
        double a = Math.Abs(v);
        // 17 significant digits are exact enough except when they sit exactly on a rounding midpoint.
        string e17 = a.ToString("E16", CultureInfo.InvariantCulture);
        int ePos = e17.IndexOf('E');
        int exp = int.Parse(e17.AsSpan(ePos + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string d17 = e17[0] + e17[2..ePos];
        char[] digits = d17[..precision].ToCharArray();
        string tail = d17[precision..];
        bool up;
        if (tail.Length == 0) up = false;
        else if (tail[0] > '5') up = true;
        else if (tail[0] < '5') up = false;
        else if (tail.AsSpan(1).IndexOfAnyExcept('0') >= 0) up = true;
        else up = CompareToMidpoint(a, d17[..precision] + "5", exp - precision) switch
        {
            > 0 => true,
            < 0 => false,
            _ => (digits[precision - 1] - '0') % 2 == 1,
        };
        if (up)
        {
            int k = precision - 1;
            while (k >= 0 && digits[k] == '9') { digits[k] = '0'; k--; }
            if (k >= 0) digits[k]++;
            else { digits[0] = '1'; for (int z = 1; z < precision; z++) digits[z] = '0'; exp++; }
        }
        var sb = new StringBuilder(32);
        if (neg) sb.Append('-');
        string ds = new string(digits);
        if (exp < -4 || exp >= precision)
        {
            sb.Append(ds[0]);
            string frac = ds[1..].TrimEnd('0');
            if (frac.Length > 0) sb.Append('.').Append(frac);
            sb.Append('e').Append(exp < 0 ? '-' : '+');
            int ax = Math.Abs(exp);
            if (ax < 10) sb.Append('0');
            sb.Append(ax.ToString(CultureInfo.InvariantCulture));
        }
        else if (exp >= 0)
        {
            sb.Append(ds, 0, exp + 1);
            string frac = ds[(exp + 1)..].TrimEnd('0');
            if (frac.Length > 0) sb.Append('.').Append(frac);
        }
        else
        {
            sb.Append("0.").Append('0', -exp - 1).Append(ds.TrimEnd('0'));
        }
        return sb.ToString();
    }

    private static double Pow10(int p) => Math.Pow(10, p);

    /// <summary>Sign of (a - N * 10^exp10), N being the decimal integer midDigits.</summary>
    private static int CompareToMidpoint(double a, string midDigits, int exp10)
    {
        BigInteger n = BigInteger.Parse(midDigits, CultureInfo.InvariantCulture);
        long bits = BitConverter.DoubleToInt64Bits(a);
        int be = (int)((bits >> 52) & 0x7FF);
        long m = bits & 0xFFFFFFFFFFFFFL;
        if (be == 0) be = 1; else m |= 1L << 52;
        int e2 = be - 1075;
        BigInteger lhs = m, rhs = n;
        if (e2 >= 0) lhs <<= e2; else rhs <<= -e2;
        if (exp10 >= 0) rhs *= BigInteger.Pow(10, exp10); else lhs *= BigInteger.Pow(10, -exp10);
        return lhs.CompareTo(rhs);
    }
}

/// <summary>Internal unwinding inside a library call; converted to an error return at the C# boundary.</summary>
internal sealed class LuaLibException(string message, bool withPosition = true) : Exception(message)
{
    public bool WithPosition { get; } = withPosition;
}

/// <summary>Growable byte buffer reused across calls on one thread.</summary>
internal sealed class ByteBuf
{
    public byte[] Data = new byte[256];
    public int Length;

    public void Reset()
    {
        if (Data.Length > 1 << 20) Data = new byte[256];
        Length = 0;
    }

    public void Ensure(int extra)
    {
        if (Length + extra <= Data.Length) return;
        int n = Math.Max(Data.Length * 2, Length + extra);
        Array.Resize(ref Data, n);
    }

    public void Add(byte b)
    {
        if (Length == Data.Length) Ensure(1);
        Data[Length++] = b;
    }

    public void Add(ReadOnlySpan<byte> s)
    {
        Ensure(s.Length);
        s.CopyTo(Data.AsSpan(Length));
        Length += s.Length;
    }

    public void AddAscii(string s)
    {
        Ensure(s.Length);
        for (int i = 0; i < s.Length; i++) Data[Length++] = (byte)s[i];
    }

    public ReadOnlySpan<byte> Span => Data.AsSpan(0, Length);
}
