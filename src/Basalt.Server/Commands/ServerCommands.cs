using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>Server-wide commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, LASTSAVE, SHUTDOWN.</summary>
public static class ServerCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("dbsize", 1, ReadOnly | Fast, 0, 0, 0, ctx => ctx.Reply.WriteInteger(ctx.Db.Count));
        t.Add("flushdb", -1, Write, 0, 0, 0, FlushDb);
        t.Add("flushall", -1, Write, 0, 0, 0, FlushAll);
        t.Add("swapdb", 3, Write | Fast, 0, 0, 0, SwapDb);
        t.Add("lastsave", 1, Loading | Stale | Fast, 0, 0, 0, ctx => ctx.Reply.WriteInteger(ctx.Server.LastSaveUnix));
        t.Add("time", 1, Loading | Stale | Fast, 0, 0, 0, Time);
        t.Add("shutdown", -1, Admin | NoScript | Loading | Stale | NoMulti | Sentinel | AllowBusy, 0, 0, 0, ShutdownCmd);
    }

    /// <summary>FLUSHDB/FLUSHALL take an optional ASYNC or SYNC; anything else is a syntax error.</summary>
    private static bool ParseFlushMode(CommandContext ctx)
    {
        if (ctx.Count == 1) return true;
        if (ctx.Count == 2 && (ctx.ArgIs(1, "async"u8) || ctx.ArgIs(1, "sync"u8))) return true;
        ctx.SyntaxError();
        return false;
    }

    private static void FlushDb(CommandContext ctx)
    {
        if (!ParseFlushMode(ctx)) return;
        var db = ctx.Db;
        // Propagated even when the database was already empty, as Redis forces it.
        if (db.Count == 0 && Rewrites.Begin(ctx)) ctx.Propagator.PropagateAsReceived(ctx);
        ctx.Server.Dirty += db.Count;
        db.Clear();
        ctx.Server.DatabaseFlushed?.Invoke(db.Index);
        ctx.Reply.WriteOk();
    }

    private static void FlushAll(CommandContext ctx)
    {
        if (!ParseFlushMode(ctx)) return;
        foreach (var db in ctx.Server.Databases)
        {
            ctx.Server.Dirty += db.Count;
            db.Clear();
        }
        // As Redis 7.0: a running BGSAVE is abandoned and, with save points configured, the empty dataset is saved now.
        var rdb = ctx.Server.Rdb;
        if (rdb.BgsaveInProgress) ctx.Server.Snapshot.Cancel();
        if (ctx.Server.Config.SavePoints.Count > 0)
        {
            long dirty = ctx.Server.Dirty;
            rdb.SaveBlocking();
            ctx.Server.Dirty = dirty; // the FLUSHALL must still propagate
        }
        ctx.Server.Dirty++;
        ctx.Server.DatabaseFlushed?.Invoke(-1);
        ctx.Reply.WriteOk();
    }

    private static void SwapDb(CommandContext ctx)
    {
        if (!KeyCommands.GetIntOrReply(ctx, 1, out int a, "ERR invalid first DB index")) return;
        if (!KeyCommands.GetIntOrReply(ctx, 2, out int b, "ERR invalid second DB index")) return;
        var dbs = ctx.Server.Databases;
        if (a < 0 || a >= dbs.Length || b < 0 || b >= dbs.Length) { ctx.Reply.WriteError(Errors.DbIndexOutOfRange); return; }
        if (a != b)
        {
            dbs[a].SwapWith(dbs[b]);
            ctx.Server.DatabasesSwapped?.Invoke(a, b);
        }
        ctx.Server.Dirty++;
        ctx.Reply.WriteOk();
    }

    private static void Time(CommandContext ctx)
    {
        long us = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        ctx.Reply.WriteArrayHeader(2);
        ctx.Reply.WriteBulkInteger(us / 1_000_000);
        ctx.Reply.WriteBulkInteger(us % 1_000_000);
    }

    private static void ShutdownCmd(CommandContext ctx)
    {
        bool abort = false, save = false, nosave = false, force = false;
        for (int i = 1; i < ctx.Count; i++)
        {
            if (ctx.ArgIs(i, "nosave"u8)) { nosave = true; continue; }
            if (ctx.ArgIs(i, "save"u8)) { save = true; continue; }
            if (ctx.ArgIs(i, "force"u8)) { force = true; continue; }
            if (ctx.ArgIs(i, "now"u8)) continue;
            if (ctx.ArgIs(i, "abort"u8)) { abort = true; continue; }
            ctx.SyntaxError();
            return;
        }
        if (abort)
        {
            ctx.Reply.WriteError("ERR No shutdown in progress.");
            return;
        }
        if (save && nosave)
        {
            ctx.SyntaxError();
            return;
        }
        // The final save happens here, under the lock, so a failure can still be reported (unless FORCE).
        var server = ctx.Server;
        if (server.Loading.Loading) { save = false; nosave = true; } // never save a half-loaded dataset (as Redis)
        if (!nosave && (save || server.Config.SavePoints.Count > 0))
        {
            if (server.Rdb.BgsaveInProgress) server.Snapshot.Cancel();
            Log.Notice("Saving the final RDB snapshot before exiting.");
            if (!server.Rdb.SaveBlocking() && !force)
            {
                Log.Warning("Error trying to save the DB, can't exit.");
                ctx.Reply.WriteError("ERR Errors trying to SHUTDOWN. Check logs.");
                return;
            }
        }
        server.ShutdownSaveHandled = true;
        // The connection is closed by the shutdown itself; Redis sends no reply on success.
        server.ShutdownRequested.TrySetResult(0);
    }
}
