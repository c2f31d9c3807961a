using Basalt.Server.Persistence;
using Basalt.Server.Persistence.Rdb;

namespace Basalt.Server.Replication;

/// <summary>Where replication gets its RDB snapshots from (the forkless coordinator) and how a replica loads one.</summary>
internal static class ReplicationSnapshot
{
    /// <summary>True when a snapshot (BGSAVE, AOF rewrite) already runs: full syncs wait for the next one.</summary>
    public static bool Busy(RedisServer server) => server.Snapshot.Active;

    /// <summary>Under the execution lock: starts a point-in-time RDB snapshot of the keyspace into <paramref name="target"/>.</summary>
    public static bool TryStart(RedisServer server, ISnapshotTarget target, string replId, long offset, out string? error)
    {
        // Like Redis, the replication RDB names the stream it belongs to.
        KeyValuePair<string, string>[] aux =
        [
            new("repl-stream-db", "0"),
            new("repl-id", replId),
            new("repl-offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ];
        return server.Snapshot.TryStart(s => new RdbSnapshotFormat(s, server, aux), target, out error);
    }

    /// <summary>Under the execution lock, on an emptied keyspace: loads an RDB received from the master.</summary>
    public static RdbLoadResult Load(Stream input, RedisServer server)
    {
        // Keys already expired stay: the master's DELs remove them (reads hide them meanwhile).
        return RdbFile.Load(input, server, new RdbLoadOptions { KeepExpired = true });
    }
}
