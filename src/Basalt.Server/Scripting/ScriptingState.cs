using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Basalt.Protocol;
using Basalt.Server.Commands;
using static Basalt.Server.Scripting.LuaNative;

namespace Basalt.Server.Scripting;

/// <summary>
/// Scripting for one server: the EVAL and FUNCTION Lua engines, the script cache, the libraries,
/// the script client that runs redis.call, and the busy/kill coordination with other connections.
/// Everything but <see cref="AnswerWhileBusy"/> runs under the execution lock.
/// </summary>
public sealed class ScriptingState
{
    private static readonly ConditionalWeakTable<RedisServer, ScriptingState> s_states = new();

    public static ScriptingState For(RedisServer server) => s_states.GetValue(server, static s => new ScriptingState(s));

    /// <summary>The state if scripting was ever used on this server (no allocation on the connection path).</summary>
    public static ScriptingState? Peek(RedisServer server) => s_states.TryGetValue(server, out var s) ? s : null;

    private ScriptingState(RedisServer server)
    {
        Server = server;
        Functions = new FunctionLibraries(this);
        ScriptClient = new Client(server, 0) { Authenticated = true, Flags = ClientFlags.Internal, Name = null };
    }

    public RedisServer Server { get; }
    internal Client ScriptClient { get; }
    public FunctionLibraries Functions { get; }

    private LuaEngine? _eval;
    private LuaEngine? _function;
    internal LuaEngine EvalEngine => _eval ??= new LuaEngine(functionEngine: false);
    internal LuaEngine FunctionEngine => _function ??= new LuaEngine(functionEngine: true);

    private ScriptRun? _evalRun, _functionRun;
    /// <summary>Reused run objects (one per engine; scripts never nest).</summary>
    internal ScriptRun EvalRun => _evalRun is not null && _evalRun.Engine == _eval ? _evalRun : _evalRun = new ScriptRun(this, EvalEngine);
    internal ScriptRun FunctionRun => _functionRun ??= new ScriptRun(this, FunctionEngine);

    // ---- Script cache (SHA1 -> compiled chunk) ----

    internal sealed class CachedScript
    {
        public required int Ref;
        public required ScriptFlags Flags;
        public required byte[] Body;
        public required string Sha;
    }

    private readonly Dictionary<string, CachedScript> _scripts = new(StringComparer.Ordinal);

    public int ScriptCount => _scripts.Count;

    public long ScriptsMemory
    {
        get { long n = 0; foreach (var s in _scripts.Values) n += s.Body.Length; return n; }
    }

    internal CachedScript? FindScript(ReadOnlySpan<byte> sha)
    {
        if (sha.Length != 40) return null;
        Span<char> lower = stackalloc char[40];
        for (int i = 0; i < 40; i++) lower[i] = (char)(sha[i] | 0x20);
        return _scripts.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(lower, out var s) ? s : null;
    }

    public static string Sha1Hex(ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[20];
        System.Security.Cryptography.SHA1.HashData(body, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Compiles and caches a script (EVAL, SCRIPT LOAD); null with the error text on failure.</summary>
    internal CachedScript? LoadScript(ReadOnlySpan<byte> body, out string sha, out string? error)
    {
        sha = Sha1Hex(body);
        if (_scripts.TryGetValue(sha, out var cached)) { error = null; return cached; }
        if (!ParseShebang(body, out var flags, out int skip, out error)) return null;
        // The shebang line is blanked (not removed) so line numbers stay those of the script.
        ReadOnlySpan<byte> code = body;
        byte[]? blanked = null;
        if (skip > 0) { blanked = body.ToArray(); blanked.AsSpan(0, skip).Fill((byte)' '); code = blanked; }
        int r = EvalEngine.Compile(code, "@user_script", out var compileError);
        if (r < 0) { error = "ERR Error compiling script (new function): " + compileError; return null; }
        cached = new CachedScript { Ref = r, Flags = flags, Body = body.ToArray(), Sha = sha };
        _scripts[sha] = cached;
        return cached;
    }

    public bool ScriptExists(ReadOnlySpan<byte> sha) => FindScript(sha) is not null;

    /// <summary>SCRIPT FLUSH: a fresh EVAL engine, as Redis recreates its Lua state.</summary>
    public void FlushScripts()
    {
        _scripts.Clear();
        _eval?.Dispose();
        _eval = null;
    }

    /// <summary>"#!lua flags=a,b": EvalCompat when there is no shebang.</summary>
    private static bool ParseShebang(ReadOnlySpan<byte> body, out ScriptFlags flags, out int length, out string? error)
    {
        flags = ScriptFlags.EvalCompat;
        length = 0;
        error = null;
        if (!body.StartsWith("#!"u8)) return true;
        int nl = body.IndexOf((byte)'\n');
        if (nl < 0) { error = "ERR Invalid script shebang"; return false; }
        var line = Encoding.UTF8.GetString(nl < 0 ? body : body[..nl]);
        length = nl < 0 ? body.Length : nl;
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts[0] != "#!lua")
        {
            error = "ERR Unexpected engine in script shebang: " + (parts.Length == 0 ? line : parts[0]);
            return false;
        }
        flags = ScriptFlags.None;
        for (int i = 1; i < parts.Length; i++)
        {
            if (!parts[i].StartsWith("flags=", StringComparison.Ordinal))
            {
                error = "ERR Unknown lua shebang option: " + parts[i];
                return false;
            }
            foreach (var f in parts[i][6..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var bit = ParseFlag(f);
                if (bit is null) { error = "ERR Unexpected flag in script shebang: " + f; return false; }
                flags |= bit.Value;
            }
        }
        return true;
    }

    internal static ScriptFlags? ParseFlag(string f) => f switch
    {
        "no-writes" => ScriptFlags.NoWrites,
        "allow-oom" => ScriptFlags.AllowOom,
        "allow-stale" => ScriptFlags.AllowStale,
        "no-cluster" => ScriptFlags.NoCluster,
        "allow-cross-slot-keys" => ScriptFlags.AllowCrossSlotKeys,
        _ => null,
    };

    // ---- PRNG: Redis's lrand48 (never reseeded between scripts), shared by all scripts of the server ----

    private ulong _rand48 = 0x1234ABCD330EUL; // lrand48's state before any seeding

    internal double NextRandom()
    {
        _rand48 = (_rand48 * 0x5DEECE66DUL + 0xB) & 0xFFFFFFFFFFFFUL;
        long r = (long)(_rand48 >> 17);
        return (double)(r % int.MaxValue) / int.MaxValue;
    }

    internal void Seed(long seed) => _rand48 = (((ulong)(uint)(int)seed) << 16) | 0x330E;

    // ---- Running ----

    private volatile ScriptRun? _running;
    private volatile bool _busy;
    private readonly object _busyGate = new();
    private readonly Queue<(Client Client, byte[] Reply)> _busyReplies = new();

    /// <summary>The script or function being executed, null when none.</summary>
    public ScriptRun? Running => _running;

    /// <summary>True once the running script passed busy-reply-threshold: other clients get -BUSY.</summary>
    public bool Busy => _busy;

    /// <summary>Called under the execution lock by the scripting commands; runs the chunk and writes its reply.</summary>
    internal void Run(CommandContext ctx, ScriptRun run, int fnRef, int keysStart, int numKeys)
    {
        var engine = run.Engine;
        var L = engine.L;
        var caller = ctx.Client;
        run.Caller = caller;
        run.StartTimestamp = Stopwatch.GetTimestamp();
        run.Resp = 2;
        var sc = ScriptClient;
        sc.DbIndex = caller.DbIndex;
        sc.Protocol = 2;
        sc.Out.Reset();
        if (Server.Config.MaxMemory > 0 && Server.Dispatcher.Evictor.Perform() == Eviction.EvictionResult.Fail) run.Oom = true;
        int argCount = ctx.Count - keysStart - numKeys;
        if (_running is not null) throw new InvalidOperationException("nested script");
        _running = run;
        var previous = LuaEngine.Current;
        LuaEngine.Current = run;
        try
        {
            lua_settop(L, 0);
            engine.PushErrorHandler();
            engine.PushRef(fnRef);
            int nargs = 0;
            if (run.IsEval) engine.SetKeysAndArgs(new CommandContextArgs(ctx, keysStart, numKeys, argCount));
            else
            {
                engine.PushArray(ctx, keysStart, numKeys);
                engine.PushArray(ctx, keysStart + numKeys, argCount);
                nargs = 2;
            }
            int status = PCall(L, nargs, 1, 1);
            if (status == 0) ReplyConverter.WriteLua(L, -1, ctx.Reply, run.Resp, 0);
            else ctx.Reply.WriteError(engine.PopError(run.Name));
            lua_settop(L, 0);
        }
        finally
        {
            LuaEngine.Current = previous;
            if (run.Killed) engine.Rearm();
            lock (_busyGate)
            {
                _running = null;
                _busy = false;
                DrainBusyReplies();
            }
            sc.Out.Reset();
        }
    }

    /// <summary>From the count hook: true when the script must be killed.</summary>
    internal bool CheckBusy(ScriptRun run)
    {
        if (run.Loading) return false;
        if (!_busy)
        {
            long limit = Server.Config.BusyReplyThresholdMs;
            if (limit <= 0 || run.ElapsedMs < limit) return false;
            lock (_busyGate) _busy = true;
            Log.Warning($"Slow script detected: still in execution after {run.ElapsedMs} milliseconds. You can try killing the script using the {(run.IsEval ? "SCRIPT KILL" : "FUNCTION KILL")} command. Script name is: {run.Name}.");
        }
        lock (_busyGate) DrainBusyReplies();
        if (run.KillRequested) { run.Killed = true; return true; }
        return false;
    }

    private void DrainBusyReplies()
    {
        while (_busyReplies.TryDequeue(out var item))
        {
            item.Client.Out.WriteRaw(item.Reply);
            item.Client.WakeWriter();
        }
        while (_wakeWhileBusy.TryDequeue(out var c)) c.WakeWriter();
        while (_deferred.TryDequeue(out var action))
        {
            try { action(); } catch (Exception ex) { Log.Warning("Deferred while busy: " + ex.Message); }
        }
    }

    private readonly Queue<Action> _deferred = new();

    /// <summary>
    /// Takes the execution lock (true: the caller holds it), unless a busy script holds it: then
    /// <paramref name="underLock"/> is queued for the script's thread, which runs it under the lock (false).
    /// </summary>
    public static bool EnterLockOrDefer(RedisServer server, Action underLock)
    {
        while (!server.ExecLock.TryEnter(10))
        {
            var state = Peek(server);
            if (state is null) continue;
            lock (state._busyGate)
            {
                if (!state._busy || state._running is null) continue;
                state._deferred.Enqueue(underLock);
                return false;
            }
        }
        return true;
    }

    private readonly Queue<Client> _wakeWhileBusy = new();

    /// <summary>
    /// A connection's sender found replies appended while a busy script holds the lock: instead of waiting for the
    /// lock, it is queued and the script's thread (under the lock) starts the send. False when no script is busy.
    /// </summary>
    public bool DeferWakeWhileBusy(Client client)
    {
        lock (_busyGate)
        {
            if (!_busy || _running is null) return false;
            _wakeWhileBusy.Enqueue(client);
            return true;
        }
    }

    private const string BusyEval = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    private const string BusyFunction = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

    /// <summary>SCRIPT KILL / FUNCTION KILL: the reply text (null = +OK).</summary>
    public string? Kill(bool fromScriptKill)
    {
        var run = _running;
        if (run is null || run.Loading) return "NOTBUSY No scripts in execution right now.";
        if (run.Wrote) return "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
        if (fromScriptKill && !run.IsEval) return BusyFunction;
        if (!fromScriptKill && run.IsEval) return BusyEval;
        run.KillRequested = true;
        return null;
    }

    /// <summary>
    /// Called by a connection that could not take the execution lock: while a script is busy, answers the batch
    /// (BUSY, or SCRIPT KILL / FUNCTION KILL / SHUTDOWN NOSAVE) without the lock. The replies are handed to the
    /// script's thread, which appends them under the lock. False when no script is busy (wait for the lock).
    /// </summary>
    public bool AnswerWhileBusy(Client client, byte[] buf, ArgRef[] args, int[] starts, int[] counts, int from, int to)
    {
        lock (_busyGate)
        {
            var run = _running;
            if (!_busy || run is null) return false;
            var w = new RespWriter(256) { Protocol = client.Protocol };
            for (int c = from; c < to; c++)
            {
                int s = starts[c], n = counts[c];
                var name = buf.AsSpan(args[s].Offset, args[s].Length);
                var sub = n > 1 ? buf.AsSpan(args[s + 1].Offset, args[s + 1].Length) : default;
                if (n == 2 && (Ascii.EqualsIgnoreCase(name, "script"u8) || Ascii.EqualsIgnoreCase(name, "function"u8)) && Ascii.EqualsIgnoreCase(sub, "kill"u8))
                {
                    var error = Kill(Ascii.EqualsIgnoreCase(name, "script"u8));
                    if (error is null) w.WriteOk(); else w.WriteError(error);
                }
                else if (n == 2 && Ascii.EqualsIgnoreCase(name, "function"u8) && Ascii.EqualsIgnoreCase(sub, "stats"u8))
                {
                    // Reads only what a script cannot change (FUNCTION LOAD/DELETE are noscript).
                    FunctionCommands.WriteStats(w, this);
                }
                else if (n == 2 && Ascii.EqualsIgnoreCase(name, "shutdown"u8) && Ascii.EqualsIgnoreCase(sub, "nosave"u8))
                {
                    run.KillRequested = true;
                    Server.ShutdownRequested.TrySetResult(0);
                }
                else w.WriteError(run.IsEval ? BusyEval : BusyFunction);
            }
            _busyReplies.Enqueue((client, w.WrittenSpan.ToArray()));
            return true;
        }
    }
}
