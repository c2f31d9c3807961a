using System.Net.Sockets;
using System.Text;
using Basalt.Protocol;

namespace Basalt.Server.Replication;

public enum LinkState { Connect, Connecting, Handshake, Transfer, Connected }

/// <summary>
/// The replica side: connects to the master, handshakes (PING, AUTH, REPLCONF, PSYNC), receives the snapshot on a
/// full resync, then applies the stream through the dispatcher as the master client (no replies), forwarding the
/// applied bytes to our own backlog and replicas. Reconnects until stopped (REPLICAOF NO ONE / another master).
/// </summary>
public sealed partial class ReplicaLink
{
    private readonly ReplicationManager _m;
    private readonly RedisServer _server;
    private volatile bool _stopped;
    private Socket? _socket;
    private readonly object _sendLock = new();
    private byte[] _buf = new byte[64 * 1024];
    private int _start, _end;
    private ArgRef[] _args = new ArgRef[16];

    public ReplicaLink(ReplicationManager m, RedisServer server, string host, int port, bool canPsync)
    {
        _m = m;
        _server = server;
        Host = host;
        Port = port;
        CanPsync = canPsync;
    }

    public string Host { get; }
    public int Port { get; }
    public LinkState State { get; private set; } = LinkState.Connect;
    public bool Connected => State == LinkState.Connected;
    /// <summary>Our dataset continues the history of <see cref="ReplicationManager.ReplId"/>: PSYNC can ask to continue it.</summary>
    public bool CanPsync { get; private set; }
    public Client? MasterClient { get; private set; }
    /// <summary>The master stream's db when the link went down (or as saved in the RDB): a partial resync continues in it.</summary>
    public int LastMasterDb { get; set; }
    public long LastIoMs { get; private set; } = Environment.TickCount64;
    /// <summary>When the link went down (tick ms), 0 when it never was up.</summary>
    public long DownSinceMs { get; private set; }
    public long TransferSize = -1, TransferRead, TransferLastIoMs;
    /// <summary>Stream bytes read from the master (slave_read_repl_offset).</summary>
    public long ReadOffset;

    public void Start()
    {
        Log.Notice($"Connecting to MASTER {Host}:{Port}");
        _ = Task.Run(RunAsync);
    }

    /// <summary>Under the lock: ends the link for good.</summary>
    public void Stop()
    {
        _stopped = true;
        DropMasterClient();
        CloseSocket();
    }

    /// <summary>Closes the connection; the link reconnects.</summary>
    public void Drop(string reason)
    {
        if (_socket is null) return;
        Log.Notice("Connection with master lost (" + reason + ").");
        CloseSocket();
    }

    private void CloseSocket()
    {
        var s = _socket;
        if (s is null) return;
        try { s.Shutdown(SocketShutdown.Both); } catch { }
        try { s.Close(); } catch { }
    }

    private async Task RunAsync()
    {
        while (!_stopped)
        {
            try
            {
                await SessionAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException or EndOfStreamException)
            {
                if (!_stopped) Log.Notice("MASTER <-> REPLICA sync: " + ex.Message);
            }
            catch (Exception ex)
            {
                if (!_stopped) Log.Warning("MASTER <-> REPLICA sync error: " + ex);
            }
            lock (_server.ExecLock)
            {
                if (_stopped) break;
                bool wasUp = State == LinkState.Connected;
                DropMasterClient();
                State = LinkState.Connect;
                if (wasUp) DownSinceMs = Environment.TickCount64;
            }
            CloseSocket();
            _socket?.Dispose();
            _socket = null;
            await Task.Delay(1000).ConfigureAwait(false);
        }
        CloseSocket();
    }

    private void DropMasterClient()
    {
        var mc = MasterClient;
        if (mc is null) return;
        MasterClient = null;
        LastMasterDb = mc.DbIndex;
        _server.Clients.Remove(mc);
        _server.ClientClosed?.Invoke(mc);
    }

    private async Task SessionAsync()
    {
        State = LinkState.Connecting;
        LastIoMs = Environment.TickCount64;
        _start = _end = 0;
        _streaming = false;
        _countReplInput = false;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = !_server.Config.GetBool("repl-disable-tcp-nodelay") };
        _socket = socket;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(_server.Config.GetInt64("repl-timeout"))))
            await socket.ConnectAsync(Host, Port, cts.Token).ConfigureAwait(false);
        if (_stopped) return;
        Log.Notice("MASTER <-> REPLICA sync started");
        State = LinkState.Handshake;
        LastIoMs = Environment.TickCount64;

        string reply = await CommandAsync("PING").ConfigureAwait(false);
        if (reply.StartsWith('-') && !reply.StartsWith("-NOAUTH") && !reply.StartsWith("-NOPERM") && !reply.StartsWith("-ERR operation not permitted"))
            throw new IOException("Error reply to PING from master: '" + reply + "'");
        Log.Notice("Master replied to PING, replication can continue...");
        var cfg = _server.Config;
        string auth = cfg.Get("masterauth"), user = cfg.Get("masteruser");
        if (auth.Length > 0)
        {
            reply = user.Length > 0 ? await CommandAsync("AUTH", user, auth).ConfigureAwait(false) : await CommandAsync("AUTH", auth).ConfigureAwait(false);
            if (reply.StartsWith('-')) throw new IOException("Unable to AUTH to MASTER: " + reply);
        }
        long announcePort = cfg.GetInt64("replica-announce-port");
        reply = await CommandAsync("REPLCONF", "listening-port", ReplicationManager.Fmt(announcePort != 0 ? announcePort : cfg.Port)).ConfigureAwait(false);
        if (reply.StartsWith('-')) Log.Notice("(Non critical) Master does not understand REPLCONF listening-port: " + reply);
        string announceIp = cfg.Get("replica-announce-ip");
        if (announceIp.Length > 0)
        {
            reply = await CommandAsync("REPLCONF", "ip-address", announceIp).ConfigureAwait(false);
            if (reply.StartsWith('-')) Log.Notice("(Non critical) Master does not understand REPLCONF ip-address: " + reply);
        }
        reply = await CommandAsync("REPLCONF", "capa", "eof", "capa", "psync2").ConfigureAwait(false);
        if (reply.StartsWith('-')) Log.Notice("(Non critical) Master does not understand REPLCONF capa: " + reply);

        string id;
        long offset;
        bool failover;
        lock (_server.ExecLock)
        {
            (id, offset) = CanPsync ? (_m.ReplId, _m.MasterReplOffset + 1) : ("?", -1L);
            failover = _m.FailoverInProgress;
        }
        if (id != "?") Log.Notice($"Trying a partial resynchronization (request {id}:{offset}).");
        // A master handing over to this replica asks it to promote itself (FAILOVER).
        Send(failover ? Encode("PSYNC", id, ReplicationManager.Fmt(offset), "FAILOVER") : Encode("PSYNC", id, ReplicationManager.Fmt(offset)));
        try
        {
            do reply = await ReadLineAsync().ConfigureAwait(false); while (reply.Length == 0); // newlines keep the link alive
        }
        catch when (failover)
        {
            lock (_server.ExecLock) if (!_stopped) _m.FailoverPsyncAnswered(false);
            throw;
        }
        if (failover)
        {
            lock (_server.ExecLock)
            {
                if (_stopped) return;
                _m.FailoverPsyncAnswered(reply.StartsWith("+CONTINUE", StringComparison.Ordinal) || reply.StartsWith("+FULLRESYNC", StringComparison.Ordinal));
                if (_stopped) return;
            }
        }
        // As Redis, replication traffic starts after the PSYNC reply: the handshake does not count.
        _countReplInput = true;
        _m.CountReplInput(_end - _start);
        if (reply.StartsWith("+FULLRESYNC", StringComparison.Ordinal))
        {
            var parts = reply.Split(' ');
            if (parts.Length < 3 || parts[1].Length != 40 || !long.TryParse(parts[2], out long masterOffset))
                throw new IOException("Master replied with wrong +FULLRESYNC syntax.");
            Log.Notice($"Full resync from master: {parts[1]}:{masterOffset}");
            await FullSyncAsync(parts[1], masterOffset).ConfigureAwait(false);
        }
        else if (reply.StartsWith("+CONTINUE", StringComparison.Ordinal))
        {
            string newId = reply.Length > 10 ? reply[10..].Trim() : "";
            lock (_server.ExecLock)
            {
                if (_stopped) return;
                if (newId.Length == 40 && newId != _m.ReplId)
                {
                    _m.ShiftReplicationId(newId);
                    Log.Notice("Master replication ID changed to " + newId);
                    _m.DisconnectReplicas();
                }
                _m.EnsureBacklog();
                Attach(LastMasterDb);
            }
            Log.Notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        }
        else
        {
            throw new IOException("Unexpected reply to PSYNC from master: " + reply);
        }
        await StreamAsync().ConfigureAwait(false);
    }

    /// <summary>Under the lock: the stream starts; the master client becomes visible (CLIENT LIST flags=M).</summary>
    private void Attach(int db)
    {
        var mc = new Client(_server, _server.Clients.NextId())
        {
            Authenticated = true,
            Flags = ClientFlags.Master,
            Address = Networking.Listener.FormatEndPoint(_socket!.RemoteEndPoint),
            LocalAddress = Networking.Listener.FormatEndPoint(_socket.LocalEndPoint),
            DbIndex = db,
        };
        _server.Clients.Add(mc);
        MasterClient = mc;
        State = LinkState.Connected;
        LastIoMs = Environment.TickCount64;
        ReadOffset = _m.MasterReplOffset + (_end - _start);
    }

    /// <summary>Applies complete commands as they arrive; the offset moves per applied command (not inside MULTI).</summary>
    private async Task StreamAsync()
    {
        int applied = _start; // bytes before this were applied and forwarded
        _streaming = true;
        while (!_stopped)
        {
            lock (_server.ExecLock)
            {
                if (_stopped) return;
                var mc = MasterClient;
                if (mc is null || mc.Has(ClientFlags.CloseAsap)) return;
                int pos = _start;
                _m.BeginBatch(); // our own replicas get what this read applied in one send, not one per command
                try
                {
                while (pos < _end)
                {
                    int next = Frame(pos, out int argc);
                    if (next < 0) break;
                    if (argc > 0)
                    {
                        Keyspace.Database.ApplyingMasterStream = true;
                        try { _server.Dispatcher.Execute(mc, _buf, _args, 0, argc); }
                        finally { Keyspace.Database.ApplyingMasterStream = false; }
                        mc.Out.Reset(); // the master gets no replies (ACKs go out directly)
                        if (_server.Blocking.HasReadyKeys) _server.Blocking.ServeReadyKeys();
                    }
                    pos = next;
                    if (!mc.Has(ClientFlags.Multi))
                    {
                        _m.FeedStream(_buf.AsSpan(applied, pos - applied));
                        applied = pos;
                    }
                    if (_stopped || mc.Has(ClientFlags.CloseAsap)) return;
                }
                }
                finally { _m.EndBatch(); }
                _start = pos;
            }
            // Keep the unapplied bytes (an open MULTI) and the partial command at the front.
            if (applied > 0)
            {
                Buffer.BlockCopy(_buf, applied, _buf, 0, _end - applied);
                _start -= applied;
                _end -= applied;
                applied = 0;
            }
            await ReceiveMoreAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Frames one multibulk command at <paramref name="pos"/>: its end, or -1 when incomplete.</summary>
    private int Frame(int pos, out int argc)
    {
        argc = 0;
        var b = _buf;
        if (b[pos] == '\n') return pos + 1;
        if (b[pos] == '\r') return pos + 1 < _end ? pos + (b[pos + 1] == '\n' ? 2 : 1) : -1;
        if (b[pos] != '*') throw new IOException("Protocol error from master: expected '*'");
        int p = ParseLine(pos + 1, out long count);
        if (p < 0) return -1;
        if (count > 1024 * 1024) throw new IOException("Protocol error from master: invalid multibulk length");
        if (_args.Length < count) _args = new ArgRef[Math.Max(count, _args.Length * 2)];
        for (int i = 0; i < count; i++)
        {
            if (p >= _end) return -1;
            if (b[p] != '$') throw new IOException("Protocol error from master: expected '$'");
            p = ParseLine(p + 1, out long len);
            if (p < 0) return -1;
            if (len < 0 || p + len + 2 > _end)
            {
                if (len > _buf.Length / 2) Grow(len + 1024);
                return -1;
            }
            _args[i] = new ArgRef { Offset = p, Length = (int)len };
            p += (int)len + 2;
        }
        argc = (int)count;
        return p;
    }

    private int ParseLine(int p, out long value)
    {
        value = 0;
        bool neg = false;
        if (p < _end && _buf[p] == '-') { neg = true; p++; }
        while (p < _end && _buf[p] != '\r') value = value * 10 + (_buf[p++] - '0');
        if (p + 1 >= _end) return -1;
        if (neg) value = -value;
        return p + 2;
    }

    private void Grow(long need)
    {
        if (need <= _buf.Length) return;
        var nb = new byte[Math.Max(need, _buf.Length * 2L)];
        Buffer.BlockCopy(_buf, 0, nb, 0, _end);
        _buf = nb;
    }

    private bool _streaming; // buffer positions are managed by StreamAsync (unapplied MULTI bytes stay)
    private bool _countReplInput; // past the handshake: received bytes are replication traffic

    private async Task ReceiveMoreAsync()
    {
        if (!_streaming && _start > 0 && _start == _end) _start = _end = 0;
        if (_end == _buf.Length)
        {
            if (_start > 0 && !_streaming)
            {
                Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else Grow(_buf.Length * 2L);
        }
        int n = await _socket!.ReceiveAsync(_buf.AsMemory(_end), SocketFlags.None).ConfigureAwait(false);
        if (n <= 0) throw new IOException("connection closed by master");
        _end += n;
        LastIoMs = Environment.TickCount64;
        TransferLastIoMs = LastIoMs;
        // Every byte from the master after the handshake counts, the snapshot included (Redis's stat_net_repl_input_bytes).
        if (_countReplInput) _m.CountReplInput(n);
        if (State == LinkState.Connected) ReadOffset += n;
    }

    private async Task<string> ReadLineAsync()
    {
        while (true)
        {
            int nl = Array.IndexOf(_buf, (byte)'\n', _start, _end - _start);
            if (nl >= 0)
            {
                int len = nl - _start;
                if (len > 0 && _buf[nl - 1] == '\r') len--;
                string s = Encoding.UTF8.GetString(_buf, _start, len);
                _start = nl + 1;
                return s;
            }
            await ReceiveMoreAsync().ConfigureAwait(false);
        }
    }

    private async Task<string> CommandAsync(params string[] args)
    {
        Send(Encode(args));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(_server.Config.GetInt64("repl-timeout")));
        await using var reg = cts.Token.Register(CloseSocket);
        return await ReadLineAsync().ConfigureAwait(false);
    }

    private static byte[] Encode(params string[] args)
    {
        var sb = new StringBuilder();
        sb.Append('*').Append(args.Length).Append("\r\n");
        foreach (var a in args) sb.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private void Send(byte[] data)
    {
        lock (_sendLock) _socket!.Send(data);
    }

    /// <summary>REPLCONF ACK with the applied offset (every second, on GETACK, after loading a snapshot).</summary>
    public void SendAck()
    {
        if (!Connected || _socket is null) return;
        try { Send(Encode("REPLCONF", "ACK", ReplicationManager.Fmt(_m.MasterReplOffset))); }
        catch (Exception) { CloseSocket(); }
    }

    /// <summary>Under the lock, from the cron: timeouts and a killed master client end the connection.</summary>
    public void CronCheck()
    {
        if (_socket is null || _stopped) return;
        if (MasterClient is { } mc && mc.Has(ClientFlags.CloseAsap)) { Drop("client killed"); return; }
        long timeoutMs = _server.Config.GetInt64("repl-timeout") * 1000;
        long now = Environment.TickCount64;
        if (State == LinkState.Connected && now - LastIoMs > timeoutMs) Drop("MASTER timeout: no data nor PING received");
        else if (State == LinkState.Transfer && !_loadingFile && now - TransferLastIoMs > timeoutMs) Drop("Timeout receiving bulk data from MASTER");
        else if (State is LinkState.Connecting or LinkState.Handshake && now - LastIoMs > timeoutMs) Drop("Timeout connecting to the MASTER");
    }
}
