using KeraLua;
using static Basalt.Server.Scripting.Libraries.LuaLibSupport;

namespace Basalt.Server.Scripting.Libraries;

/// <summary>
/// The `bit` table (LuaBitOp 1.0.2): 32-bit operations on Lua numbers; results are signed 32-bit.
/// Arguments are normalised like the library does on a double build: add 2^52+2^51 and keep the low 32 bits
/// (round to nearest, wrap modulo 2^32).
/// </summary>
public static class BitLibrary
{
    private static readonly LuaFunction ToBitFn = L => Unary(L, "tobit", b => b);
    private static readonly LuaFunction BNotFn = L => Unary(L, "bnot", b => ~b);
    private static readonly LuaFunction BSwapFn = L => Unary(L, "bswap",
        b => (b >> 24) | ((b >> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24));
    private static readonly LuaFunction BAndFn = L => Fold(L, "band", (a, b) => a & b);
    private static readonly LuaFunction BOrFn = L => Fold(L, "bor", (a, b) => a | b);
    private static readonly LuaFunction BXorFn = L => Fold(L, "bxor", (a, b) => a ^ b);
    private static readonly LuaFunction LShiftFn = L => Shift(L, "lshift", (b, n) => b << n);
    private static readonly LuaFunction RShiftFn = L => Shift(L, "rshift", (b, n) => b >> n);
    private static readonly LuaFunction ARShiftFn = L => Shift(L, "arshift", (b, n) => (uint)((int)b >> n));
    private static readonly LuaFunction RolFn = L => Shift(L, "rol", (b, n) => (b << n) | (b >> (32 - n)));
    private static readonly LuaFunction RorFn = L => Shift(L, "ror", (b, n) => (b << (32 - n)) | (b >> n));
    private static readonly LuaFunction ToHexFn = ToHex;

    /// <summary>Creates the global `bit` table.</summary>
    public static void Register(Lua state)
    {
        CreateLibrary(state, new (string, LuaFunction)[]
        {
            ("tobit", ToBitFn), ("bnot", BNotFn), ("band", BAndFn), ("bor", BOrFn), ("bxor", BXorFn),
            ("lshift", LShiftFn), ("rshift", RShiftFn), ("arshift", ARShiftFn), ("rol", RolFn), ("ror", RorFn),
            ("bswap", BSwapFn), ("tohex", ToHexFn),
        });
        state.SetGlobal("bit");
    }

    /// <summary>barg(): false (with the error already pushed into `err`) when the argument is not a number.</summary>
    private static bool Arg(IntPtr L, int idx, string fn, out uint b, out int err)
    {
        err = 0;
        if (!TryToNumber(L, idx, out double n))
        {
            b = 0;
            err = TypeError(L, idx, idx, fn, "number");
            return false;
        }
        b = (uint)BitConverter.DoubleToUInt64Bits(n + 6755399441055744.0);
        return true;
    }

    private static int Return(IntPtr L, uint b)
    {
        Lua.FromIntPtr(L).PushInteger((int)b);
        return 1;
    }

    private static int Unary(IntPtr L, string fn, Func<uint, uint> op) =>
        Arg(L, 1, fn, out uint b, out int err) ? Return(L, op(b)) : err;

    private static int Fold(IntPtr L, string fn, Func<uint, uint, uint> op)
    {
        if (!Arg(L, 1, fn, out uint b, out int err)) return err;
        for (int i = Lua.FromIntPtr(L).GetTop(); i > 1; i--)
        {
            if (!Arg(L, i, fn, out uint x, out err)) return err;
            b = op(b, x);
        }
        return Return(L, b);
    }

    private static int Shift(IntPtr L, string fn, Func<uint, int, uint> op)
    {
        if (!Arg(L, 1, fn, out uint b, out int err)) return err;
        if (!Arg(L, 2, fn, out uint n, out err)) return err;
        return Return(L, op(b, (int)(n & 31)));
    }

    private static int ToHex(IntPtr L)
    {
        var state = Lua.FromIntPtr(L);
        if (!Arg(L, 1, "tohex", out uint b, out int err)) return err;
        int n = 8;
        if (!state.IsNone(2))
        {
            if (!Arg(L, 2, "tohex", out uint nb, out err)) return err;
            n = (int)nb;
        }
        string digits = "0123456789abcdef";
        if (n < 0) { n = -n; digits = "0123456789ABCDEF"; }
        if (n > 8 || n < 0) n = 8; // -INT_MIN stays negative in C; treat as 8 like the unsigned compare
        Span<byte> buf = stackalloc byte[8];
        for (int i = n; --i >= 0;) { buf[i] = (byte)digits[(int)(b & 15)]; b >>= 4; }
        PushBytes(L, buf[..n]);
        return 1;
    }
}
