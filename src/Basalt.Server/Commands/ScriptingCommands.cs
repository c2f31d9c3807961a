using Basalt.Server.Scripting;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD, EXISTS, FLUSH, KILL, DEBUG, HELP).</summary>
public static class ScriptingCommands
{
    public static void Register(CommandTable t)
    {
        const CommandFlags evalFlags = NoScript | Stale | SkipMonitor | NoMandatoryKeys;
        t.Add("eval", -3, evalFlags, 0, 0, 0, ctx => Eval(ctx, bySha: false, readOnly: false));
        t.Add("evalsha", -3, evalFlags, 0, 0, 0, ctx => Eval(ctx, bySha: true, readOnly: false));
        t.Add("eval_ro", -3, evalFlags | ReadOnly, 0, 0, 0, ctx => Eval(ctx, bySha: false, readOnly: true));
        t.Add("evalsha_ro", -3, evalFlags | ReadOnly, 0, 0, 0, ctx => Eval(ctx, bySha: true, readOnly: true));

        var s = t.AddContainer("script", -2);
        CommandTable.AddSub(s, "load", 3, NoScript | Stale, 0, 0, 0, Load);
        CommandTable.AddSub(s, "exists", -3, NoScript, 0, 0, 0, Exists);
        CommandTable.AddSub(s, "flush", -2, NoScript, 0, 0, 0, Flush);
        CommandTable.AddSub(s, "kill", 2, NoScript | AllowBusy, 0, 0, 0, Kill);
        CommandTable.AddSub(s, "debug", 3, NoScript, 0, 0, 0, Debug);
        CommandTable.AddSub(s, "help", 2, Loading | Stale, 0, 0, 0, Help);
    }

    internal const string RoWithWriteFlag = "ERR Can not execute a script with write flag using *_ro command.";

    /// <summary>Parses numkeys at argument 2 as EVAL does; false once it replied an error.</summary>
    internal static bool ParseNumKeys(CommandContext ctx, string notInteger, out int numKeys)
    {
        numKeys = 0;
        if (!ctx.TryArgInt64(2, out long n)) { ctx.Reply.WriteError(notInteger); return false; }
        if (n > ctx.Count - 3) { ctx.Reply.WriteError("ERR Number of keys can't be greater than number of args"); return false; }
        if (n < 0) { ctx.Reply.WriteError("ERR Number of keys can't be negative"); return false; }
        numKeys = (int)n;
        return true;
    }

    private static void Eval(CommandContext ctx, bool bySha, bool readOnly)
    {
        if (!ParseNumKeys(ctx, Errors.NotInteger, out int numKeys)) return;
        var state = ScriptingState.For(ctx.Server);
        ScriptingState.CachedScript? script;
        string sha;
        if (bySha)
        {
            script = state.FindScript(ctx.Arg(1));
            if (script is null) { ctx.Reply.WriteError("NOSCRIPT No matching script. Please use EVAL."); return; }
            sha = script.Sha;
        }
        else
        {
            script = state.LoadScript(ctx.Arg(1), out sha, out var error);
            if (script is null) { ctx.Reply.WriteError(error!); return; }
        }
        var flags = script.Flags;
        bool ro = readOnly;
        if ((flags & ScriptFlags.EvalCompat) == 0)
        {
            bool noWrites = (flags & ScriptFlags.NoWrites) != 0;
            if (readOnly && !noWrites) { ctx.Reply.WriteError(RoWithWriteFlag); return; }
            if (!noWrites && (flags & ScriptFlags.AllowOom) == 0 && ctx.Server.Config.MaxMemory > 0
                && ctx.Server.Dispatcher.Evictor.Perform() == Eviction.EvictionResult.Fail)
            {
                ctx.Reply.WriteError(Eviction.Evictor.OomError);
                return;
            }
            ro |= noWrites;
        }
        var run = state.EvalRun;
        run.Reset(sha, isEval: true, flags, ro);
        state.Run(ctx, run, script.Ref, 3, numKeys);
    }

    private static void Load(CommandContext ctx)
    {
        var state = ScriptingState.For(ctx.Server);
        var script = state.LoadScript(ctx.Arg(2), out var sha, out var error);
        if (script is null) { ctx.Reply.WriteError(error!); return; }
        ctx.Reply.WriteBulk(sha);
    }

    private static void Exists(CommandContext ctx)
    {
        var state = ScriptingState.Peek(ctx.Server);
        ctx.Reply.WriteArrayHeader(ctx.Count - 2);
        for (int i = 2; i < ctx.Count; i++) ctx.Reply.WriteInteger(state?.ScriptExists(ctx.Arg(i)) == true ? 1 : 0);
    }

    private static void Flush(CommandContext ctx)
    {
        if (ctx.Count > 3 || (ctx.Count == 3 && !ctx.ArgIs(2, "sync"u8) && !ctx.ArgIs(2, "async"u8)))
        {
            ctx.Reply.WriteError("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            return;
        }
        ScriptingState.Peek(ctx.Server)?.FlushScripts();
        ctx.Reply.WriteOk();
    }

    private static void Kill(CommandContext ctx)
    {
        var state = ScriptingState.Peek(ctx.Server);
        var error = state is null ? "NOTBUSY No scripts in execution right now." : state.Kill(fromScriptKill: true);
        if (error is null) ctx.Reply.WriteOk(); else ctx.Reply.WriteError(error);
    }

    private static void Debug(CommandContext ctx)
    {
        if (ctx.ArgIs(2, "no"u8)) { ctx.Reply.WriteOk(); return; }
        if (ctx.ArgIs(2, "yes"u8) || ctx.ArgIs(2, "sync"u8)) { ctx.Reply.WriteError("ERR The Lua debugger is not supported by this server"); return; }
        ctx.Reply.WriteError("ERR Use SCRIPT DEBUG YES/SYNC/NO");
    }

    private static readonly string[] HelpLines =
    [
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    ];

    private static void Help(CommandContext ctx)
    {
        ctx.Reply.WriteArrayHeader(HelpLines.Length);
        foreach (var l in HelpLines) ctx.Reply.WriteSimpleString(l);
    }
}
