using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>SAVE and BGSAVE (LASTSAVE lives with the server commands).</summary>
public static class PersistenceCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("save", 1, Admin | NoScript | NoAsyncLoading | NoMulti, 0, 0, 0, Save);
        t.Add("bgsave", -1, Admin | NoScript | NoAsyncLoading, 0, 0, 0, Bgsave);
    }

    private static void Save(CommandContext ctx)
    {
        var rdb = ctx.Server.Rdb;
        if (rdb.BgsaveInProgress)
        {
            ctx.Reply.WriteError("ERR Background save already in progress");
            return;
        }
        if (rdb.SaveBlocking()) ctx.Reply.WriteOk();
        else ctx.Reply.WriteError("ERR");
    }

    private static void Bgsave(CommandContext ctx)
    {
        bool schedule = false;
        if (ctx.Count > 1)
        {
            if (ctx.Count == 2 && ctx.ArgIs(1, "schedule"u8)) schedule = true;
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        var rdb = ctx.Server.Rdb;
        if (rdb.BgsaveInProgress)
        {
            ctx.Reply.WriteError("ERR Background save already in progress");
            return;
        }
        if (ctx.Server.Snapshot.Active)
        {
            // Another snapshot (an AOF rewrite) holds the walk: Redis's "another child" case.
            if (schedule)
            {
                rdb.BgsaveScheduled = true;
                ctx.Reply.WriteSimpleString("Background saving scheduled"u8);
            }
            else ctx.Reply.WriteError("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
            return;
        }
        var error = rdb.StartBackground();
        if (error is null) ctx.Reply.WriteSimpleString("Background saving started"u8);
        else ctx.Reply.WriteError(error);
    }
}
