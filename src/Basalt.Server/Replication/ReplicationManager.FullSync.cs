using Basalt.Protocol;
using Basalt.Server.Persistence;

namespace Basalt.Server.Replication;

/// <summary>Master side of a full resynchronization: one snapshot shared by every replica waiting for it.</summary>
public sealed partial class ReplicationManager
{
    private bool _syncInProgress;

    private bool DisklessSync => _server.Config.GetBool("repl-diskless-sync");

    /// <summary>Starts the shared snapshot once the diskless delay has passed (or at once for disk-based sync).</summary>
    private void MaybeStartDelayedSync()
    {
        if (_syncInProgress || ReplicationSnapshot.Busy(_server)) return;
        int waiting = 0;
        long oldest = long.MaxValue;
        foreach (var r in _replicas)
        {
            if (r.State != ReplicaSyncState.WaitBgsaveStart) continue;
            waiting++;
            oldest = Math.Min(oldest, r.WaitSinceMs);
        }
        if (waiting == 0) return;
        long delay = _server.Config.GetInt64("repl-diskless-sync-delay");
        long max = _server.Config.GetInt64("repl-diskless-sync-max-replicas");
        if (!DisklessSync || delay == 0 || Environment.TickCount64 - oldest >= delay * 1000 || (max > 0 && waiting >= max))
            StartFullSync();
    }

    /// <summary>Under the lock: the snapshot point is now, so the stream from here on is held for these replicas.</summary>
    private void StartFullSync()
    {
        var group = _replicas.Where(r => r.State == ReplicaSyncState.WaitBgsaveStart).ToList();
        if (group.Count == 0) return;
        bool eof = DisklessSync && group.All(r => r.CapaEof);
        long offset = MasterReplOffset;
        foreach (var r in group)
        {
            r.State = ReplicaSyncState.WaitBgsaveEnd;
            r.Pending = new RespWriter(4096);
            r.EofTransfer = eof;
            if (!r.PrePsync)
            {
                string line = "+FULLRESYNC " + ReplId + " " + Fmt(offset) + "\r\n";
                r.Client.Out.WriteRaw(line);
                // Redis writes this reply outside the replica's output: it is not replication traffic.
                UncountOutput(line.Length);
                r.Client.WakeWriter();
            }
            Log.Notice($"Full resync requested by replica {r.Ip}:{r.ListeningPort}");
        }
        // The stream after the snapshot must start with a SELECT.
        _selectedDb = -1;
        var target = new FullSyncTarget(this, group, eof);
        if (!ReplicationSnapshot.TryStart(_server, target, ReplId, offset, out var error))
        {
            Log.Warning("BGSAVE for replication failed: " + error);
            foreach (var r in group) Close(r);
            return;
        }
        _syncInProgress = true;
        Log.Notice($"Starting BGSAVE for SYNC with target: {(eof ? "replicas sockets" : "disk")}");
    }

    private bool Alive(ReplicaState r) => _replicas.Contains(r) && !r.Client.Has(ClientFlags.CloseAsap) && r.Client.Connection is { IsClosed: false };

    /// <summary>
    /// From a background thread: queues bytes to a replica, waiting while its unsent output is large
    /// (the transfer goes at the replica's pace without holding the lock). False when the replica went away.
    /// </summary>
    private bool SendThrottled(ReplicaState r, ReadOnlySpan<byte> data)
    {
        const int MaxQueued = 4 * 1024 * 1024;
        while (true)
        {
            lock (_server.ExecLock)
            {
                if (!Alive(r)) return false;
                if (r.Client.PendingOutputBytes < MaxQueued)
                {
                    r.Client.Out.WriteRaw(data);
                    if (r.Client.TryBeginSend()) r.Client.Connection!.ScheduleSend();
                    return true;
                }
            }
            Thread.Sleep(1);
        }
    }

    /// <summary>Under the lock: the snapshot is delivered, the held stream follows.</summary>
    private void StartStream(ReplicaState r)
    {
        r.StartStreamOnAck = false;
        r.State = ReplicaSyncState.Online;
        r.AckTimeMs = Environment.TickCount64;
        if (r.Pending is { } p)
        {
            r.Client.Out.WriteRaw(p.WrittenSpan);
            r.Pending = null;
        }
        r.Client.WakeWriter();
        Log.Notice($"Synchronization with replica {r.Ip}:{r.ListeningPort} succeeded");
    }

    private void SyncFinished()
    {
        _syncInProgress = false;
        MaybeStartDelayedSync();
    }

    /// <summary>Receives the snapshot bytes: straight to the sockets (EOF-marked) or into a file sent afterwards.</summary>
    private sealed class FullSyncTarget : ISnapshotTarget
    {
        private readonly ReplicationManager _m;
        private readonly List<ReplicaState> _group;
        private readonly bool _eof;
        private readonly byte[] _mark;
        private readonly string? _path;
        private FileStream? _file;
        private bool _started;

        public FullSyncTarget(ReplicationManager m, List<ReplicaState> group, bool eof)
        {
            _m = m;
            _group = group;
            _eof = eof;
            _mark = System.Text.Encoding.ASCII.GetBytes(RedisServer.RandomHex(40));
            if (!eof)
            {
                _path = Path.Combine(Directory.GetCurrentDirectory(), $"temp-repl-{Environment.ProcessId}-{Environment.TickCount64}.rdb");
                _file = new FileStream(_path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 64 * 1024);
            }
        }

        public void Write(ReadOnlySpan<byte> chunk)
        {
            if (!_eof)
            {
                _file!.Write(chunk);
                return;
            }
            if (!_started)
            {
                _started = true;
                var header = System.Text.Encoding.ASCII.GetBytes("$EOF:" + System.Text.Encoding.ASCII.GetString(_mark) + "\r\n");
                foreach (var r in _group) _m.SendThrottled(r, header);
            }
            foreach (var r in _group) _m.SendThrottled(r, chunk);
        }

        public void Complete(bool ok, Exception? error)
        {
            var server = _m._server;
            if (!ok)
            {
                Log.Warning("Snapshot for replication failed: " + (error?.Message ?? "cancelled"));
                _file?.Dispose();
                if (_path is not null) try { File.Delete(_path); } catch { }
                lock (server.ExecLock)
                {
                    foreach (var r in _group) Close(r);
                    _m.SyncFinished();
                }
                return;
            }
            if (_eof)
            {
                if (!_started) foreach (var r in _group) _m.SendThrottled(r, System.Text.Encoding.ASCII.GetBytes("$EOF:" + System.Text.Encoding.ASCII.GetString(_mark) + "\r\n"));
                foreach (var r in _group) _m.SendThrottled(r, _mark);
                lock (server.ExecLock)
                {
                    foreach (var r in _group)
                    {
                        if (!_m.Alive(r)) continue;
                        // The replica is loading: the stream starts with its first ACK.
                        r.State = ReplicaSyncState.Online;
                        r.StartStreamOnAck = true;
                        Log.Notice($"Streamed RDB transfer with replica {r.Ip}:{r.ListeningPort} succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming");
                    }
                    _m.SyncFinished();
                }
                return;
            }
            _file!.Flush();
            long length = _file.Length;
            Log.Notice("Background RDB transfer terminated with success");
            int remaining = _group.Count;
            lock (server.ExecLock) _m.SyncFinished();
            foreach (var r in _group)
            {
                Task.Factory.StartNew(() =>
                {
                    try { SendFile(r, length); }
                    catch (Exception ex) { Log.Warning("Sending RDB to replica: " + ex.Message); lock (server.ExecLock) Close(r); }
                    finally
                    {
                        if (Interlocked.Decrement(ref remaining) == 0)
                        {
                            _file.Dispose();
                            try { File.Delete(_path!); } catch { }
                        }
                    }
                }, TaskCreationOptions.LongRunning);
            }
        }

        private void SendFile(ReplicaState r, long length)
        {
            lock (_m._server.ExecLock) r.State = ReplicaSyncState.SendBulk;
            if (!_m.SendThrottled(r, System.Text.Encoding.ASCII.GetBytes("$" + Fmt(length) + "\r\n"))) return;
            var buf = new byte[64 * 1024];
            using (var f = new FileStream(_path!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                int n;
                while ((n = f.Read(buf)) > 0)
                    if (!_m.SendThrottled(r, buf.AsSpan(0, n))) return;
            }
            lock (_m._server.ExecLock)
            {
                if (_m.Alive(r)) _m.StartStream(r);
            }
        }
    }
}
