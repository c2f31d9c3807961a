using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Basalt.Protocol;
using Basalt.Server.Commands;
using static Basalt.Server.Scripting.LuaNative;

namespace Basalt.Server.Scripting;

/// <summary>
/// The native functions behind the redis API. They never raise Lua errors (a longjmp over managed frames is not
/// allowed): failures are returned as values and the Lua wrappers in the prelude raise them.
/// </summary>
internal static unsafe class Callbacks
{
    [ThreadStatic] private static byte[]? s_buf;
    [ThreadStatic] private static ArgRef[]? s_refs;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static int Call(IntPtr L) => Guard(L, raise: true);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static int PCall(IntPtr L) => Guard(L, raise: false);

    private static int Guard(IntPtr L, bool raise)
    {
        try { return RedisCall(L, raise); }
        catch (Exception ex)
        {
            Basalt.Server.Log.Warning("Script redis.call failed: " + ex);
            return Error(L, "ERR internal error: " + ex.Message, raise);
        }
    }

    /// <summary>Pushes {err=msg} (and true when redis.call must raise it).</summary>
    private static int Error(IntPtr L, string msg, bool raise)
    {
        lua_settop(L, 0);
        lua_createtable(L, 0, 1);
        PushString(L, msg);
        RawSetField(L, -2, "err");
        if (!raise) return 1;
        lua_pushboolean(L, 1);
        return 2;
    }

    private static int RedisCall(IntPtr L, bool raise)
    {
        var run = LuaEngine.Current;
        if (run is null || run.Loading) return Error(L, "ERR redis.call is not available here", raise);
        int argc = lua_gettop(L);
        if (argc == 0) return Error(L, "ERR Please specify at least one argument for this redis lib call", raise);

        // Arguments into one reused buffer (strings as they are, numbers as Redis prints them).
        s_buf ??= new byte[1024];
        s_refs ??= new ArgRef[16];
        if (s_refs.Length < argc) s_refs = new ArgRef[Math.Max(argc, s_refs.Length * 2)];
        int pos = 0;
        Span<byte> num = stackalloc byte[40];
        for (int i = 1; i <= argc; i++)
        {
            scoped ReadOnlySpan<byte> arg;
            int t = lua_type(L, i);
            if (t == TNumber)
            {
                int n;
                if (lua_isinteger(L, i) != 0) { long v = ToInteger(L, i); if (Math.Abs((double)v) < 9007199254740992.0) { v.TryFormat(num, out n); } else n = RespNumbers.FormatDouble(v, num); }
                else n = FormatG17(ToNumber(L, i), num);
                arg = num[..n];
            }
            else if (t == TString) arg = ToSpan(L, i);
            else return Error(L, "ERR Lua redis lib command arguments must be strings or integers", raise);
            if (pos + arg.Length > s_buf.Length) Array.Resize(ref s_buf, Math.Max(pos + arg.Length, s_buf.Length * 2));
            arg.CopyTo(s_buf.AsSpan(pos));
            s_refs[i - 1] = new ArgRef { Offset = pos, Length = arg.Length };
            pos += arg.Length;
        }

        var state = run.State;
        var server = state.Server;
        var def = server.Commands.Find(s_buf.AsSpan(s_refs[0].Offset, s_refs[0].Length));
        if (def is null) return Error(L, "ERR Unknown Redis command called from script", raise);
        if (def.Subcommands is not null && argc >= 2)
        {
            var sub = CommandTable.FindSub(def, s_buf.AsSpan(s_refs[1].Offset, s_refs[1].Length));
            if (sub is not null) def = sub;
        }
        if (!def.CheckArity(argc)) return Error(L, "ERR Wrong number of args calling Redis command from script", raise);
        if ((def.Flags & CommandFlags.NoScript) != 0) return Error(L, "ERR This Redis command is not allowed from script", raise);
        if (def.IsWrite)
        {
            if (run.ReadOnly) return Error(L, "ERR Write commands are not allowed from read-only scripts.", raise);
        }
        if ((def.Flags & CommandFlags.DenyOom) != 0 && run.Oom && !run.Wrote && (run.Flags & ScriptFlags.AllowOom) == 0)
            return Error(L, Eviction.Evictor.OomError, raise);
        if (def.IsWrite) run.Wrote = true;

        var sc = state.ScriptClient;
        sc.Protocol = run.Resp;
        sc.Out.Reset();
        // redis.set_repl: the effects of this call reach only the targets the script allows.
        var propagator = server.Propagator;
        propagator.TargetMask = (Replication.PropagateTargets)(int)run.ReplicationFlags;
        try { server.Dispatcher.ExecuteStored(sc, s_buf, s_refs, argc); }
        finally { propagator.TargetMask = Replication.PropagateTargets.All; }
        var reply = sc.Out.WrittenSpan;
        lua_settop(L, 0);
        if (reply.Length == 0) { lua_pushnil(L); return 1; }
        int p = 0;
        ReplyConverter.PushReply(L, reply, ref p, 0);
        sc.Out.Reset();
        if (raise && reply[0] == (byte)'-')
        {
            lua_pushboolean(L, 1);
            return 2;
        }
        return 1;
    }

    /// <summary>printf's %.17g, the way Redis turns Lua numbers into arguments.</summary>
    private static int FormatG17(double d, Span<byte> dest)
    {
        if (double.IsNaN(d)) return Ascii("nan", dest);
        if (double.IsInfinity(d)) return Ascii(d > 0 ? "inf" : "-inf", dest);
        if (d == Math.Floor(d) && Math.Abs(d) < 1e17) return ((long)d).TryFormat(dest, out int n) ? (d == 0 && double.IsNegative(d) ? Ascii("-0", dest) : n) : 0;
        return RespNumbers.FormatDouble(d, dest);
    }

    private static int Ascii(string s, Span<byte> dest)
    {
        for (int i = 0; i < s.Length; i++) dest[i] = (byte)s[i];
        return s.Length;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static int BusyCheck(IntPtr L)
    {
        try
        {
            var run = LuaEngine.Current;
            lua_pushboolean(L, run is not null && run.State.CheckBusy(run) ? 1 : 0);
        }
        catch (Exception ex) { Basalt.Server.Log.Warning("Script hook failed: " + ex); lua_pushboolean(L, 0); }
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static int Rand(IntPtr L)
    {
        var run = LuaEngine.Current;
        lua_pushnumber(L, run is null ? 0 : run.State.NextRandom());
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static int SRand(IntPtr L)
    {
        LuaEngine.Current?.State.Seed(ToInteger(L, 1));
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static int Sha1Hex(IntPtr L)
    {
        var hex = ScriptingState.Sha1Hex(ToSpan(L, 1));
        PushString(L, hex);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static int Log(IntPtr L)
    {
        try
        {
            long level = ToInteger(L, 1);
            string msg = ToStringUtf8(L, 2) ?? "";
            switch (level)
            {
                case 0: Basalt.Server.Log.Debug(msg); break;
                case 1: Basalt.Server.Log.Verbose(msg); break;
                case 2: Basalt.Server.Log.Notice(msg); break;
                default: Basalt.Server.Log.Warning(msg); break;
            }
        }
        catch (Exception) { }
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static int SetResp(IntPtr L)
    {
        var run = LuaEngine.Current;
        if (run is not null) run.Resp = (int)ToInteger(L, 1);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static int SetRepl(IntPtr L)
    {
        var run = LuaEngine.Current;
        if (run is not null) run.ReplicationFlags = (ReplicationFlags)ToInteger(L, 1);
        return 0;
    }

    /// <summary>register(name, callback, flags, description) during FUNCTION LOAD: nil or an error message.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static int Register(IntPtr L)
    {
        try
        {
            var run = LuaEngine.Current;
            var lib = run?.State.Functions.Loading;
            if (run is null || lib is null || !run.Loading)
            {
                PushString(L, "ERR redis.register_function can only be called on FUNCTION LOAD command");
                return 1;
            }
            string name = ToStringUtf8(L, 1) ?? "";
            var flags = (ScriptFlags)ToInteger(L, 3);
            string? desc = lua_type(L, 4) == TString ? ToStringUtf8(L, 4) : null;
            lua_pushvalue(L, 2);
            int r = luaL_ref(L, RegistryIndex);
            string? error = run.State.Functions.AddPending(lib, name, r, flags, desc);
            if (error is not null)
            {
                luaL_unref(L, RegistryIndex, r);
                PushString(L, error);
                return 1;
            }
            return 0;
        }
        catch (Exception ex)
        {
            PushString(L, "ERR " + ex.Message);
            return 1;
        }
    }
}
