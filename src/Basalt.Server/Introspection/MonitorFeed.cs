using System.Globalization;
using Basalt.Protocol;
using Basalt.Server.Commands;

namespace Basalt.Server.Introspection;

/// <summary>
/// MONITOR: clients in monitor mode receive one status line per executed command of any client,
/// "+&lt;unix&gt;.&lt;micro&gt; [db addr] "arg" ...", with arguments quoted and escaped.
/// </summary>
public sealed class MonitorFeed
{
    private readonly RedisServer _server;
    private readonly Dispatcher _dispatcher;
    private readonly List<Client> _monitors = new();
    private readonly RespWriter _line = new(256);

    public MonitorFeed(RedisServer server, Dispatcher dispatcher)
    {
        _server = server;
        _dispatcher = dispatcher;
    }

    public int Count => _monitors.Count;

    public void Add(Client c)
    {
        if (_monitors.Contains(c)) return;
        c.Flags |= ClientFlags.Monitor;
        _monitors.Add(c);
        _dispatcher.MonitorCount = _monitors.Count;
    }

    public void Remove(Client c)
    {
        if (!c.Has(ClientFlags.Monitor)) return;
        c.Flags &= ~ClientFlags.Monitor;
        _monitors.Remove(c);
        _dispatcher.MonitorCount = _monitors.Count;
    }

    /// <summary>Called by the dispatcher after a command ran (so SELECT shows its new db).</summary>
    public void Feed(Client client, CommandContext ctx)
    {
        if (_monitors.Count == 0) return;
        var line = _line;
        line.Reset();
        long us = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        line.WriteRaw("+");
        line.WriteRaw((us / 1_000_000).ToString(CultureInfo.InvariantCulture));
        line.WriteRaw(".");
        line.WriteRaw((us % 1_000_000).ToString("D6", CultureInfo.InvariantCulture));
        line.WriteRaw(" [");
        line.WriteRaw(client.DbIndex.ToString(CultureInfo.InvariantCulture));
        line.WriteRaw(" ");
        line.WriteRaw(Source(client));
        line.WriteRaw("]");
        bool redact = Redaction.ShouldRedact(ctx);
        for (int i = 0; i < ctx.Count; i++)
        {
            line.WriteRaw(" ");
            if (redact && Redaction.IsRedacted(ctx, i)) WriteQuoted(line, Redaction.Redacted);
            else WriteQuoted(line, ctx.Arg(i));
        }
        line.WriteRaw("\r\n");
        var bytes = line.WrittenSpan;
        foreach (var m in _monitors)
        {
            m.Out.WriteRaw(bytes);
            // The executing client's own replies are sent at the end of its batch; waking it here would swap its buffer mid-command.
            if (!ReferenceEquals(m, client)) m.WakeWriter();
        }
    }

    /// <summary>Where the command came from: lua for scripts, unix:path for unix sockets, else the peer address.</summary>
    private string Source(Client c)
    {
        if (c.Has(ClientFlags.Internal)) return c.Address.Length > 0 ? c.Address : "lua";
        if (c.Has(ClientFlags.UnixSocket)) return "unix:" + _server.Config.UnixSocket;
        return c.Address;
    }

    /// <summary>Quotes like Redis's repr: \" \\ \n \r \t \a \b escapes, printable ASCII as is, other bytes as \xhh.</summary>
    public static void WriteQuoted(RespWriter w, ReadOnlySpan<byte> s)
    {
        var span = w.GetSpan(s.Length * 4 + 2);
        int p = 0;
        span[p++] = (byte)'"';
        foreach (byte b in s)
        {
            switch (b)
            {
                case (byte)'\\': span[p++] = (byte)'\\'; span[p++] = (byte)'\\'; break;
                case (byte)'"': span[p++] = (byte)'\\'; span[p++] = (byte)'"'; break;
                case (byte)'\n': span[p++] = (byte)'\\'; span[p++] = (byte)'n'; break;
                case (byte)'\r': span[p++] = (byte)'\\'; span[p++] = (byte)'r'; break;
                case (byte)'\t': span[p++] = (byte)'\\'; span[p++] = (byte)'t'; break;
                case 7: span[p++] = (byte)'\\'; span[p++] = (byte)'a'; break;
                case 8: span[p++] = (byte)'\\'; span[p++] = (byte)'b'; break;
                default:
                    if (b >= 32 && b < 127) span[p++] = b;
                    else
                    {
                        span[p++] = (byte)'\\'; span[p++] = (byte)'x';
                        span[p++] = (byte)"0123456789abcdef"[b >> 4];
                        span[p++] = (byte)"0123456789abcdef"[b & 15];
                    }
                    break;
            }
        }
        span[p++] = (byte)'"';
        w.Advance(p);
    }
}
