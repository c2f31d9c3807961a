using Basalt.Protocol;
using Basalt.Server.Commands;

namespace Basalt.Server;

public enum ReplyMode { On, Off, Skip, SkipNext }

[Flags]
public enum ClientFlags
{
    None = 0,
    CloseAfterReply = 1 << 0,
    CloseAsap = 1 << 1,
    Monitor = 1 << 2,
    NoEvict = 1 << 3,
    NoTouch = 1 << 4,
    Replica = 1 << 5,
    Master = 1 << 6,
    PubSub = 1 << 7,
    Multi = 1 << 8,
    Blocked = 1 << 9,
    UnixSocket = 1 << 10,
    Readonly = 1 << 11,
    /// <summary>Not a network client: scripts, AOF loading, internal execution.</summary>
    Internal = 1 << 12,
}

/// <summary>
/// A client session: everything CLIENT LIST shows and commands change (db, protocol, name, auth),
/// plus the reply buffers. The network side lives in <see cref="Networking.ClientConnection"/>;
/// internal clients (scripts, AOF replay) have no connection.
/// </summary>
public sealed class Client
{
    private RespWriter _out;
    private RespWriter _sending;
    private int _protocol = 2;

    public Client(RedisServer server, long id)
    {
        Server = server;
        Id = id;
        _out = new RespWriter(4096);
        _sending = new RespWriter(4096);
        Context = new CommandContext(this, server);
        CreatedMs = Environment.TickCount64;
        LastInteractionMs = CreatedMs;
    }

    public RedisServer Server { get; }
    public long Id { get; }
    public CommandContext Context { get; }

    /// <summary>Replies accumulate here under the execution lock.</summary>
    public RespWriter Out => _out;

    /// <summary>The buffer currently being sent (owned by the sender, never touched by handlers).</summary>
    public RespWriter Sending => _sending;

    /// <summary>1 while a send is in progress; taken with a full fence so a push never strands data.</summary>
    internal int SendInProgress;

    public int Protocol
    {
        get => _protocol;
        set { _protocol = value; _out.Protocol = value; _sending.Protocol = value; }
    }

    public int DbIndex { get; set; }
    public string? Name { get; set; }
    public string? LibName { get; set; }
    public string? LibVersion { get; set; }
    public string User { get; set; } = "default";
    public bool Authenticated { get; set; }
    public ClientFlags Flags { get; set; }
    public ReplyMode ReplyMode { get; set; } = ReplyMode.On;

    public string Address { get; set; } = "";
    public string LocalAddress { get; set; } = "";
    public int Fd { get; set; } = -1;

    public long CreatedMs { get; }
    public long LastInteractionMs { get; set; }
    public string LastCommand { get; set; } = "NULL";

    /// <summary>Bytes waiting in the receive buffer (CLIENT LIST qbuf).</summary>
    public int QueryBufferLength { get; set; }
    public int QueryBufferSize { get; set; }
    public long NetInputBytes { get; set; }
    public long NetOutputBytes { get; set; }
    public long CommandsProcessed { get; set; }

    /// <summary>The socket side, null for internal clients.</summary>
    public Networking.ClientConnection? Connection { get; set; }

    public bool Has(ClientFlags f) => (Flags & f) != 0;

    /// <summary>When pending output first went over the soft output buffer limit (tick ms), 0 when under it.</summary>
    internal long OutputSoftLimitSinceMs;

    /// <summary>Pending reply bytes (CLIENT LIST omem/tot-mem use this).</summary>
    public long PendingOutputBytes => _out.Length + _sending.Length;

    /// <summary>
    /// Under the execution lock: if nothing is being sent, swaps the pending replies into the send buffer
    /// and claims the sender role. Returns true when the caller must now send <see cref="Sending"/>.
    /// </summary>
    internal bool TryBeginSend()
    {
        if (_out.Length == 0) return false;
        if (Interlocked.CompareExchange(ref SendInProgress, 1, 0) != 0) return false;
        (_out, _sending) = (_sending, _out);
        return true;
    }

    /// <summary>
    /// Sends replies appended from another client's command (pub/sub, MONITOR, unblocking).
    /// Called under the execution lock.
    /// </summary>
    public void WakeWriter()
    {
        if (Connection is null) return;
        if (Server.Dispatcher.Introspection.OutputLimits.Check(this)) return;
        Server.BeforeRepliesSent?.Invoke(); // e.g. a served BLPOP: its pop is in the AOF before the reply leaves
        if (TryBeginSend()) Connection.ScheduleSend();
    }
}
