using System.Net.Sockets;
using Basalt.Protocol;

namespace Basalt.Tests.Support;

/// <summary>A blocking RESP connection for tests: sends commands, reads parsed or raw replies, with a timeout.</summary>
public sealed class RespConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private byte[] _buf = new byte[64 * 1024];
    private int _len;

    public RespConnection(string host, int port, int timeoutMs = 10_000)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Init(timeoutMs);
        _socket.Connect(host, port);
        _stream = new NetworkStream(_socket, ownsSocket: true);
    }

    private RespConnection(Socket connected, int timeoutMs)
    {
        _socket = connected;
        Init(timeoutMs);
        _stream = new NetworkStream(_socket, ownsSocket: true);
    }

    /// <summary>Connects to a Unix domain socket (--unixsocket).</summary>
    public static RespConnection ConnectUnix(string path, int timeoutMs = 10_000)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { s.Connect(new UnixDomainSocketEndPoint(path)); }
        catch { s.Dispose(); throw; }
        return new RespConnection(s, timeoutMs);
    }

    private void Init(int timeoutMs)
    {
        _socket.ReceiveTimeout = timeoutMs;
        _socket.SendTimeout = timeoutMs;
    }

    /// <summary>Changes the read timeout (e.g. short waits for "no reply yet").</summary>
    public int ReceiveTimeoutMs { get => _socket.ReceiveTimeout; set => _socket.ReceiveTimeout = value; }

    public void Send(params object[] args) => SendRaw(RespValue.EncodeCommand(args));

    public void SendRaw(byte[] data) => _stream.Write(data);

    public void SendRaw(string text) => SendRaw(System.Text.Encoding.UTF8.GetBytes(text));

    public RespValue Call(params object[] args)
    {
        Send(args);
        return Read();
    }

    public RespValue Read()
    {
        while (true)
        {
            var v = RespValue.TryParse(_buf.AsSpan(0, _len), out int consumed);
            if (v is not null)
            {
                Buffer.BlockCopy(_buf, consumed, _buf, 0, _len - consumed);
                _len -= consumed;
                return v;
            }
            Fill();
        }
    }

    /// <summary>The exact bytes of the next reply (for byte-level comparisons).</summary>
    public byte[] ReadRaw()
    {
        while (true)
        {
            var v = RespValue.TryParse(_buf.AsSpan(0, _len), out int consumed);
            if (v is not null)
            {
                var raw = _buf.AsSpan(0, consumed).ToArray();
                Buffer.BlockCopy(_buf, consumed, _buf, 0, _len - consumed);
                _len -= consumed;
                return raw;
            }
            Fill();
        }
    }

    public byte[] CallRaw(params object[] args)
    {
        Send(args);
        return ReadRaw();
    }

    /// <summary>True when the server closed the connection (reads return 0) within the timeout.</summary>
    public bool WaitClosed()
    {
        try
        {
            while (true)
            {
                if (_len == _buf.Length) _len = 0;
                int n = _stream.Read(_buf, _len, _buf.Length - _len);
                if (n == 0) return true;
                _len += n;
            }
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock })
        {
            return false;
        }
        catch (IOException) { return true; }
    }

    /// <summary>
    /// Everything the server sends until it closes the connection (including bytes already buffered here).
    /// Throws TimeoutException when the connection stays open past the read timeout.
    /// </summary>
    public byte[] ReadUntilClosed()
    {
        try
        {
            while (true)
            {
                if (_len == _buf.Length) Array.Resize(ref _buf, _buf.Length * 2);
                int n = _stream.Read(_buf, _len, _buf.Length - _len);
                if (n == 0) break;
                _len += n;
            }
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock })
        {
            throw new TimeoutException("connection still open; received so far: " + System.Text.Encoding.UTF8.GetString(_buf, 0, _len));
        }
        catch (IOException) { } // reset after close: keep what arrived
        var all = _buf.AsSpan(0, _len).ToArray();
        _len = 0;
        return all;
    }

    private void Fill()
    {
        if (_len == _buf.Length) Array.Resize(ref _buf, _buf.Length * 2);
        int n = _stream.Read(_buf, _len, _buf.Length - _len);
        if (n == 0) throw new IOException("connection closed by server");
        _len += n;
    }

    public void Dispose() => _stream.Dispose();
}
