using KeraLua;
using static Basalt.Server.Scripting.Libraries.LuaLibSupport;

namespace Basalt.Server.Scripting.Libraries;

/// <summary>
/// The `struct` table (Roberto Ierusalimschy's struct library as bundled with Redis, x86-64 sizes):
/// pack/unpack/size with formats &gt; &lt; ! x b B h H l L T i[n] I[n] s f d c[n] and alignment.
/// Integers travel as doubles (Lua 5.1), so 64-bit values lose precision exactly as in Redis.
/// </summary>
public static class StructLibrary
{
    private const int MaxIntSize = 32;
    private const int MaxAlign = 8;
    private const bool NativeLittle = true;

    private static readonly LuaFunction PackFn = Pack;
    private static readonly LuaFunction UnpackFn = Unpack;
    private static readonly LuaFunction SizeFn = Size;

    [ThreadStatic] private static ByteBuf? t_buf;

    /// <summary>Creates the global `struct` table.</summary>
    public static void Register(Lua state)
    {
        CreateLibrary(state, new (string, LuaFunction)[] { ("pack", PackFn), ("unpack", UnpackFn), ("size", SizeFn) });
        state.SetGlobal("struct");
    }

    private struct Header
    {
        public bool Little;
        public int Align;
    }

    private static Header Defaults() => new() { Little = NativeLittle, Align = 1 };

    private static bool IsDigit(byte c) => c >= '0' && c <= '9';

    private static int GetNum(byte[] fmt, ref int i, int df)
    {
        if (i >= fmt.Length || !IsDigit(fmt[i])) return df;
        int a = 0;
        do
        {
            int d = fmt[i] - '0';
            if (a > int.MaxValue / 10 || a * 10 > int.MaxValue - d) throw new LuaLibException("integral size overflow");
            a = a * 10 + d;
            i++;
        } while (i < fmt.Length && IsDigit(fmt[i]));
        return a;
    }

    private static long OptSize(byte opt, byte[] fmt, ref int i)
    {
        switch (opt)
        {
            case (byte)'B': case (byte)'b': return 1;
            case (byte)'H': case (byte)'h': return 2;
            case (byte)'L': case (byte)'l': case (byte)'T': return 8;
            case (byte)'f': return 4;
            case (byte)'d': return 8;
            case (byte)'x': return 1;
            case (byte)'c': return GetNum(fmt, ref i, 1);
            case (byte)'i': case (byte)'I':
            {
                int sz = GetNum(fmt, ref i, 4);
                if (sz > MaxIntSize) throw new LuaLibException($"integral size {sz} is larger than limit of {MaxIntSize}");
                return sz;
            }
            default: return 0;
        }
    }

    private static long GetToAlign(long len, in Header h, byte opt, long size)
    {
        if (size == 0 || opt == 'c') return 0;
        if (size > h.Align) size = h.Align;
        return (size - (len & (size - 1))) & (size - 1);
    }

    /// <summary>Endianness/alignment options; anything else is an invalid option (argument #1).</summary>
    private static void ControlOptions(byte opt, byte[] fmt, ref int i, ref Header h, string fn)
    {
        switch (opt)
        {
            case (byte)' ': return;
            case (byte)'>': h.Little = false; return;
            case (byte)'<': h.Little = true; return;
            case (byte)'!':
            {
                int a = GetNum(fmt, ref i, MaxAlign);
                if (!(a > 0 && (a & (a - 1)) == 0)) throw new LuaLibException($"alignment {a} is not a power of 2");
                h.Align = a;
                return;
            }
            default:
                throw new LuaLibException($"bad argument #1 to '{fn}' (invalid format option '{(char)opt}')");
        }
    }

    private static int Fail(IntPtr L, LuaLibException e) => Error(L, e.Message);

    // ---- pack ----------------------------------------------------------------------------------------

    private static int Pack(IntPtr L)
    {
        if (!TryCheckBytes(L, 1, out var fmt)) return TypeError(L, 1, 1, "pack", "string");
        var buf = t_buf ??= new ByteBuf();
        buf.Reset();
        var h = Defaults();
        int arg = 2;
        long total = 0;
        int i = 0;
        try
        {
            // The format ends at its first NUL, as a C string.
            while (i < fmt.Length && fmt[i] != 0)
            {
                byte opt = fmt[i++];
                long size = OptSize(opt, fmt, ref i);
                long toAlign = GetToAlign(total, h, opt, size);
                total += toAlign;
                for (long k = 0; k < toAlign; k++) buf.Add(0);
                switch (opt)
                {
                    case (byte)'b': case (byte)'B': case (byte)'h': case (byte)'H':
                    case (byte)'l': case (byte)'L': case (byte)'T': case (byte)'i': case (byte)'I':
                    {
                        if (!TryToNumber(L, arg, out double n)) return PackTypeError(L, arg, "number");
                        arg++;
                        PutInteger(buf, n, h.Little, (int)size);
                        break;
                    }
                    case (byte)'x':
                        buf.Add(0);
                        break;
                    case (byte)'f':
                    {
                        if (!TryToNumber(L, arg, out double n)) return PackTypeError(L, arg, "number");
                        arg++;
                        Span<byte> b = stackalloc byte[4];
                        BitConverter.TryWriteBytes(b, (float)n);
                        if (!h.Little) b.Reverse();
                        buf.Add(b);
                        break;
                    }
                    case (byte)'d':
                    {
                        if (!TryToNumber(L, arg, out double n)) return PackTypeError(L, arg, "number");
                        arg++;
                        Span<byte> b = stackalloc byte[8];
                        BitConverter.TryWriteBytes(b, n);
                        if (!h.Little) b.Reverse();
                        buf.Add(b);
                        break;
                    }
                    case (byte)'c': case (byte)'s':
                    {
                        if (!TryCheckBytes(L, arg, out var s)) return PackTypeError(L, arg, "string");
                        arg++;
                        if (size == 0) size = s.Length;
                        // The library reports the argument after the string here.
                        if (s.Length < size) return ArgError(L, arg, "pack", "string too short");
                        buf.Add(s.AsSpan(0, (int)size));
                        if (opt == 's') { buf.Add(0); size++; }
                        break;
                    }
                    default:
                        ControlOptions(opt, fmt, ref i, ref h, "pack");
                        break;
                }
                total += size;
            }
        }
        catch (LuaLibException e) { return Fail(L, e); }
        PushBytes(L, buf.Span);
        return 1;
    }

    /// <summary>pack pushes a nil marker after its arguments, so a missing argument is reported as "got nil".</summary>
    private static int PackTypeError(IntPtr L, int arg, string expected) =>
        Lua.FromIntPtr(L).IsNone(arg)
            ? ArgError(L, arg, "pack", $"{expected} expected, got nil")
            : TypeError(L, arg, arg, "pack", expected);

    private static void PutInteger(ByteBuf buf, double n, bool little, int size)
    {
        ulong value = n < 0 ? (ulong)CLong(n) : CToUInt64(n);
        Span<byte> b = stackalloc byte[MaxIntSize];
        if (little)
            for (int k = 0; k < size; k++) { b[k] = (byte)value; value >>= 8; }
        else
            for (int k = size - 1; k >= 0; k--) { b[k] = (byte)value; value >>= 8; }
        buf.Add(b[..size]);
    }

    /// <summary>C (uint64_t)d as gcc emits it on x86-64 (values past the range wrap to what the CPU gives).</summary>
    private static ulong CToUInt64(double d)
    {
        if (!(d >= 9223372036854775808.0)) return (ulong)CLong(d); // includes NaN
        return (ulong)CLong(d - 9223372036854775808.0) ^ 0x8000000000000000UL;
    }

    // ---- unpack --------------------------------------------------------------------------------------

    private static int Unpack(IntPtr L)
    {
        var state = Lua.FromIntPtr(L);
        if (!TryCheckBytes(L, 1, out var fmt)) return TypeError(L, 1, 1, "unpack", "string");
        if (!TryCheckBytes(L, 2, out var data)) return TypeError(L, 2, 2, "unpack", "string");
        ulong ld = (ulong)data.Length;
        ulong pos = 1;
        if (!state.IsNoneOrNil(3))
        {
            if (!TryToNumber(L, 3, out double d)) return TypeError(L, 3, 3, "unpack", "number");
            pos = (ulong)CLong(d);
        }
        if (pos == 0) return ArgError(L, 3, "unpack", "offset must be 1 or greater");
        pos--;
        int top0 = state.GetTop();
        var h = Defaults();
        int n = 0;
        int i = 0;
        try
        {
            while (i < fmt.Length && fmt[i] != 0)
            {
                byte opt = fmt[i++];
                ulong size = (ulong)OptSize(opt, fmt, ref i);
                pos += (ulong)GetToAlign((long)pos, h, opt, (long)size);
                if (!(size <= ld && pos <= ld - size)) { state.SetTop(top0); return ArgError(L, 2, "unpack", "data string too short"); }
                if (state.GetTop() + 2 > MaxCStack || !state.CheckStack(2)) { state.SetTop(top0); return Error(L, "stack overflow (too many results)"); }
                switch (opt)
                {
                    case (byte)'b': case (byte)'B': case (byte)'h': case (byte)'H':
                    case (byte)'l': case (byte)'L': case (byte)'T': case (byte)'i': case (byte)'I':
                        PushNumber51(state, GetInteger(data.AsSpan((int)pos, (int)size), h.Little, opt >= 'a', (int)size));
                        n++;
                        break;
                    case (byte)'x':
                        break;
                    case (byte)'f':
                    {
                        Span<byte> b = stackalloc byte[4];
                        data.AsSpan((int)pos, 4).CopyTo(b);
                        if (!h.Little) b.Reverse();
                        PushNumber51(state, BitConverter.ToSingle(b));
                        n++;
                        break;
                    }
                    case (byte)'d':
                    {
                        Span<byte> b = stackalloc byte[8];
                        data.AsSpan((int)pos, 8).CopyTo(b);
                        if (!h.Little) b.Reverse();
                        PushNumber51(state, BitConverter.ToDouble(b));
                        n++;
                        break;
                    }
                    case (byte)'c':
                        if (size == 0)
                        {
                            if (n == 0 || !TryToNumber(L, -1, out double prev))
                                throw new LuaLibException("format 'c0' needs a previous size");
                            size = (ulong)CLong(prev);
                            state.Pop(1);
                            n--;
                            if (!(size <= ld && pos <= ld - size)) { state.SetTop(top0); return ArgError(L, 2, "unpack", "data string too short"); }
                        }
                        PushBytes(L, data.AsSpan((int)pos, (int)size));
                        n++;
                        break;
                    case (byte)'s':
                    {
                        int e = Array.IndexOf(data, (byte)0, (int)pos);
                        if (e < 0) throw new LuaLibException("unfinished string in data");
                        size = (ulong)(e - (int)pos) + 1;
                        PushBytes(L, data.AsSpan((int)pos, (int)size - 1));
                        n++;
                        break;
                    }
                    default:
                        ControlOptions(opt, fmt, ref i, ref h, "unpack");
                        break;
                }
                pos += size;
            }
        }
        catch (LuaLibException e)
        {
            state.SetTop(top0);
            return Fail(L, e);
        }
        state.PushInteger((long)(pos + 1));
        return n + 1;
    }

    /// <summary>Reads an integer of `size` bytes into a 64-bit accumulator (bytes past 8 shift out, as in C).</summary>
    private static double GetInteger(ReadOnlySpan<byte> b, bool little, bool signed, int size)
    {
        ulong l = 0;
        if (!little) for (int k = 0; k < size; k++) l = (l << 8) | b[k];
        else for (int k = size - 1; k >= 0; k--) l = (l << 8) | b[k];
        if (!signed) return l;
        // C shifts by size*8-1 modulo 64 on x86-64; C# masks the count the same way.
        ulong mask = ulong.MaxValue << (size * 8 - 1);
        if ((l & mask) != 0) l |= mask;
        return (long)l;
    }

    // ---- size ----------------------------------------------------------------------------------------

    private static int Size(IntPtr L)
    {
        if (!TryCheckBytes(L, 1, out var fmt)) return TypeError(L, 1, 1, "size", "string");
        var h = Defaults();
        long pos = 0;
        int i = 0;
        try
        {
            while (i < fmt.Length && fmt[i] != 0)
            {
                byte opt = fmt[i++];
                long size = OptSize(opt, fmt, ref i);
                pos += GetToAlign(pos, h, opt, size);
                if (opt == 's') return ArgError(L, 1, "size", "option 's' has no fixed size");
                if (opt == 'c' && size == 0) return ArgError(L, 1, "size", "option 'c0' has no fixed size");
                if (!char.IsAsciiLetterOrDigit((char)opt)) ControlOptions(opt, fmt, ref i, ref h, "size");
                pos += size;
            }
        }
        catch (LuaLibException e) { return Fail(L, e); }
        Lua.FromIntPtr(L).PushInteger(pos);
        return 1;
    }
}
