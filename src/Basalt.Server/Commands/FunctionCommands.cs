using System.Text;
using Basalt.Server.Scripting;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>FCALL, FCALL_RO and FUNCTION (LOAD, DELETE, FLUSH, LIST, STATS, KILL, DUMP, RESTORE, HELP).</summary>
public static class FunctionCommands
{
    public static void Register(CommandTable t)
    {
        const CommandFlags fcallFlags = NoScript | Stale | SkipMonitor | NoMandatoryKeys;
        t.Add("fcall", -3, fcallFlags, 0, 0, 0, ctx => FCall(ctx, readOnly: false));
        t.Add("fcall_ro", -3, fcallFlags | ReadOnly, 0, 0, 0, ctx => FCall(ctx, readOnly: true));

        var f = t.AddContainer("function", -2);
        CommandTable.AddSub(f, "load", -3, Write | DenyOom | NoScript, 0, 0, 0, Load);
        CommandTable.AddSub(f, "delete", 3, Write | NoScript, 0, 0, 0, Delete);
        CommandTable.AddSub(f, "flush", -2, Write | NoScript, 0, 0, 0, Flush);
        CommandTable.AddSub(f, "list", -2, NoScript, 0, 0, 0, List);
        CommandTable.AddSub(f, "stats", 2, NoScript | AllowBusy, 0, 0, 0, Stats);
        CommandTable.AddSub(f, "kill", 2, NoScript | AllowBusy, 0, 0, 0, Kill);
        CommandTable.AddSub(f, "dump", 2, NoScript, 0, 0, 0, Dump);
        CommandTable.AddSub(f, "restore", -3, Write | DenyOom | NoScript, 0, 0, 0, Restore);
        CommandTable.AddSub(f, "help", 2, Loading | Stale, 0, 0, 0, Help);
    }

    private static void FCall(CommandContext ctx, bool readOnly)
    {
        if (!ScriptingCommands.ParseNumKeys(ctx, "ERR Bad number of keys provided", out int numKeys)) return;
        var state = ScriptingState.Peek(ctx.Server);
        var fn = state?.Functions.Find(ctx.Arg(1));
        if (fn is null) { ctx.Reply.WriteError("ERR Function not found"); return; }
        bool noWrites = (fn.Flags & ScriptFlags.NoWrites) != 0;
        if (readOnly && !noWrites) { ctx.Reply.WriteError(ScriptingCommands.RoWithWriteFlag); return; }
        if (!noWrites && (fn.Flags & ScriptFlags.AllowOom) == 0 && ctx.Server.Config.MaxMemory > 0
            && ctx.Server.Dispatcher.Evictor.Perform() == Eviction.EvictionResult.Fail)
        {
            ctx.Reply.WriteError(Eviction.Evictor.OomError);
            return;
        }
        var run = state!.FunctionRun;
        run.Reset(fn.Name, isEval: false, fn.Flags, readOnly || noWrites);
        var command = new string[ctx.Count];
        for (int i = 0; i < command.Length; i++) command[i] = ctx.ArgString(i);
        run.Command = command;
        state.Run(ctx, run, fn.Ref, 3, numKeys);
    }

    private static void Load(CommandContext ctx)
    {
        bool replace = false;
        int i = 2;
        for (; i < ctx.Count - 1; i++)
        {
            if (ctx.ArgIs(i, "replace"u8)) replace = true;
            else { ctx.Reply.WriteError("ERR Unknown option given: " + ctx.ArgString(i)); return; }
        }
        if (i != ctx.Count - 1) { ctx.Reply.WriteError("ERR Function code is missing"); return; }
        var state = ScriptingState.For(ctx.Server);
        var name = state.Functions.Load(ctx.ArgString(i), replace, out var error);
        if (name is null) { ctx.Reply.WriteError(error!); return; }
        ctx.Server.Dirty++;
        ctx.Reply.WriteBulk(name);
    }

    private static void Delete(CommandContext ctx)
    {
        var state = ScriptingState.Peek(ctx.Server);
        if (state is null || !state.Functions.Delete(ctx.ArgString(2))) { ctx.Reply.WriteError("ERR Library not found"); return; }
        ctx.Server.Dirty++;
        ctx.Reply.WriteOk();
    }

    private static void Flush(CommandContext ctx)
    {
        if (ctx.Count > 3 || (ctx.Count == 3 && !ctx.ArgIs(2, "sync"u8) && !ctx.ArgIs(2, "async"u8)))
        {
            ctx.Reply.WriteError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
            return;
        }
        ScriptingState.Peek(ctx.Server)?.Functions.Flush();
        ctx.Server.Dirty++;
        ctx.Reply.WriteOk();
    }

    private static void List(CommandContext ctx)
    {
        bool withCode = false;
        string? pattern = null;
        for (int i = 2; i < ctx.Count; i++)
        {
            if (ctx.ArgIs(i, "withcode"u8) && !withCode) withCode = true;
            else if (ctx.ArgIs(i, "libraryname"u8) && pattern is null)
            {
                if (i + 1 >= ctx.Count) { ctx.Reply.WriteError("ERR library name argument was not given"); return; }
                pattern = ctx.ArgString(++i);
            }
            else { ctx.Reply.WriteError("ERR Unknown argument " + ctx.ArgString(i)); return; }
        }
        var libs = new List<FunctionLibrary>();
        var state = ScriptingState.Peek(ctx.Server);
        if (state is not null)
            foreach (var l in state.Functions.Libraries)
                if (pattern is null || Keyspace.Glob.Match(pattern, l.Name, nocase: false)) libs.Add(l);
        var w = ctx.Reply;
        w.WriteArrayHeader(libs.Count);
        foreach (var l in libs)
        {
            w.WriteMapHeader(withCode ? 4 : 3);
            w.WriteBulk("library_name"u8); w.WriteBulk(l.Name);
            w.WriteBulk("engine"u8); w.WriteBulk("LUA"u8);
            w.WriteBulk("functions"u8);
            w.WriteArrayHeader(l.Functions.Count);
            foreach (var f in l.Functions)
            {
                w.WriteMapHeader(3);
                w.WriteBulk("name"u8); w.WriteBulk(f.Name);
                w.WriteBulk("description"u8);
                if (f.Description is null) w.WriteNull(); else w.WriteBulk(f.Description);
                w.WriteBulk("flags"u8);
                var names = FlagNames(f.Flags);
                w.WriteSetHeader(names.Count);
                foreach (var n in names) w.WriteSimpleString(n);
            }
            if (withCode) { w.WriteBulk("library_code"u8); w.WriteBulk(l.Code); }
        }
    }

    private static List<string> FlagNames(ScriptFlags flags)
    {
        var names = new List<string>();
        if ((flags & ScriptFlags.NoWrites) != 0) names.Add("no-writes");
        if ((flags & ScriptFlags.AllowOom) != 0) names.Add("allow-oom");
        if ((flags & ScriptFlags.AllowStale) != 0) names.Add("allow-stale");
        if ((flags & ScriptFlags.NoCluster) != 0) names.Add("no-cluster");
        if ((flags & ScriptFlags.AllowCrossSlotKeys) != 0) names.Add("allow-cross-slot-keys");
        return names;
    }

    private static void Stats(CommandContext ctx)
    {
        var state = ScriptingState.Peek(ctx.Server);
        WriteStats(ctx.Reply, state);
    }

    /// <summary>Also used while a function is busy (read-only fields of the running script).</summary>
    internal static void WriteStats(Basalt.Protocol.RespWriter w, ScriptingState? state)
    {
        w.WriteMapHeader(2);
        w.WriteBulk("running_script"u8);
        var run = state?.Running;
        if (run is null || run.IsEval || run.Loading) w.WriteNull();
        else
        {
            w.WriteMapHeader(3);
            w.WriteBulk("name"u8); w.WriteBulk(run.Name);
            w.WriteBulk("command"u8);
            w.WriteArrayHeader(run.Command.Length);
            foreach (var a in run.Command) w.WriteBulk(a);
            w.WriteBulk("duration_ms"u8); w.WriteInteger(run.ElapsedMs);
        }
        w.WriteBulk("engines"u8);
        w.WriteMapHeader(1);
        w.WriteBulk("LUA"u8);
        w.WriteMapHeader(2);
        w.WriteBulk("libraries_count"u8); w.WriteInteger(state?.Functions.Libraries.Count ?? 0);
        w.WriteBulk("functions_count"u8); w.WriteInteger(state?.Functions.FunctionCount ?? 0);
    }

    private static void Kill(CommandContext ctx)
    {
        var state = ScriptingState.Peek(ctx.Server);
        var error = state is null ? "NOTBUSY No scripts in execution right now." : state.Kill(fromScriptKill: false);
        if (error is null) ctx.Reply.WriteOk(); else ctx.Reply.WriteError(error);
    }

    private static void Dump(CommandContext ctx)
    {
        var state = ScriptingState.Peek(ctx.Server);
        var codes = new List<string>();
        if (state is not null) foreach (var (_, code) in state.Functions.All) codes.Add(code);
        ctx.Reply.WriteBulk(FunctionDump.Serialize(codes));
    }

    private static void Restore(CommandContext ctx)
    {
        string policy = "APPEND";
        if (ctx.Count > 4) { ctx.Reply.WriteError(Errors.Syntax); return; }
        if (ctx.Count == 4)
        {
            if (ctx.ArgIs(3, "flush"u8)) policy = "FLUSH";
            else if (ctx.ArgIs(3, "append"u8)) policy = "APPEND";
            else if (ctx.ArgIs(3, "replace"u8)) policy = "REPLACE";
            else { ctx.Reply.WriteError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."); return; }
        }
        var codes = FunctionDump.Deserialize(ctx.Arg(2), out var error);
        if (codes is null) { ctx.Reply.WriteError(error!); return; }
        var state = ScriptingState.For(ctx.Server);
        error = state.Functions.Restore(codes, policy);
        if (error is not null) { ctx.Reply.WriteError(error); return; }
        ctx.Server.Dirty++;
        ctx.Reply.WriteOk();
    }

    private static readonly string[] HelpLines =
    [
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    ];

    private static void Help(CommandContext ctx)
    {
        ctx.Reply.WriteArrayHeader(HelpLines.Length);
        foreach (var l in HelpLines) ctx.Reply.WriteSimpleString(l);
    }
}
