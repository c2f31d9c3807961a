using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using static Basalt.Server.Scripting.LuaNative;

namespace Basalt.Server.Scripting;

/// <summary>
/// One sandboxed Lua state: the EVAL engine or the FUNCTION engine (Redis keeps them apart too).
/// Compiles chunks into registry references and calls them; errors come back as Redis error text.
/// Every native callback finds its engine through <see cref="Current"/> (set while a script runs on this thread).
/// </summary>
internal sealed unsafe class LuaEngine : IDisposable
{
    private readonly KeraLua.Lua _lua;
    public readonly IntPtr L;
    private readonly int _errhRef, _armRef, _setLoadingRef, _apiRef;
    private int _keysRef, _argvRef;
    private int _keysLen, _argvLen;

    [ThreadStatic] internal static ScriptRun? Current;

    public LuaEngine(bool functionEngine)
    {
        IsFunctionEngine = functionEngine;
        _lua = new KeraLua.Lua(openLibs: true);
        L = _lua.Handle;
        RegisterLibraries(_lua);
        int top = lua_gettop(L);
        if (LoadBuffer(L, Encoding.UTF8.GetBytes(LuaPrelude.Code), "=basalt") != 0)
            throw new InvalidOperationException("Lua prelude: " + ToStringUtf8(L, -1));
        lua_createtable(L, 0, 12);
        int c = lua_gettop(L);
        SetFn(c, "call", &Callbacks.Call);
        SetFn(c, "pcall", &Callbacks.PCall);
        SetFn(c, "busycheck", &Callbacks.BusyCheck);
        SetFn(c, "rand", &Callbacks.Rand);
        SetFn(c, "srand", &Callbacks.SRand);
        SetFn(c, "sha1hex", &Callbacks.Sha1Hex);
        SetFn(c, "log", &Callbacks.Log);
        SetFn(c, "setresp", &Callbacks.SetResp);
        SetFn(c, "setrepl", &Callbacks.SetRepl);
        SetFn(c, "register", &Callbacks.Register);
        lua_pushboolean(L, functionEngine ? 1 : 0);
        if (PCall(L, 2, 1, 0) != 0) throw new InvalidOperationException("Lua prelude: " + ToStringUtf8(L, -1));
        int t = lua_gettop(L);
        _errhRef = FieldRef(t, "errh");
        _armRef = FieldRef(t, "arm");
        _setLoadingRef = FieldRef(t, "setloading");
        _apiRef = FieldRef(t, "api");
        lua_settop(L, top);
        if (!functionEngine)
        {
            lua_createtable(L, 8, 0); _keysRef = luaL_ref(L, RegistryIndex);
            lua_createtable(L, 8, 0); _argvRef = luaL_ref(L, RegistryIndex);
            lua_rawgeti(L, RegistryIndex, _apiRef);
            lua_rawgeti(L, RegistryIndex, _keysRef); RawSetField(L, -2, "KEYS");
            lua_rawgeti(L, RegistryIndex, _argvRef); RawSetField(L, -2, "ARGV");
            Pop(L, 1);
        }
    }

    public bool IsFunctionEngine { get; }

    /// <summary>cjson, cmsgpack, bit and struct (globals the prelude then wraps read-only).</summary>
    private static void RegisterLibraries(KeraLua.Lua lua)
    {
        Libraries.CjsonLibrary.Register(lua);
        Libraries.CmsgpackLibrary.Register(lua);
        Libraries.BitLibrary.Register(lua);
        Libraries.StructLibrary.Register(lua);
    }

    private void SetFn(int table, string name, delegate* unmanaged[Cdecl]<IntPtr, int> fn)
    {
        lua_pushcclosure(L, fn, 0);
        RawSetField(L, table, name);
    }

    private int FieldRef(int table, string name)
    {
        RawGetField(L, table, Encoding.ASCII.GetBytes(name));
        return luaL_ref(L, RegistryIndex);
    }

    /// <summary>Compiles a chunk; returns its registry reference, or -1 with the Lua message.</summary>
    public int Compile(ReadOnlySpan<byte> code, string chunkName, out string? error)
    {
        var rewritten = TailCallRewriter.Rewrite(code);
        if (rewritten is not null)
        {
            if (LoadBuffer(L, rewritten, chunkName) == 0) { error = null; return luaL_ref(L, RegistryIndex); }
            Pop(L, 1); // compile the original for the real error
        }
        if (LoadBuffer(L, code, chunkName) != 0)
        {
            error = ToStringUtf8(L, -1) ?? "unknown error";
            Pop(L, 1);
            // Lua 5.4 writes near <eof>; Redis's 5.1 quotes it.
            error = error.Replace("near <eof>", "near '<eof>'");
            return -1;
        }
        error = null;
        return luaL_ref(L, RegistryIndex);
    }

    public void Release(int reference)
    {
        if (reference > 0) luaL_unref(L, RegistryIndex, reference);
    }

    /// <summary>Fills KEYS and ARGV (EVAL engine), reusing the two tables.</summary>
    public void SetKeysAndArgs(CommandContextArgs args)
    {
        lua_rawgeti(L, RegistryIndex, _keysRef);
        FillArray(args.Ctx, args.KeysStart, args.KeyCount, ref _keysLen);
        Pop(L, 1);
        lua_rawgeti(L, RegistryIndex, _argvRef);
        FillArray(args.Ctx, args.KeysStart + args.KeyCount, args.ArgCount, ref _argvLen);
        Pop(L, 1);
    }

    private void FillArray(Commands.CommandContext ctx, int start, int count, ref int previous)
    {
        for (int i = 0; i < count; i++)
        {
            PushBytes(L, ctx.Arg(start + i));
            lua_rawseti(L, -2, i + 1);
        }
        // The script may have grown the table: clear what it holds beyond the new arguments.
        int len = (int)Math.Min(lua_rawlen(L, -1), int.MaxValue);
        for (int i = count + 1; i <= Math.Max(previous, len); i++)
        {
            lua_pushnil(L);
            lua_rawseti(L, -2, i);
        }
        previous = count;
    }

    /// <summary>Pushes a new array of the given arguments (FCALL's keys and args parameters).</summary>
    public void PushArray(Commands.CommandContext ctx, int start, int count)
    {
        lua_createtable(L, count, 0);
        for (int i = 0; i < count; i++)
        {
            PushBytes(L, ctx.Arg(start + i));
            lua_rawseti(L, -2, i + 1);
        }
    }

    public void PushRef(int reference) => lua_rawgeti(L, RegistryIndex, reference);

    public void PushErrorHandler() => lua_rawgeti(L, RegistryIndex, _errhRef);

    /// <summary>Re-arms the count hook after a kill switched it to every line.</summary>
    public void Rearm()
    {
        lua_rawgeti(L, RegistryIndex, _armRef);
        PCall(L, 0, 0, 0);
        lua_settop(L, 0);
    }

    /// <summary>While a function library's code runs, globals resolve to the load-time API only.</summary>
    public void SetLoading(bool on)
    {
        lua_rawgeti(L, RegistryIndex, _setLoadingRef);
        lua_pushboolean(L, on ? 1 : 0);
        PCall(L, 1, 0, 0);
    }

    /// <summary>After a failed pcall (message handler applied): "msg script: name, on @source:line."</summary>
    public string PopError(string scriptName, bool withLocation = true)
    {
        string result;
        if (lua_type(L, -1) == TTable)
        {
            string msg = GetStringField(-1, "err"u8) ?? "ERR unknown error";
            if (!withLocation) result = msg;
            else
            {
                string? source = GetStringField(-1, "source"u8);
                RawGetField(L, -1, "line"u8);
                string? line = lua_type(L, -1) == TNumber ? ToInteger(L, -1).ToString() : null;
                Pop(L, 1);
                result = source is null ? $"{msg} script: {scriptName}" : $"{msg} script: {scriptName}, on {source}:{line}.";
            }
        }
        else
        {
            result = "ERR Error running script " + scriptName + ", " + (ToStringUtf8(L, -1) ?? "execution failure");
        }
        Pop(L, 1);
        return result;
    }

    public string? GetStringField(int idx, ReadOnlySpan<byte> name)
    {
        RawGetField(L, idx, name);
        string? s = lua_type(L, -1) is TString or TNumber ? ToStringUtf8(L, -1) : null;
        Pop(L, 1);
        return s;
    }

    public void Dispose() => _lua.Dispose();
}

/// <summary>Where KEYS and ARGV sit in the command's arguments.</summary>
internal readonly record struct CommandContextArgs(Commands.CommandContext Ctx, int KeysStart, int KeyCount, int ArgCount);
