using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Basalt.Tests.Sentinel;

/// <summary>
/// A scripted stand-in for a monitored master: answers a sentinel's PING (PONG, or -LOADING while
/// <see cref="Loading"/>), INFO (with <see cref="RunId"/>), SUBSCRIBE, PUBLISH and anything else with +OK. Lets a
/// test change the run id and availability at will (a reboot that is still loading its dataset).
/// </summary>
public sealed class FakeMaster : IDisposable
{
    private readonly TcpListener _listener;
    private readonly List<Socket> _clients = new();
    public volatile string RunId;
    public volatile bool Loading;
    public int Port { get; }

    public FakeMaster(string runId)
    {
        RunId = runId;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        new Thread(() =>
        {
            while (true)
            {
                Socket s;
                try { s = _listener.AcceptSocket(); }
                catch { return; }
                lock (_clients) _clients.Add(s);
                new Thread(() => Serve(s)) { IsBackground = true }.Start();
            }
        }) { IsBackground = true }.Start();
    }

    public static string NewRunId() => Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant() + "00000000";

    private void Serve(Socket s)
    {
        try
        {
            using var stream = new NetworkStream(s, ownsSocket: true);
            while (true)
            {
                var argv = ReadCommand(stream);
                if (argv is null) return;
                stream.Write(Encoding.UTF8.GetBytes(Reply(argv)));
            }
        }
        catch { }
    }

    private string Reply(List<string> argv)
    {
        switch (argv[0].ToUpperInvariant())
        {
            case "PING":
                return Loading ? "-LOADING Redis is loading the dataset in memory\r\n" : "+PONG\r\n";
            case "INFO":
                string info = $"# Server\r\nredis_version:7.0.15\r\nrun_id:{RunId}\r\n\r\n# Replication\r\nrole:master\r\n" +
                    "connected_slaves:0\r\nmaster_repl_offset:0\r\n";
                return $"${Encoding.UTF8.GetByteCount(info)}\r\n{info}\r\n";
            case "SUBSCRIBE":
                return $"*3\r\n$9\r\nsubscribe\r\n${argv[1].Length}\r\n{argv[1]}\r\n:1\r\n";
            case "PUBLISH":
                return ":1\r\n";
            default:
                return "+OK\r\n";
        }
    }

    private static string? ReadLine(Stream s)
    {
        var sb = new StringBuilder();
        while (true)
        {
            int b = s.ReadByte();
            if (b < 0) return null;
            if (b == '\n') return sb.ToString().TrimEnd('\r');
            sb.Append((char)b);
        }
    }

    private static List<string>? ReadCommand(Stream s)
    {
        string? header = ReadLine(s);
        if (header is null) return null;
        if (!header.StartsWith('*')) return [.. header.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        int n = int.Parse(header[1..]);
        var argv = new List<string>();
        for (int i = 0; i < n; i++)
        {
            string? len = ReadLine(s);
            if (len is null) return null;
            var buf = new byte[int.Parse(len[1..]) + 2];
            s.ReadExactly(buf);
            argv.Add(Encoding.UTF8.GetString(buf, 0, buf.Length - 2));
        }
        return argv;
    }

    public void Dispose()
    {
        _listener.Stop();
        lock (_clients) foreach (var c in _clients) c.Dispose();
    }
}
