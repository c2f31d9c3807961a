using System.Net;
using System.Net.Sockets;

namespace Basalt.Tests.Sentinel;

/// <summary>
/// A TCP forwarder to one server that can simulate a network partition without root: while partitioned, the bytes
/// of every connection are silently dropped in both directions and new connections are accepted but never answered
/// (like packets lost on the wire: no reset, no close). <see cref="Heal"/> closes the black-holed connections, as
/// TCP timeouts would end them, and forwards normally again.
/// </summary>
public sealed class PartitionProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly List<Socket> _sockets = new();
    private volatile bool _partitioned, _disposed;

    public int Port { get; }
    public bool Partitioned => _partitioned;

    public PartitionProxy(int targetPort)
    {
        _target = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        new Thread(AcceptLoop) { IsBackground = true, Name = "partition-proxy" }.Start();
    }

    public void Partition() => _partitioned = true;

    public void Heal()
    {
        _partitioned = false;
        CloseAll();
    }

    private void CloseAll()
    {
        List<Socket> all;
        lock (_sockets) { all = [.. _sockets]; _sockets.Clear(); }
        foreach (var s in all)
        {
            try { s.Shutdown(SocketShutdown.Both); } catch { }
            s.Dispose();
        }
    }

    private void Track(Socket s) { lock (_sockets) _sockets.Add(s); }

    private void AcceptLoop()
    {
        while (!_disposed)
        {
            Socket client;
            try { client = _listener.AcceptSocket(); }
            catch { return; }
            Track(client);
            if (_partitioned)
            {
                _ = Task.Run(() => Pump(client, null));
                continue;
            }
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            try { server.Connect(IPAddress.Loopback, _target); }
            catch
            {
                client.Dispose();
                server.Dispose();
                continue;
            }
            Track(server);
            _ = Task.Run(() => Pump(client, server));
            _ = Task.Run(() => Pump(server, client));
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/>, dropping the bytes while partitioned.</summary>
    private void Pump(Socket from, Socket? to)
    {
        var buf = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = from.Receive(buf);
                if (n <= 0) break;
                if (_partitioned || to is null) continue;
                to.Send(buf.AsSpan(0, n));
            }
        }
        catch { }
        // One side ended: end the other (when not black-holing, a real close travels through).
        if (!_partitioned)
        {
            try { to?.Shutdown(SocketShutdown.Both); } catch { }
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _listener.Stop();
        CloseAll();
    }
}
