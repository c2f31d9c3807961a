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

    /// <summary>
    /// Off the execution lock: parses an RDB from the master into fresh databases that nobody sees, so the live
    /// dataset is never half loaded. <see cref="Install"/> makes it the dataset under the lock.
    /// </summary>
    public static LoadedDataset LoadAside(Stream input, RedisServer server)
    {
        var dbs = new Keyspace.Database[server.Databases.Length];
        for (int i = 0; i < dbs.Length; i++) dbs[i] = new Keyspace.Database(i);
        var libraries = new List<byte[]>();
        // Keys already expired stay: the master's DELs remove them (reads hide them meanwhile).
        var result = RdbFile.Load(input, server, new RdbLoadOptions { KeepExpired = true, Target = dbs, OnFunctionLibrary = libraries.Add });
        return new LoadedDataset(dbs, libraries, result);
    }

    /// <summary>Under the execution lock: the loaded dataset (and its function libraries) replaces the current one at once.</summary>
    public static void Install(RedisServer server, LoadedDataset loaded)
    {
        for (int i = 0; i < server.Databases.Length; i++)
        {
            server.Databases[i].Clear(); // WATCH sees the keys that go
            server.Databases[i].SwapWith(loaded.Databases[i]);
        }
        server.DatabaseFlushed?.Invoke(-1);
        var functions = Scripting.ScriptingState.For(server).Functions;
        functions.Flush(); // the master's libraries replace ours
        foreach (var code in loaded.Libraries)
            if (functions.Load(System.Text.Encoding.UTF8.GetString(code), replace: true, out var error) is null)
                Log.Warning("Failed loading a function library from the MASTER synchronization DB: " + error);
    }

    /// <summary>Under the execution lock: empties every database (before loading, as Redis frees the old data first).</summary>
    public static void Flush(RedisServer server)
    {
        foreach (var db in server.Databases) db.Clear();
        server.DatabaseFlushed?.Invoke(-1);
    }
}

internal sealed record LoadedDataset(Keyspace.Database[] Databases, List<byte[]> Libraries, RdbLoadResult Result);
