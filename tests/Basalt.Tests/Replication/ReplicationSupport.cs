using System.Net.Sockets;
using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>Helpers for replication tests: INFO fields, waiting for links and equal datasets, a raw replica socket.</summary>
internal static class Repl
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Options both servers get: no diskless delay, debug commands for DEBUG DIGEST, no periodic PING
    /// (it would move offsets at random moments in byte-exact checks).
    /// </summary>
    public static readonly string[] Fast = ["--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes", "--repl-ping-replica-period", "3600"];

    public static Dictionary<string, string> Info(ServerProcess s, string section = "replication")
    {
        using var c = s.Connect();
        var text = c.Call("INFO", section).Text!;
        var d = new Dictionary<string, string>();
        foreach (var line in text.Split("\r\n"))
        {
            int i = line.IndexOf(':');
            if (i > 0 && !line.StartsWith('#')) d[line[..i]] = line[(i + 1)..];
        }
        return d;
    }

    public static string Field(ServerProcess s, string name, string section = "replication") =>
        Info(s, section).TryGetValue(name, out var v) ? v : "";

    public static void WaitLinkUp(ServerProcess replica) =>
        Tools.WaitUntil(() => Field(replica, "master_link_status") == "up", Timeout, $"replica {replica.Port} link up");

    public static string Digest(ServerProcess s)
    {
        using var c = s.Connect();
        return c.Call("DEBUG", "DIGEST").Text!;
    }

    /// <summary>Waits until every replica has applied all of the master's stream and the digests agree.</summary>
    public static void WaitInSync(ServerProcess master, params ServerProcess[] replicas)
    {
        Tools.WaitUntil(() =>
        {
            string off = Field(master, "master_repl_offset");
            return replicas.All(r => Field(r, "slave_repl_offset") == off);
        }, Timeout, "replicas at the master's offset");
        string d = Digest(master);
        Assert.NotEqual("0000000000000000000000000000000000000000", d);
        foreach (var r in replicas) Assert.Equal(d, Digest(r));
    }

    public static void Populate(ServerProcess s, string prefix)
    {
        using var c = s.Connect();
        for (int i = 0; i < 50; i++) c.Call("SET", $"{prefix}:s{i}", $"v{i}");
        c.Call("HSET", $"{prefix}:h", "a", "1", "b", "2");
        c.Call("RPUSH", $"{prefix}:l", "x", "y", "z");
        c.Call("ZADD", $"{prefix}:z", "1", "a", "2.5", "b");
        c.Call("SADD", $"{prefix}:set", "1", "2", "3", "m");
        c.Call("XADD", $"{prefix}:x", "1-1", "f", "v");
        c.Call("SET", $"{prefix}:ttl", "v", "EX", "1000");
        c.Call("SELECT", "3");
        c.Call("SET", $"{prefix}:db3", "three");
    }
}

/// <summary>A socket that plays the replica side of the protocol and reads the master's bytes exactly.</summary>
internal sealed class RawReplica : IDisposable
{
    private readonly Socket _s;
    private byte[] _buf = new byte[1 << 16];
    private int _start, _end;

    public RawReplica(int port)
    {
        _s = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        _s.Connect("127.0.0.1", port);
    }

    /// <summary>An accepted connection (the test plays the master).</summary>
    public RawReplica(Socket accepted)
    {
        _s = accepted;
        _s.ReceiveTimeout = 10_000;
    }

    public void SendRaw(byte[] data) => _s.Send(data);

    /// <summary>Reads one multibulk command sent by the peer.</summary>
    public string[] Command()
    {
        string h;
        do h = Line(); while (h.Length == 0);
        Assert.StartsWith("*", h);
        var args = new string[int.Parse(h[1..])];
        for (int i = 0; i < args.Length; i++)
        {
            var len = Line();
            Assert.StartsWith("$", len);
            args[i] = Encoding.UTF8.GetString(Bytes(int.Parse(len[1..])));
            Bytes(2);
        }
        return args;
    }

    public void Send(params string[] args)
    {
        var sb = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var a in args) sb.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        _s.Send(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    private void Fill()
    {
        if (_end == _buf.Length) Array.Resize(ref _buf, _buf.Length * 2);
        int n = _s.Receive(_buf, _end, _buf.Length - _end, SocketFlags.None);
        if (n <= 0) throw new IOException("closed");
        _end += n;
    }

    public string Line()
    {
        while (true)
        {
            int nl = Array.IndexOf(_buf, (byte)'\n', _start, _end - _start);
            if (nl >= 0)
            {
                var s = Encoding.ASCII.GetString(_buf, _start, nl - _start).TrimEnd('\r');
                _start = nl + 1;
                return s;
            }
            Fill();
        }
    }

    public string Call(params string[] args)
    {
        Send(args);
        return Line();
    }

    public byte[] Bytes(int n)
    {
        try
        {
            while (_end - _start < n) Fill();
        }
        catch (SocketException)
        {
            throw new TimeoutException("received only: " + Encoding.ASCII.GetString(_buf, _start, _end - _start));
        }
        var r = _buf.AsSpan(_start, n).ToArray();
        _start += n;
        return r;
    }

    /// <summary>Reads the RDB payload after +FULLRESYNC (skipping keep-alive newlines): "$len" or "$EOF:mark".</summary>
    public byte[] ReadRdb()
    {
        string h;
        do h = Line(); while (h.Length == 0);
        Assert.StartsWith("$", h);
        if (h.StartsWith("$EOF:"))
        {
            var mark = Encoding.ASCII.GetBytes(h[5..]);
            Assert.Equal(40, mark.Length);
            while (true)
            {
                int at = _buf.AsSpan(_start, _end - _start).IndexOf(mark);
                if (at >= 0)
                {
                    var rdb = Bytes(at);
                    Bytes(mark.Length);
                    return rdb;
                }
                Fill();
            }
        }
        return Bytes(int.Parse(h[1..]));
    }

    /// <summary>Exactly <paramref name="n"/> stream bytes as text.</summary>
    public string Stream(int n) => Encoding.ASCII.GetString(Bytes(n));

    public void Dispose() => _s.Dispose();
}
