using System.Text;
using System.Text.RegularExpressions;
using Basalt.Protocol;
using Basalt.Server;
using Basalt.Server.Config;
using Basalt.Server.Replication;

namespace Basalt.Tests.Replication;

/// <summary>Encodes the propagated units as an AOF would: SELECT on database change, MULTI/EXEC around transactions.</summary>
internal sealed class RecordingSink : IPropagationSink
{
    private readonly List<byte> _bytes = new();
    private int _db;

    public RecordingSink(int selectedDb = 0) => _db = selectedDb;

    // As the AOF: replica-only ops (PUBLISH) are not written.
    public void Feed(PropagationUnit unit) =>
        PropagationFrames.Emit(unit, PropagateTargets.Aof, ref _db, bytes => _bytes.AddRange(bytes.ToArray()));

    public byte[] Take()
    {
        var r = _bytes.ToArray();
        _bytes.Clear();
        return r;
    }
}

/// <summary>An in-process server (no networking) with a recording sink and several clients.</summary>
internal sealed class PropagationHarness
{
    public RedisServer Server { get; } = new(new ServerConfig());
    public RecordingSink Sink { get; } = new();
    private readonly Dictionary<int, Client> _clients = new();

    public PropagationHarness() => Server.Propagator.AddSink(Sink);

    public Client ClientN(int n)
    {
        if (!_clients.TryGetValue(n, out var c))
        {
            _clients[n] = c = new Client(Server, n) { Authenticated = true };
            // Clients other than 1 may block, which needs a connection (never connected: nothing is sent).
            if (n != 1) _ = new Basalt.Server.Networking.ClientConnection(
                new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp), Server, c);
        }
        return c;
    }

    /// <summary>Runs one command on client <paramref name="n"/>, then serves blocked clients, as the connection loop does.</summary>
    public RespValue? Call(int n, params string[] args)
    {
        var client = ClientN(n);
        var buf = new List<byte>();
        var refs = new ArgRef[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            var b = Encoding.UTF8.GetBytes(args[i]);
            refs[i] = new ArgRef { Offset = buf.Count, Length = b.Length };
            buf.AddRange(b);
        }
        client.Out.Reset();
        lock (Server.ExecLock)
        {
            Server.Dispatcher.Execute(client, buf.ToArray(), refs, 0, args.Length);
            if (Server.Blocking.HasReadyKeys) Server.Blocking.ServeReadyKeys();
        }
        return RespValue.TryParse(client.Out.WrittenSpan, out _);
    }

    public RespValue? Call(params string[] args) => Call(1, args);

    /// <summary>The stream recorded since the last call, decoded one command a line.</summary>
    public string[] Take() => PropagationText.Decode(Sink.Take());
}

internal static class PropagationText
{
    /// <summary>Splits a command line on spaces; "" is an empty argument.</summary>
    public static string[] Split(string line) =>
        line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => a == "\"\"" ? "" : a).ToArray();

    /// <summary>Masks unix-millisecond numbers (PXAT values, XADD * IDs, XCLAIM TIME) keeping the byte length.</summary>
    public static byte[] Mask(byte[] stream)
    {
        var s = Encoding.Latin1.GetString(stream);
        s = Regex.Replace(s, @"(?<![0-9])1[0-9]{12}(?![0-9])", "TTTTTTTTTTTTT");
        return Encoding.Latin1.GetBytes(s);
    }

    /// <summary>RESP arrays of bulk strings to "ARG ARG ..." lines.</summary>
    public static string[] Decode(byte[] stream)
    {
        var lines = new List<string>();
        int pos = 0;
        while (pos < stream.Length)
        {
            var v = RespValue.TryParse(stream.AsSpan(pos), out int used) ?? throw new InvalidOperationException("truncated stream");
            pos += used;
            lines.Add(string.Join(' ', v.Items!.Select(i => i.Text)));
        }
        return lines.ToArray();
    }
}
