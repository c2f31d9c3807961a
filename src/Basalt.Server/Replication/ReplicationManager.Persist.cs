namespace Basalt.Server.Replication;

/// <summary>Replication info kept in RDB files (repl-stream-db, repl-id, repl-offset) so a restart can resume the history.</summary>
public sealed partial class ReplicationManager
{
    /// <summary>
    /// Under the lock, at a snapshot's point in time: the aux fields naming the stream the dataset belongs to, or
    /// none when we have no history to continue (a master without backlog, a replica that never synced).
    /// </summary>
    public KeyValuePair<string, string>[]? SaveInfoAux()
    {
        int db;
        if (Link is { } link)
        {
            if (!link.CanPsync) return null;
            db = link.MasterClient?.DbIndex ?? link.LastMasterDb;
        }
        else
        {
            if (_backlog is null) return null;
            db = _selectedDb == -1 ? 0 : _selectedDb;
        }
        return
        [
            new("repl-stream-db", Fmt(db)),
            new("repl-id", ReplId),
            new("repl-offset", Fmt(MasterReplOffset)),
        ];
    }

    /// <summary>
    /// At start-up, after the RDB was loaded: a replica takes the saved id/offset as its own (its first PSYNC asks to
    /// continue there); a master keeps the saved history reachable as replid2, with a fresh backlog at that offset.
    /// </summary>
    private bool RestoreFromRdb(bool replica)
    {
        var aux = _server.Rdb.LoadedAux;
        if (aux is null || !aux.TryGetValue("repl-id", out var id) || id.Length != 40
            || !aux.TryGetValue("repl-offset", out var off) || !long.TryParse(off, out long offset) || offset < 0
            || !aux.TryGetValue("repl-stream-db", out var dbText) || !int.TryParse(dbText, out int db))
            return false;
        if (replica)
        {
            ReplId = id;
            ClearReplId2();
            _offsetWithoutBacklog = offset;
            _restoredDb = db;
            return true;
        }
        ReplId2 = id;
        SecondReplOffset = offset + 1;
        _offsetWithoutBacklog = offset;
        CreateBacklog();
        _noReplicasSinceMs = Environment.TickCount64;
        return true;
    }

    private int _restoredDb;
}
