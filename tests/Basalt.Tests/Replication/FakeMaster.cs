using System.Net;
using System.Net.Sockets;
using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>
/// Plays the master side of the protocol over a socket so a test decides when each part of the snapshot payload
/// arrives (a replica can be held in the middle of a full sync for as long as the test needs).
/// </summary>
internal sealed class FakeMaster : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private Socket? _conn;
    private byte[] _buf = new byte[1 << 16];
    private int _start, _end;

    public FakeMaster()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    public int Port { get; }

    /// <summary>Accepts the replica, answers its handshake and its PSYNC with +FULLRESYNC; returns the PSYNC arguments.</summary>
    public string[] AcceptFullResync(string replId, long offset)
    {
        _conn?.Dispose();
        var accept = _listener.AcceptSocketAsync();
        Assert.True(accept.Wait(Repl.Timeout), "the replica did not connect");
        _conn = accept.Result;
        _conn.ReceiveTimeout = 10_000;
        _start = _end = 0;
        while (true)
        {
            var cmd = ReadCommand();
            switch (cmd[0].ToUpperInvariant())
            {
                case "PING": Send("+PONG\r\n"); break;
                case "AUTH":
                case "REPLCONF": Send("+OK\r\n"); break;
                case "PSYNC":
                    Send($"+FULLRESYNC {replId} {offset}\r\n");
                    return cmd;
                default: Send("-ERR unexpected\r\n"); break;
            }
        }
    }

    public void Send(string text) => Send(Encoding.ASCII.GetBytes(text));

    public void Send(ReadOnlySpan<byte> data) => _conn!.Send(data);

    /// <summary>Ends the connection (the replica sees the master going away).</summary>
    public void Drop()
    {
        try { _conn?.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
        _conn?.Dispose();
        _conn = null;
    }

    private string[] ReadCommand()
    {
        string head = ReadLine();
        Assert.StartsWith("*", head);
        var args = new string[int.Parse(head[1..])];
        for (int i = 0; i < args.Length; i++)
        {
            int len = int.Parse(ReadLine()[1..]);
            while (_end - _start < len + 2) Receive();
            args[i] = Encoding.UTF8.GetString(_buf, _start, len);
            _start += len + 2;
        }
        return args;
    }

    private string ReadLine()
    {
        while (true)
        {
            int nl = Array.IndexOf(_buf, (byte)'\n', _start, _end - _start);
            if (nl >= 0)
            {
                string s = Encoding.ASCII.GetString(_buf, _start, nl - _start).TrimEnd('\r');
                _start = nl + 1;
                return s;
            }
            Receive();
        }
    }

    private void Receive()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buf.Length) Array.Resize(ref _buf, _buf.Length * 2);
        int n = _conn!.Receive(_buf, _end, _buf.Length - _end, SocketFlags.None);
        if (n <= 0) throw new IOException("replica closed the connection");
        _end += n;
    }

    public void Dispose()
    {
        Drop();
        _listener.Stop();
    }

    /// <summary>An RDB payload written by a real Redis 7.0 holding <paramref name="keys"/> string keys named prefix:i.</summary>
    public static byte[] RedisRdb(string prefix, int keys)
    {
        using var redis = ServerProcess.StartRedis();
        using (var c = redis.Connect())
        {
            for (int i = 0; i < keys; i++) c.Send("SET", $"{prefix}:{i}", $"{prefix}-value-{i}");
            for (int i = 0; i < keys; i++) c.Read();
        }
        string path = Path.Combine(redis.Dir, "payload.rdb");
        var r = Tools.Run("redis-cli", ["-p", redis.Port.ToString(), "--rdb", path]);
        Assert.Equal(0, r.ExitCode);
        return File.ReadAllBytes(path);
    }
}
