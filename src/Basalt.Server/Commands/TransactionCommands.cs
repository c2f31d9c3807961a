using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>
/// MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queueing itself happens in the dispatcher (every command but
/// these and QUIT/RESET is queued while in MULTI); the state lives in <see cref="Transactions.TransactionState"/>.
/// </summary>
public static class TransactionCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("multi", 1, NoScript | Loading | Stale | Fast | AllowBusy, 0, 0, 0, Multi);
        t.Add("exec", 1, NoScript | Loading | Stale | SkipSlowlog, 0, 0, 0, Exec);
        t.Add("discard", 1, NoScript | Loading | Stale | Fast | AllowBusy, 0, 0, 0, Discard);
        t.Add("watch", -2, NoScript | Loading | Stale | Fast | AllowBusy, 1, -1, 1, Watch);
        t.Add("unwatch", 1, NoScript | Loading | Stale | Fast | AllowBusy, 0, 0, 0, Unwatch);
    }

    private static Transactions.TransactionState State(CommandContext ctx) => ctx.Server.Dispatcher.Transactions;

    private static void Multi(CommandContext ctx)
    {
        if (ctx.Client.Has(ClientFlags.Multi)) { ctx.Reply.WriteError("ERR MULTI calls can not be nested"); return; }
        State(ctx).BeginMulti(ctx.Client);
        ctx.Reply.WriteOk();
    }

    private static void Discard(CommandContext ctx)
    {
        if (!ctx.Client.Has(ClientFlags.Multi)) { ctx.Reply.WriteError("ERR DISCARD without MULTI"); return; }
        State(ctx).Discard(ctx.Client);
        ctx.Reply.WriteOk();
    }

    private static void Watch(CommandContext ctx)
    {
        var c = ctx.Client;
        if (c.Has(ClientFlags.Multi)) { ctx.Reply.WriteError("ERR WATCH inside MULTI is not allowed"); return; }
        var tx = State(ctx);
        // Already doomed: watching more keys changes nothing.
        if (!tx.IsDirtyCas(c))
        {
            for (int i = 1; i < ctx.Count; i++) tx.Watch(c, c.DbIndex, ctx.Arg(i));
        }
        ctx.Reply.WriteOk();
    }

    private static void Unwatch(CommandContext ctx)
    {
        State(ctx).Unwatch(ctx.Client);
        ctx.Reply.WriteOk();
    }

    private static void Exec(CommandContext ctx)
    {
        var c = ctx.Client;
        var tx = State(ctx);
        var s = tx.Get(c);
        if (s is null || !s.InMulti || !c.Has(ClientFlags.Multi)) { ctx.Reply.WriteError("ERR EXEC without MULTI"); return; }

        if (!s.DirtyCas && tx.AnyWatchedKeyExpired(s)) s.DirtyCas = true;
        // A queueing error wins over a touched key.
        if (s.DirtyExec)
        {
            ctx.Reply.WriteError("EXECABORT Transaction discarded because of previous errors.");
            tx.Discard(c);
            return;
        }
        if (s.DirtyCas)
        {
            ctx.Reply.WriteNullArray();
            tx.Discard(c);
            return;
        }
        tx.UnwatchAll(s);

        // Propagation/AOF hook point: the commands below form one atomic unit; when replication lands, the writes
        // among them (s.QueuedFlags tells whether there are any) must be wrapped in MULTI ... EXEC as a block.
        tx.ExecutedTransactions++;
        var queue = s.Queue!;
        ctx.Reply.WriteArrayHeader(queue.Count);
        // The Multi flag stays set while they run (MONITOR and blocking commands refuse/never block inside EXEC).
        var dispatcher = ctx.Server.Dispatcher;
        for (int i = 0; i < queue.Count; i++)
        {
            var q = queue[i];
            dispatcher.ExecuteStored(c, q.Buffer, q.Args, q.Args.Length);
        }
        tx.Discard(c);
    }
}
