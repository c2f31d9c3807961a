using System.Diagnostics;

namespace Basalt.Server.Scripting;

/// <summary>Script flags (shebang flags=... and function flags), as Redis numbers them internally.</summary>
[Flags]
public enum ScriptFlags
{
    None = 0,
    NoWrites = 1,
    AllowOom = 2,
    AllowStale = 4,
    NoCluster = 8,
    AllowCrossSlotKeys = 16,
    /// <summary>An EVAL script without a shebang: the pre-7.0 rules (writes checked per command).</summary>
    EvalCompat = 1 << 10,
}

/// <summary>redis.set_repl flags.</summary>
[Flags]
public enum ReplicationFlags { None = 0, Aof = 1, Replica = 2, All = 3 }

/// <summary>
/// The state of the script being executed (or the library being loaded): who called it, its rules,
/// what it did so far, and the kill switch that other connections flip while it is busy.
/// </summary>
public sealed class ScriptRun
{
    internal ScriptRun(ScriptingState state, LuaEngine engine) { State = state; Engine = engine; }

    public ScriptingState State { get; }
    internal LuaEngine Engine { get; }

    /// <summary>SHA1 of the script or the function name (error messages, FUNCTION STATS).</summary>
    public string Name { get; internal set; } = "";
    public bool IsEval { get; internal set; }
    public Client Caller { get; internal set; } = null!;
    public ScriptFlags Flags { get; internal set; }
    /// <summary>EVAL_RO / FCALL_RO or a no-writes script.</summary>
    public bool ReadOnly { get; internal set; }
    /// <summary>Over maxmemory when the script started: deny-oom commands fail until the script writes.</summary>
    public bool Oom { get; internal set; }
    /// <summary>A write command was executed: SCRIPT KILL answers UNKILLABLE.</summary>
    public bool Wrote { get; internal set; }
    /// <summary>redis.setresp: the protocol of replies that redis.call converts and of booleans returned.</summary>
    public int Resp { get; internal set; } = 2;
    /// <summary>redis.set_repl: where the script's writes should propagate (default everywhere).</summary>
    public ReplicationFlags ReplicationFlags { get; internal set; } = ReplicationFlags.All;
    /// <summary>Arguments of the calling command, for FUNCTION STATS.</summary>
    public string[] Command { get; internal set; } = [];
    /// <summary>True while registering a function library (no redis.call, no kill).</summary>
    public bool Loading { get; internal set; }

    /// <summary>Clears what one execution changed, so the object is reused call after call.</summary>
    internal void Reset(string name, bool isEval, ScriptFlags flags, bool readOnly)
    {
        Name = name;
        IsEval = isEval;
        Flags = flags;
        ReadOnly = readOnly;
        Oom = Wrote = Killed = KillRequested = false;
        Resp = 2;
        ReplicationFlags = ReplicationFlags.All;
        Command = [];
    }

    internal long StartTimestamp;
    internal volatile bool KillRequested;
    internal bool Killed;

    public long ElapsedMs => (long)Stopwatch.GetElapsedTime(StartTimestamp).TotalMilliseconds;
}
