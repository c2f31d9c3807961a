using System.Net.Sockets;
using Basalt.Protocol;

namespace Basalt.Tests.Support;

/// <summary>A blocking RESP connection for tests: sends commands, reads parsed or raw replies, with a timeout.</summary>
public sealed class RespConnection : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private byte[] _buf = new byte[64 * 1024];
    private int _len;

    public RespConnection(string host, int port, int timeoutMs = 10_000)
    {
        _tcp = new TcpClient { NoDelay = true };
        _tcp.Connect(host, port);
        _tcp.ReceiveTimeout = timeoutMs;
        _tcp.SendTimeout = timeoutMs;
        _stream = _tcp.GetStream();
    }

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
        catch (IOException) { return true; }
    }

    private void Fill()
    {
        if (_len == _buf.Length) Array.Resize(ref _buf, _buf.Length * 2);
        int n = _stream.Read(_buf, _len, _buf.Length - _len);
        if (n == 0) throw new IOException("connection closed by server");
        _len += n;
    }

    public void Dispose() => _tcp.Dispose();
}
