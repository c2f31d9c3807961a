using System.Text;

namespace Basalt.Server.Replication;

/// <summary>
/// The replica side of a full resynchronization, by repl-diskless-load: "disabled" stores the payload in a temp file
/// then loads it; "on-empty-db" parses it straight from the socket when we hold no keys (else as disabled); "swapdb"
/// parses it from the socket beside the current data, which stays (served when it is an earlier point of the same
/// history) and is replaced only once the new dataset is complete. Loading runs off the execution lock into
/// databases nobody sees, then is swapped in under the lock: a half-loaded dataset is never visible.
/// </summary>
public sealed partial class ReplicaLink
{
    private volatile bool _loadingFile; // the transfer is over: no transfer timeout while the file loads

    private async Task FullSyncAsync(string masterId, long masterOffset)
    {
        State = LinkState.Transfer;
        TransferLastIoMs = Environment.TickCount64;
        string header;
        do header = await ReadLineAsync().ConfigureAwait(false); while (header.Length == 0);
        if (header.StartsWith('-')) throw new IOException("MASTER aborted replication with an error: " + header);
        if (!header.StartsWith('$')) throw new IOException("Bad protocol from MASTER, the first byte is not '$' (we received '" + header + "')");
        byte[]? mark = null;
        if (header.StartsWith("$EOF:", StringComparison.Ordinal) && header.Length >= 45) { mark = Encoding.ASCII.GetBytes(header.Substring(5, 40)); TransferSize = 0; }
        else if (!long.TryParse(header.AsSpan(1), out TransferSize)) throw new IOException("Bad RDB size from master: " + header);
        TransferRead = 0;
        string mode = _server.Config.Get("repl-diskless-load");
        bool diskless, swap, async;
        lock (_server.ExecLock)
        {
            if (_stopped) return;
            swap = mode == "swapdb";
            diskless = swap || (mode == "on-empty-db" && _server.TotalKeys() == 0);
            // Our data is an earlier point of the history being loaded: it may keep being served meanwhile.
            async = swap && masterId == _m.ReplId;
        }
        try
        {
            if (diskless) await LoadFromSocketAsync(masterId, masterOffset, mark, swap, async).ConfigureAwait(false);
            else await LoadFromDiskAsync(masterId, masterOffset, mark).ConfigureAwait(false);
        }
        finally
        {
            TransferSize = -1;
        }
        // After an EOF-marked transfer the master starts the stream on our first ACK.
        SendAck();
    }

    private async Task LoadFromDiskAsync(string masterId, long masterOffset, byte[]? mark)
    {
        Log.Notice(mark is null ? $"MASTER <-> REPLICA sync: receiving {TransferSize} bytes from master to disk" : "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
        string path = Path.Combine(Directory.GetCurrentDirectory(), $"temp-{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Environment.ProcessId}.rdb");
        try
        {
            long length;
            await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024))
            {
                if (mark is null) await ReceiveCountedAsync(file, TransferSize).ConfigureAwait(false);
                else await ReceiveMarkedAsync(file, mark).ConfigureAwait(false);
                length = file.Length;
            }
            Log.Notice("MASTER <-> REPLICA sync: Flushing old data");
            lock (_server.ExecLock)
            {
                if (_stopped) return;
                FlushForLoading();
                _m.Loading.Begin(length, async: false);
            }
            Log.Notice("MASTER <-> REPLICA sync: Loading DB in memory");
            LoadedDataset loaded;
            _loadingFile = true;
            try
            {
                loaded = await Task.Factory.StartNew(() =>
                {
                    using var input = new ProgressStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024), _m.Loading);
                    return ReplicationSnapshot.LoadAside(input, _server);
                }, TaskCreationOptions.LongRunning).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Nothing of it became visible; the keyspace stays empty and the sync starts again.
                lock (_server.ExecLock) _m.Loading.End();
                Log.Warning("Failed trying to load the MASTER synchronization DB from disk: " + ex.Message);
                throw new IOException("loading the RDB from the master failed", ex);
            }
            finally
            {
                _loadingFile = false;
            }
            lock (_server.ExecLock)
            {
                if (_stopped) { _m.Loading.End(); return; }
                InstallLoaded(loaded, masterId, masterOffset);
                KeepOrDropSyncFile(path);
            }
            Log.Notice("MASTER <-> REPLICA sync: Finished with success");
        }
        finally
        {
            try { File.Delete(path); } catch { }
        }
    }

    private async Task LoadFromSocketAsync(string masterId, long masterOffset, byte[]? mark, bool swap, bool async)
    {
        Log.Notice(mark is null ? $"MASTER <-> REPLICA sync: receiving {TransferSize} bytes from master to parser" : "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to parser");
        lock (_server.ExecLock)
        {
            if (_stopped) return;
            if (!swap)
            {
                Log.Notice("MASTER <-> REPLICA sync: Flushing old data");
                FlushForLoading();
            }
            _m.Loading.Begin(TransferSize, async);
        }
        Log.Notice(async ? "MASTER <-> REPLICA sync: Loading DB in memory, serving the old data meanwhile" : "MASTER <-> REPLICA sync: Loading DB in memory");
        var payload = new SocketPayload(this, mark, TransferSize);
        LoadedDataset loaded;
        try
        {
            loaded = await Task.Factory.StartNew(() =>
            {
                var d = ReplicationSnapshot.LoadAside(payload, _server);
                payload.CheckEnd(d.Result.BytesRead);
                return d;
            }, TaskCreationOptions.LongRunning).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            lock (_server.ExecLock) _m.Loading.End();
            Log.Warning("Failed trying to load the MASTER synchronization DB from socket: " + ex.Message);
            if (swap) Log.Notice("MASTER <-> REPLICA sync: Discarding the half-loaded data, the old dataset stays");
            throw new IOException("loading the RDB from the master failed", ex);
        }
        lock (_server.ExecLock)
        {
            if (_stopped) { _m.Loading.End(); return; }
            InstallLoaded(loaded, masterId, masterOffset);
        }
        Log.Notice("MASTER <-> REPLICA sync: Finished with success");
    }

    /// <summary>Under the lock, before a load that replaces the data: nobody may continue our old history any more.</summary>
    private void FlushForLoading()
    {
        _m.DisconnectReplicas();
        CanPsync = false;
        ReplicationSnapshot.Flush(_server);
    }

    /// <summary>Under the lock: the loaded dataset becomes ours, and so does the master's history.</summary>
    private void InstallLoaded(LoadedDataset loaded, string masterId, long masterOffset)
    {
        _m.DisconnectReplicas(); // our replicas must resync with the new history too
        ReplicationSnapshot.Install(_server, loaded);
        _m.ResetHistory(masterId, masterOffset);
        CanPsync = true;
        Attach(0);
        _m.Loading.End();
        Log.Notice($"Done loading RDB, keys loaded: {loaded.Result.KeysLoaded}, keys expired: {loaded.Result.ExpiredSkipped}.");
    }

    /// <summary>
    /// As Redis: the received snapshot becomes the replica's dump file, unless rdb-del-sync-files is set and the
    /// replica persists nothing itself (no save points, no AOF), in which case it is removed.
    /// </summary>
    private void KeepOrDropSyncFile(string path)
    {
        var cfg = _server.Config;
        if (cfg.GetBool("rdb-del-sync-files") && cfg.SavePoints.Count == 0 && !cfg.AppendOnly)
        {
            Log.Notice("Removing the RDB file used only for SYNC");
            return; // the caller deletes it
        }
        try { File.Move(path, _server.Rdb.FilePath, overwrite: true); }
        catch (Exception ex) { Log.Warning("Failed keeping the RDB file received from the master: " + ex.Message); }
    }

    private async Task ReceiveCountedAsync(Stream file, long size)
    {
        long left = size;
        while (left > 0)
        {
            if (_end == _start) await ReceiveMoreAsync().ConfigureAwait(false);
            int n = (int)Math.Min(left, _end - _start);
            file.Write(_buf, _start, n);
            _start += n;
            left -= n;
            TransferRead += n;
        }
    }

    private async Task ReceiveMarkedAsync(Stream file, byte[] mark)
    {
        // The master sends nothing after the mark until we ACK, so the mark is the last thing received.
        while (true)
        {
            if (_end - _start >= mark.Length && _buf.AsSpan(_end - mark.Length, mark.Length).SequenceEqual(mark))
            {
                file.Write(_buf, _start, _end - mark.Length - _start);
                TransferRead += _end - mark.Length - _start;
                _start = _end = 0;
                return;
            }
            // Keep the last bytes (a mark may be split across reads); write the rest.
            int keep = Math.Min(mark.Length, _end - _start);
            int write = _end - _start - keep;
            if (write > 0)
            {
                file.Write(_buf, _start, write);
                TransferRead += write;
                _start += write;
            }
            await ReceiveMoreAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Blocking receive for the loading thread (the link's async loop is waiting for it meanwhile).</summary>
    private void ReceiveMoreBlocking()
    {
        if (_start == _end) _start = _end = 0;
        else if (_end == _buf.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else Grow(_buf.Length * 2L);
        }
        int n = _socket!.Receive(_buf, _end, _buf.Length - _end, System.Net.Sockets.SocketFlags.None);
        if (n <= 0) throw new IOException("connection closed by master");
        _end += n;
        LastIoMs = TransferLastIoMs = Environment.TickCount64;
        _m.CountReplInput(n);
    }

    /// <summary>
    /// The snapshot payload read straight from the master's socket: exactly the announced size, or up to the EOF mark
    /// (held back until we know whether the last 40 bytes are the mark; the master sends nothing after it before our ACK).
    /// </summary>
    private sealed class SocketPayload : Stream
    {
        private readonly ReplicaLink _l;
        private readonly byte[]? _mark;
        private long _left;
        private long _returned;

        public SocketPayload(ReplicaLink link, byte[]? mark, long size)
        {
            _l = link;
            _mark = mark;
            _left = size;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var l = _l;
            while (true)
            {
                int avail = l._end - l._start;
                if (_mark is null)
                {
                    if (_left == 0) return 0;
                }
                else
                {
                    avail -= _mark.Length;
                    if (avail == 0 && l._buf.AsSpan(l._start, _mark.Length).SequenceEqual(_mark)) return 0;
                }
                if (avail > 0)
                {
                    int n = (int)Math.Min(Math.Min(count, avail), _mark is null ? _left : long.MaxValue);
                    Buffer.BlockCopy(l._buf, l._start, buffer, offset, n);
                    l._start += n;
                    if (_mark is null) _left -= n;
                    _returned += n;
                    l.TransferRead += n;
                    l._m.Loading.Progress(n);
                    return n;
                }
                l.ReceiveMoreBlocking();
            }
        }

        /// <summary>After the parser finished: it must have used the whole payload, and the EOF mark must follow.</summary>
        public void CheckEnd(long rdbBytes)
        {
            if (rdbBytes != _returned || _left != 0) throw new IOException("the RDB payload from the master has trailing bytes");
            if (_mark is null) return;
            var l = _l;
            while (l._end - l._start < _mark.Length) l.ReceiveMoreBlocking();
            if (!l._buf.AsSpan(l._start, _mark.Length).SequenceEqual(_mark)) throw new IOException("Replication stream EOF marker is broken");
            l._start += _mark.Length;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _returned; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A file being loaded, reporting progress for INFO's loading_loaded_bytes.</summary>
    private sealed class ProgressStream(FileStream inner, DatasetLoading loading) : Stream
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, count);
            loading.Progress(n);
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => inner.CanSeek; // lets the parser bound lengths by the file size
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
