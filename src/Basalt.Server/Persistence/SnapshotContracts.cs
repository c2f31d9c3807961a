namespace Basalt.Server.Persistence;

/// <summary>
/// Turns the keyspace into bytes: RDB (BGSAVE, full sync, AOF base with preamble) or AOF commands (AOF base
/// without preamble). All calls come under the execution lock, in this order: Begin, then for each database with
/// keys SelectDb followed by its entries — entries of a database may also arrive later, after another SelectDb,
/// when a write forces a key out early — then End. The format writes to the stream it was created with.
/// </summary>
public interface ISnapshotFormat
{
    void Begin();
    void SelectDb(int db, long keys, long expires);
    /// <summary>One key; <paramref name="accessStamp"/> is its LRU clock or LFU counter field (KeyTable meta).</summary>
    void Entry(ReadOnlySpan<byte> key, object value, long expireAtMs, uint accessStamp);
    void End();
    /// <summary>Pushes internally buffered bytes to the stream (the snapshot thread then takes them).</summary>
    void Flush();
}

/// <summary>
/// Receives a background snapshot's bytes on the snapshot thread, outside the execution lock
/// (a file, replica sockets). <see cref="Complete"/> is called once: ok=false when the snapshot failed or was cancelled.
/// </summary>
public interface ISnapshotTarget
{
    void Write(ReadOnlySpan<byte> chunk);
    void Complete(bool ok, Exception? error);
}
