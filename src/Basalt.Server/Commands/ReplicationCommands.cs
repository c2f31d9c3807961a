using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>REPLICAOF/SLAVEOF, ROLE, REPLCONF, PSYNC, SYNC, WAIT, FAILOVER: thin wrappers over the replication manager.</summary>
public static class ReplicationCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("replicaof", 3, Admin | NoScript | Stale | NoAsyncLoading, 0, 0, 0, ctx => ctx.Server.Replicator.ReplicaOf(ctx));
        t.Add("slaveof", 3, Admin | NoScript | Stale | NoAsyncLoading, 0, 0, 0, ctx => ctx.Server.Replicator.ReplicaOf(ctx));
        t.Add("role", 1, NoScript | Loading | Stale | Fast, 0, 0, 0, ctx => ctx.Server.Replicator.Role(ctx));
        t.Add("replconf", -1, Admin | NoScript | Loading | Stale | AllowBusy, 0, 0, 0, ctx => ctx.Server.Replicator.ReplConf(ctx));
        t.Add("psync", -3, Admin | NoScript | NoAsyncLoading | NoMulti, 0, 0, 0, ctx => ctx.Server.Replicator.Sync(ctx, psync: true));
        t.Add("sync", 1, Admin | NoScript | NoAsyncLoading | NoMulti, 0, 0, 0, ctx => ctx.Server.Replicator.Sync(ctx, psync: false));
        t.Add("failover", -1, Admin | NoScript | Stale, 0, 0, 0, ctx => ctx.Server.Replicator.FailoverCommand(ctx));
        // Not flagged Blocking (COMMAND INFO matches Redis); the connection still ends its batch at WAIT.
        t.Add("wait", 3, NoScript, 0, 0, 0, ctx => ctx.Server.Replicator.Wait(ctx));
    }
}
