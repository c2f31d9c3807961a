using System.Net;
using System.Net.Sockets;

namespace Basalt.Server.Networking;

/// <summary>Accepts TCP (each bind address) and Unix socket connections and starts a connection loop for each.</summary>
public sealed class Listener
{
    private readonly RedisServer _server;
    private readonly List<Socket> _sockets = new();

    private const int SolSocket = 1, SoReuseAddr = 2; // Linux values

    public Listener(RedisServer server) => _server = server;

    /// <summary>Binds every configured address; throws with Redis's wording when one cannot be bound.</summary>
    public void Start()
    {
        var cfg = _server.Config;
        if (cfg.Port != 0)
        {
            foreach (var raw in cfg.BindAddresses)
            {
                bool optional = raw.StartsWith('-');
                string addr = optional ? raw[1..] : raw;
                var ip = addr == "*" ? IPAddress.Any : addr == "::*" ? IPAddress.IPv6Any : IPAddress.Parse(addr);
                var s = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                // SO_REUSEADDR only (restart over TIME_WAIT). .NET's ReuseAddress option also sets SO_REUSEPORT on Linux,
                // which would let two servers bind the same port silently; Redis refuses that with "Address already in use".
                s.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
                if (ip.AddressFamily == AddressFamily.InterNetworkV6) s.DualMode = false;
                try
                {
                    s.Bind(new IPEndPoint(ip, cfg.Port));
                    s.Listen(cfg.TcpBacklog);
                }
                catch (SocketException ex)
                {
                    s.Dispose();
                    if (optional && (ex.SocketErrorCode == SocketError.AddressNotAvailable || ex.SocketErrorCode == SocketError.AddressFamilyNotSupported))
                        continue;
                    throw new InvalidOperationException($"Warning: Could not create server TCP listening socket {addr}:{cfg.Port}: {ex.Message}");
                }
                _sockets.Add(s);
            }
        }
        if (!string.IsNullOrEmpty(cfg.UnixSocket))
        {
            try { File.Delete(cfg.UnixSocket); } catch { }
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            s.Bind(new UnixDomainSocketEndPoint(cfg.UnixSocket));
            s.Listen(cfg.TcpBacklog);
            try { File.SetUnixFileMode(cfg.UnixSocket, (UnixFileMode)Convert.ToInt32(cfg.UnixSocketPerm, 8)); } catch { }
            _sockets.Add(s);
            Log.Notice($"The server is now ready to accept connections at {cfg.UnixSocket}");
        }
        foreach (var s in _sockets) _ = AcceptLoopAsync(s);
    }

    public IReadOnlyList<Socket> Sockets => _sockets;

    private async Task AcceptLoopAsync(Socket listenSocket)
    {
        bool isUnix = listenSocket.AddressFamily == AddressFamily.Unix;
        while (true)
        {
            Socket socket;
            try { socket = await listenSocket.AcceptAsync().ConfigureAwait(false); }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { if (!listenSocket.IsBound) return; continue; }
            try { Accept(socket, isUnix); }
            catch (Exception ex) { Log.Warning($"Accepting client connection: {ex.Message}"); socket.Dispose(); }
        }
    }

    private void Accept(Socket socket, bool isUnix)
    {
        var cfg = _server.Config;
        if (!isUnix)
        {
            socket.NoDelay = true;
            if (cfg.TcpKeepAlive > 0)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                try { socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, cfg.TcpKeepAlive); } catch { }
            }
        }
        var client = new Client(_server, _server.Clients.NextId());
        client.Address = isUnix ? cfg.UnixSocket + ":0" : FormatEndPoint(socket.RemoteEndPoint);
        client.LocalAddress = isUnix ? cfg.UnixSocket + ":0" : FormatEndPoint(socket.LocalEndPoint);
        client.Fd = (int)socket.Handle;
        if (isUnix) client.Flags |= ClientFlags.UnixSocket;
        client.Authenticated = !cfg.RequiresAuth;
        var conn = new ClientConnection(socket, _server, client);

        // A busy script holds the lock: its thread registers the connection (Redis accepts clients while busy).
        if (!Scripting.ScriptingState.EnterLockOrDefer(_server, () => Register(socket, isUnix, client, conn))) return;
        Register(socket, isUnix, client, conn, locked: true);
    }

    private void Register(Socket socket, bool isUnix, Client client, ClientConnection conn, bool locked = false)
    {
        var cfg = _server.Config;
        string? refusal = null;
        if (!locked) _server.ExecLock.Enter();
        try
        {
            _server.Stats.TotalConnectionsReceived++;
            if (_server.Clients.Count >= cfg.MaxClients)
            {
                refusal = "-ERR max number of clients reached\r\n";
                _server.Stats.RejectedConnections++;
            }
            else if (!isUnix && cfg.ProtectedMode && !cfg.RequiresAuth && cfg.BindIsDefault && !IsLoopback(socket.RemoteEndPoint))
            {
                refusal = ProtectedModeMessage;
                _server.Stats.RejectedConnections++;
            }
            else
            {
                _server.Clients.Add(client);
            }
        }
        finally { _server.ExecLock.Exit(); }
        if (refusal is not null)
        {
            try { socket.Send(System.Text.Encoding.ASCII.GetBytes(refusal)); } catch { }
            socket.Dispose();
            return;
        }
        // Not inline: input already waiting would run its commands (maybe a long script) on the accept loop.
        ThreadPool.UnsafeQueueUserWorkItem(static c => _ = c.RunAsync(), conn, preferLocal: false);
    }

    private static bool IsLoopback(EndPoint? ep) => ep is IPEndPoint ip && IPAddress.IsLoopback(ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address);

    public static string FormatEndPoint(EndPoint? ep)
    {
        if (ep is not IPEndPoint ip) return "?:0";
        var a = ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address;
        return $"{a}:{ip.Port}";
    }

    public void Stop()
    {
        foreach (var s in _sockets)
        {
            try { s.Dispose(); } catch { }
        }
        _sockets.Clear();
        if (!string.IsNullOrEmpty(_server.Config.UnixSocket))
        {
            try { File.Delete(_server.Config.UnixSocket); } catch { }
        }
    }

    private const string ProtectedModeMessage =
        "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
        "In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: " +
        "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
        "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
        "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
        "4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
}
