using System.Net;
using System.Net.Sockets;
using System.Text;
using Basalt.Protocol;

namespace Basalt.Server.SentinelMode;

/// <summary>
/// One outgoing connection of the sentinel (command link or pub/sub link). Requests are written from under the
/// execution lock without waiting (the socket keeps sends in issue order); a reader task parses replies and runs
/// their callbacks, and push messages, under the lock. Closing drops every pending callback.
/// </summary>
public sealed class SentinelLink
{
    private readonly RedisServer _server;
    private readonly Socket _socket;
    private readonly Queue<Action<RespValue>?> _callbacks = new();
    private volatile bool _closed;

    /// <summary>Connection established (under the lock).</summary>
    public bool Connected { get; private set; }
    public long ConnectedTime { get; private set; }
    public long LastActivity { get; private set; }
    public int Pending => _callbacks.Count;
    public string? LocalIp { get; private set; }
    /// <summary>Pub/sub messages (not replies), run under the lock.</summary>
    public Action<RespValue>? OnMessage;
    /// <summary>Called under the lock once, when an established or pending link ends.</summary>
    public Action<SentinelLink>? OnClosed;

    public SentinelLink(RedisServer server)
    {
        _server = server;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    }

    /// <summary>Starts connecting; <paramref name="onConnected"/> runs under the lock once the socket is up.</summary>
    public void Start(string host, int port, Action<SentinelLink> onConnected)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                using var cts = new CancellationTokenSource(5000);
                IPAddress? ip = IPAddress.TryParse(host, out var parsed) ? parsed : null;
                if (ip is null)
                {
                    var addrs = await Dns.GetHostAddressesAsync(host, AddressFamily.InterNetwork, cts.Token);
                    ip = addrs[0];
                }
                await _socket.ConnectAsync(new IPEndPoint(ip, port), cts.Token);
            }
            catch
            {
                Fail();
                return;
            }
            lock (_server.ExecLock)
            {
                if (_closed) return;
                Connected = true;
                ConnectedTime = LastActivity = Sentinel.Now;
                LocalIp = (_socket.LocalEndPoint as IPEndPoint)?.Address.ToString();
                onConnected(this);
            }
            await ReadLoop();
        });
    }

    private void Fail()
    {
        lock (_server.ExecLock) Close();
    }

    /// <summary>Under the lock: queues a command. Returns false when the link is not usable.</summary>
    public bool Send(Action<RespValue>? callback, params string[] argv)
    {
        if (_closed || !Connected) return false;
        var sb = new StringBuilder();
        sb.Append('*').Append(argv.Length).Append("\r\n");
        foreach (var a in argv)
        {
            int n = Encoding.UTF8.GetByteCount(a);
            sb.Append('$').Append(n).Append("\r\n").Append(a).Append("\r\n");
        }
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        _callbacks.Enqueue(callback);
        try
        {
            var t = _socket.SendAsync(bytes, SocketFlags.None);
            if (!t.IsCompletedSuccessfully) _ = t.ContinueWith(r => { if (r.IsFaulted) Fail(); }, TaskScheduler.Default);
        }
        catch
        {
            Close();
            return false;
        }
        return true;
    }

    private async Task ReadLoop()
    {
        var buf = new byte[16 * 1024];
        int len = 0;
        var batch = new List<RespValue>();
        try
        {
            while (!_closed)
            {
                if (len == buf.Length) Array.Resize(ref buf, buf.Length * 2);
                int n = await _socket.ReceiveAsync(buf.AsMemory(len), SocketFlags.None);
                if (n <= 0) break;
                len += n;
                int pos = 0;
                batch.Clear();
                while (pos < len)
                {
                    var v = RespValue.TryParse(buf.AsSpan(pos, len - pos), out int used);
                    if (v is null) break;
                    pos += used;
                    batch.Add(v);
                }
                if (pos > 0)
                {
                    Buffer.BlockCopy(buf, pos, buf, 0, len - pos);
                    len -= pos;
                }
                if (batch.Count == 0) continue;
                lock (_server.ExecLock)
                {
                    if (_closed) return;
                    LastActivity = Sentinel.Now;
                    foreach (var v in batch) Deliver(v);
                }
            }
        }
        catch { }
        Fail();
    }

    private void Deliver(RespValue v)
    {
        if (OnMessage is not null && v.Type is RespType.Array or RespType.Push && v.Items is { Length: >= 3 } items
            && items[0].Text is "message" or "pmessage")
        {
            OnMessage(v);
            return;
        }
        if (_callbacks.Count == 0) return;
        var cb = _callbacks.Dequeue();
        try { cb?.Invoke(v); }
        catch (Exception ex) { Log.Warning("Sentinel: reply handler failed: " + ex.Message); }
    }

    /// <summary>Under the lock (or from a failed task): ends the link; callbacks are dropped.</summary>
    public void Close()
    {
        if (_closed) return;
        _closed = true;
        Connected = false;
        _callbacks.Clear();
        try { _socket.Shutdown(SocketShutdown.Both); } catch { }
        try { _socket.Close(); } catch { }
        OnClosed?.Invoke(this);
    }

    public bool Closed => _closed;
}
