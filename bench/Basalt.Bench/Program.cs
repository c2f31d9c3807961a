using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Basalt.Server;
using Basalt.Server.Config;
using Basalt.Server.Networking;

// Starts the real server in-process on a free loopback port, drives GET/SET round trips from a client thread
// over a socket, and reports managed allocations per round trip in the steady state.
// Usage: dotnet run -c Release --project bench/Basalt.Bench [roundTrips=200000] [pipeline=1,16]
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

int n = args.Length > 0 ? int.Parse(args[0]) : 200_000;
int[] depths = args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : [1, 16];

var config = new ServerConfig();
int port = FreePort();
if (config.Set("port", port.ToString(), startup: true) is string err) throw new InvalidOperationException(err);
config.Set("bind", "127.0.0.1", startup: true);
Log.Level = LogLevel.Warning;
var server = new RedisServer(config);
var listener = new Listener(server);
server.Listener = listener;
listener.Start();

Console.WriteLine($"Basalt.Bench: in-process server on 127.0.0.1:{port}, {n} round trips per phase, value 16 bytes, 1000 keys");
Console.WriteLine($"{"pipeline",8} {"cmds",9} {"B/cmd(total)",13} {"B/cmd(server)",14} {"gen0",6} {"gen1",5} {"gen2",5} {"cmds/s",10}");
foreach (int depth in depths)
{
    long warmStart = GC.GetTotalAllocatedBytes(precise: true);
    var bench = new RoundTrips(port, depth);
    bench.Run(Math.Max(20_000, n / 2)); // warm-up: JIT tiers, buffer growth, key table sizing
    Console.WriteLine($"  (pipeline {depth}: warm-up incl. connect allocated {GC.GetTotalAllocatedBytes(precise: true) - warmStart} bytes)");
    Thread.Sleep(200);
    bench.Run(Math.Max(20_000, n / 4));
    long before = GC.GetTotalAllocatedBytes(precise: true);
    int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
    var sw = Stopwatch.StartNew();
    long clientBytes = bench.Run(n);
    sw.Stop();
    long total = GC.GetTotalAllocatedBytes(precise: true) - before;
    Console.WriteLine($"{depth,8} {n,9} {(double)total / n,13:F2} {(double)(total - clientBytes) / n,14:F2} {GC.CollectionCount(0) - g0,6} {GC.CollectionCount(1) - g1,5} {GC.CollectionCount(2) - g2,5} {n / sw.Elapsed.TotalSeconds,10:F0}");
    bench.Dispose();
}
listener.Stop();
return 0;

static int FreePort()
{
    var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    int p = ((IPEndPoint)l.LocalEndpoint).Port;
    l.Stop();
    return p;
}

/// <summary>A synchronous, allocation-free client: pre-encoded SET/GET commands, replies counted by CRLF framing.</summary>
sealed class RoundTrips : IDisposable
{
    private const int Keys = 1000;
    private readonly Socket _socket;
    private readonly int _depth;
    private readonly byte[][] _commands;
    private readonly byte[] _batch;
    private readonly byte[] _recv = new byte[1 << 20];

    public RoundTrips(int port, int depth)
    {
        _depth = depth;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.Connect(IPAddress.Loopback, port);
        // Even slots SET key:i (16-byte value), odd slots GET key:i; each reply is one line ("+OK", "$16") plus the body for GET.
        _commands = new byte[Keys * 2][];
        for (int i = 0; i < Keys; i++)
        {
            string key = $"bench:key:{i:D6}";
            _commands[2 * i] = Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n$16\r\n{i:D16}\r\n");
            _commands[2 * i + 1] = Encoding.ASCII.GetBytes($"*2\r\n$3\r\nGET\r\n${key.Length}\r\n{key}\r\n");
        }
        _batch = new byte[_commands.Max(c => c.Length) * depth];
    }

    /// <summary>Runs <paramref name="count"/> commands (rounded up to the pipeline depth); returns this thread's allocations.</summary>
    public long Run(int count)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        int slot = 0;
        for (int done = 0; done < count; done += _depth)
        {
            int len = 0;
            int expectedLines = 0;
            for (int j = 0; j < _depth; j++)
            {
                var cmd = _commands[slot];
                cmd.CopyTo(_batch, len);
                len += cmd.Length;
                expectedLines += (slot & 1) == 0 ? 1 : 2; // +OK / $16 + body
                slot = (slot + 1) % _commands.Length;
            }
            _socket.Send(_batch.AsSpan(0, len));
            int lines = 0;
            while (lines < expectedLines)
            {
                int got = _socket.Receive(_recv);
                if (got <= 0) throw new IOException("server closed the connection");
                lines += _recv.AsSpan(0, got).Count((byte)'\n');
            }
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    public void Dispose() => _socket.Dispose();
}
