using System.Text;

namespace Basalt.Server.Introspection;

/// <summary>Redis's client classes (CLIENT LIST TYPE, CLIENT KILL TYPE, output buffer limits).</summary>
public enum ClientType { Normal, Replica, PubSub, Master }

/// <summary>
/// The CLIENT LIST / CLIENT INFO line of a client, with Redis 7.0's fields in its order. Subsystems that own
/// per-client state (pub/sub, MULTI, tracking) report it through the hooks below.
/// </summary>
public static class ClientInfo
{
    /// <summary>Channel, pattern and shard-channel subscription counts (sub, psub, ssub).</summary>
    public static Func<Client, (int Sub, int PSub, int SSub)>? Subscriptions;

    /// <summary>Commands queued in MULTI, or -1 when the client is not in a transaction.</summary>
    public static Func<Client, int>? QueuedCommands;

    /// <summary>Client id that tracking invalidations are redirected to (-1 when none).</summary>
    public static Func<Client, long>? TrackingRedirect;

    /// <summary>Extra flag letters from other subsystems (t, R, B for tracking; d for a dirty WATCH).</summary>
    public static Func<Client, string>? ExtraFlags;

    /// <summary>
    /// Monitors are normal clients for listing purposes (Redis marks them as replicas internally but shows them as normal).
    /// </summary>
    public static ClientType TypeOf(Client c)
    {
        if (c.Has(ClientFlags.Master)) return ClientType.Master;
        if (c.Has(ClientFlags.Replica) && !c.Has(ClientFlags.Monitor)) return ClientType.Replica;
        if (c.Has(ClientFlags.PubSub)) return ClientType.PubSub;
        return ClientType.Normal;
    }

    /// <summary>Parses a type name as CLIENT LIST/KILL accept it (slave is an alias of replica).</summary>
    public static bool TryParseType(ReadOnlySpan<byte> name, out ClientType type)
    {
        type = ClientType.Normal;
        if (Ascii.EqualsIgnoreCase(name, "normal"u8)) type = ClientType.Normal;
        else if (Ascii.EqualsIgnoreCase(name, "slave"u8) || Ascii.EqualsIgnoreCase(name, "replica"u8)) type = ClientType.Replica;
        else if (Ascii.EqualsIgnoreCase(name, "pubsub"u8)) type = ClientType.PubSub;
        else if (Ascii.EqualsIgnoreCase(name, "master"u8)) type = ClientType.Master;
        else return false;
        return true;
    }

    public static string Flags(Client c)
    {
        var sb = new StringBuilder(8);
        if (c.Has(ClientFlags.Monitor)) sb.Append('O');
        else if (c.Has(ClientFlags.Replica)) sb.Append('S');
        if (c.Has(ClientFlags.Master)) sb.Append('M');
        if (c.Has(ClientFlags.PubSub)) sb.Append('P');
        if (c.Has(ClientFlags.Multi)) sb.Append('x');
        if (c.Has(ClientFlags.Blocked)) sb.Append('b');
        if (ExtraFlags is not null) sb.Append(ExtraFlags(c));
        if (c.Has(ClientFlags.CloseAfterReply)) sb.Append('c');
        if (c.Has(ClientFlags.CloseAsap)) sb.Append('A');
        if (c.Has(ClientFlags.UnixSocket)) sb.Append('U');
        if (c.Has(ClientFlags.Readonly)) sb.Append('r');
        if (c.Has(ClientFlags.NoEvict)) sb.Append('e');
        if (sb.Length == 0) sb.Append('N');
        return sb.ToString();
    }

    /// <summary>Size of the reply chunk Redis keeps inline in the client (obl is counted there, the rest in the list).</summary>
    private const int StaticReplyBuffer = 16 * 1024;

    /// <summary>Bytes Redis would count as reply-list memory (omem, output buffer limits).</summary>
    public static long OutputListBytes(Client c) => Math.Max(0, c.PendingOutputBytes - StaticReplyBuffer);

    /// <summary>Appends one CLIENT LIST line (without the trailing newline).</summary>
    public static void Append(StringBuilder sb, Client c, Client? current)
    {
        long now = Environment.TickCount64;
        var (sub, psub, ssub) = Subscriptions?.Invoke(c) ?? (0, 0, 0);
        int multi = QueuedCommands?.Invoke(c) ?? (c.Has(ClientFlags.Multi) ? 0 : -1);
        long pending = c.PendingOutputBytes;
        long obl = Math.Min(pending, StaticReplyBuffer);
        long omem = OutputListBytes(c);
        long oll = omem == 0 ? 0 : (omem + StaticReplyBuffer - 1) / StaticReplyBuffer;
        long argvMem = 0;
        if (ReferenceEquals(c, current))
        {
            var ctx = c.Context;
            for (int i = 0; i < ctx.Count; i++) argvMem += ctx.Arg(i).Length;
        }
        int qbufFree = Math.Max(0, c.QueryBufferSize - c.QueryBufferLength);
        long rbs = c.Out.Buffer.Length;
        long totMem = c.QueryBufferSize + rbs + c.Sending.Buffer.Length + argvMem + omem + 1024;
        sb.Append("id=").Append(c.Id)
          .Append(" addr=").Append(c.Address)
          .Append(" laddr=").Append(c.LocalAddress)
          .Append(" fd=").Append(c.Fd)
          .Append(" name=").Append(c.Name ?? "")
          .Append(" age=").Append((now - c.CreatedMs) / 1000)
          .Append(" idle=").Append((now - c.LastInteractionMs) / 1000)
          .Append(" flags=").Append(Flags(c))
          .Append(" db=").Append(c.DbIndex)
          .Append(" sub=").Append(sub)
          .Append(" psub=").Append(psub)
          .Append(" ssub=").Append(ssub)
          .Append(" multi=").Append(multi)
          .Append(" qbuf=").Append(c.QueryBufferLength)
          .Append(" qbuf-free=").Append(qbufFree)
          .Append(" argv-mem=").Append(argvMem)
          .Append(" multi-mem=0")
          .Append(" rbs=").Append(rbs)
          .Append(" rbp=").Append(rbs)
          .Append(" obl=").Append(obl)
          .Append(" oll=").Append(oll)
          .Append(" omem=").Append(omem)
          .Append(" tot-mem=").Append(totMem)
          .Append(" events=").Append(pending > 0 && !ReferenceEquals(c, current) ? "rw" : "r")
          .Append(" cmd=").Append(c.LastCommand)
          .Append(" user=").Append(c.User)
          .Append(" redir=").Append(TrackingRedirect?.Invoke(c) ?? -1)
          .Append(" resp=").Append(c.Protocol);
    }

    public static string Line(Client c, Client? current)
    {
        var sb = new StringBuilder(256);
        Append(sb, c, current);
        return sb.ToString();
    }
}
