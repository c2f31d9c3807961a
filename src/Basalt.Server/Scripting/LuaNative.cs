using System.Runtime.InteropServices;

namespace Basalt.Server.Scripting;

/// <summary>
/// The few Lua 5.4 C API entry points the engine uses, called directly (no wrapper objects, no delegates per call).
/// The native library is the liblua54 shipped by the KeraLua package.
/// </summary>
internal static unsafe partial class LuaNative
{
    private const string Lib = "lua54";

    public const int RegistryIndex = -1000000 - 1000;
    public const int MultRet = -1;

    public const int TNone = -1, TNil = 0, TBoolean = 1, TLightUserData = 2, TNumber = 3, TString = 4,
        TTable = 5, TFunction = 6, TUserData = 7, TThread = 8;

    [LibraryImport(Lib)] public static partial int lua_gettop(IntPtr L);
    [LibraryImport(Lib)] public static partial void lua_settop(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial void lua_pushvalue(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial void lua_rotate(IntPtr L, int idx, int n);
    [LibraryImport(Lib)] public static partial int lua_type(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial int lua_isinteger(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial long lua_tointegerx(IntPtr L, int idx, IntPtr isnum);
    [LibraryImport(Lib)] public static partial double lua_tonumberx(IntPtr L, int idx, int* isnum);
    [LibraryImport(Lib)] public static partial int lua_toboolean(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial byte* lua_tolstring(IntPtr L, int idx, nuint* len);
    [LibraryImport(Lib)] public static partial ulong lua_rawlen(IntPtr L, int idx);

    [LibraryImport(Lib)] public static partial void lua_pushnil(IntPtr L);
    [LibraryImport(Lib)] public static partial void lua_pushinteger(IntPtr L, long n);
    [LibraryImport(Lib)] public static partial void lua_pushnumber(IntPtr L, double n);
    [LibraryImport(Lib)] public static partial IntPtr lua_pushlstring(IntPtr L, byte* s, nuint len);
    [LibraryImport(Lib)] public static partial void lua_pushboolean(IntPtr L, int b);
    [LibraryImport(Lib)] public static partial void lua_pushcclosure(IntPtr L, delegate* unmanaged[Cdecl]<IntPtr, int> fn, int n);

    [LibraryImport(Lib)] public static partial void lua_createtable(IntPtr L, int narr, int nrec);
    [LibraryImport(Lib)] public static partial void lua_rawset(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial void lua_rawseti(IntPtr L, int idx, long n);
    [LibraryImport(Lib)] public static partial int lua_rawget(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial int lua_rawgeti(IntPtr L, int idx, long n);
    [LibraryImport(Lib)] public static partial int lua_next(IntPtr L, int idx);

    [LibraryImport(Lib)] public static partial int luaL_loadbufferx(IntPtr L, byte* buff, nuint sz, byte* name, byte* mode);
    [LibraryImport(Lib)] public static partial int lua_pcallk(IntPtr L, int nargs, int nresults, int msgh, IntPtr ctx, IntPtr k);
    [LibraryImport(Lib)] public static partial int luaL_ref(IntPtr L, int t);
    [LibraryImport(Lib)] public static partial void luaL_unref(IntPtr L, int t, int r);
    [LibraryImport(Lib)] public static partial int lua_gc(IntPtr L, int what, int arg);
    [LibraryImport(Lib)] public static partial int lua_checkstack(IntPtr L, int n);

    public static void Pop(IntPtr L, int n) => lua_settop(L, -n - 1);
    public static void Remove(IntPtr L, int idx) { lua_rotate(L, idx, -1); Pop(L, 1); }
    public static void Insert(IntPtr L, int idx) => lua_rotate(L, idx, 1);
    public static long ToInteger(IntPtr L, int idx) => lua_tointegerx(L, idx, IntPtr.Zero);
    public static double ToNumber(IntPtr L, int idx) => lua_tonumberx(L, idx, null);

    public static void PushBytes(IntPtr L, ReadOnlySpan<byte> s)
    {
        fixed (byte* p = s) lua_pushlstring(L, p == null ? (byte*)&p : p, (nuint)s.Length);
    }

    public static void PushString(IntPtr L, string s)
    {
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(s.Length);
        byte[]? rented = null;
        Span<byte> buf = max <= 512 ? stackalloc byte[max] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(max));
        int n = System.Text.Encoding.UTF8.GetBytes(s, buf);
        PushBytes(L, buf[..n]);
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
    }

    /// <summary>The bytes of the string (or number, converted in place) at idx; valid while the value stays on the stack.</summary>
    public static ReadOnlySpan<byte> ToSpan(IntPtr L, int idx)
    {
        nuint len;
        byte* p = lua_tolstring(L, idx, &len);
        return p == null ? default : new ReadOnlySpan<byte>(p, (int)len);
    }

    public static string? ToStringUtf8(IntPtr L, int idx)
    {
        nuint len;
        byte* p = lua_tolstring(L, idx, &len);
        return p == null ? null : System.Text.Encoding.UTF8.GetString(p, (int)len);
    }

    /// <summary>Sets t[name] = value on top (raw), t at idx (absolute index).</summary>
    public static void RawSetField(IntPtr L, int tableIdx, string name)
    {
        if (tableIdx < 0) tableIdx = lua_gettop(L) + tableIdx + 1;
        PushString(L, name);
        Insert(L, -2);
        lua_rawset(L, tableIdx);
    }

    public static int RawGetField(IntPtr L, int tableIdx, ReadOnlySpan<byte> name)
    {
        PushBytes(L, name);
        return lua_rawget(L, tableIdx < 0 ? tableIdx - 1 : tableIdx);
    }

    public static int LoadBuffer(IntPtr L, ReadOnlySpan<byte> code, string chunkName)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(chunkName + "\0");
        fixed (byte* c = code)
        fixed (byte* n = name)
        fixed (byte* m = "t\0"u8)
            return luaL_loadbufferx(L, c == null ? (byte*)&c : c, (nuint)code.Length, n, m);
    }

    public static int PCall(IntPtr L, int nargs, int nresults, int msgh) => lua_pcallk(L, nargs, nresults, msgh, IntPtr.Zero, IntPtr.Zero);
}
