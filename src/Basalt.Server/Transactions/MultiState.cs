using Basalt.Protocol;
using Basalt.Server.Commands;

namespace Basalt.Server.Transactions;

/// <summary>One queued command: its arguments copied into one array (the receive buffer is reused).</summary>
public readonly struct QueuedCommand
{
    public readonly byte[] Buffer;
    public readonly ArgRef[] Args;

    public QueuedCommand(byte[] buffer, ArgRef[] args)
    {
        Buffer = buffer;
        Args = args;
    }

    /// <summary>Copies the arguments the context currently holds.</summary>
    public static QueuedCommand Copy(CommandContext ctx)
    {
        int total = 0;
        for (int i = 0; i < ctx.Count; i++) total += ctx.Arg(i).Length;
        var buf = new byte[total];
        var refs = new ArgRef[ctx.Count];
        int pos = 0;
        for (int i = 0; i < ctx.Count; i++)
        {
            var a = ctx.Arg(i);
            a.CopyTo(buf.AsSpan(pos));
            refs[i] = new ArgRef { Offset = pos, Length = a.Length };
            pos += a.Length;
        }
        return new QueuedCommand(buf, refs);
    }
}

/// <summary>
/// A client's transaction state: the MULTI queue and the keys it WATCHes. Exists only for clients that
/// used MULTI or WATCH; removed again when both are over.
/// </summary>
public sealed class MultiState
{
    public MultiState(Client client) => Client = client;

    public Client Client { get; }

    /// <summary>Queued commands; null when the client is not in MULTI.</summary>
    public List<QueuedCommand>? Queue;

    /// <summary>Union of the queued commands' flags (write transactions matter to propagation and CLIENT PAUSE).</summary>
    public CommandFlags QueuedFlags;

    /// <summary>A command was rejected while queueing: EXEC answers EXECABORT.</summary>
    public bool DirtyExec;

    /// <summary>A watched key was modified: EXEC answers a null array.</summary>
    public bool DirtyCas;

    /// <summary>Keys watched by this client, in WATCH order.</summary>
    public readonly List<WatchEntry> Watched = new();

    public bool InMulti => Queue is not null;

    public bool IsIdle => Queue is null && Watched.Count == 0 && !DirtyCas;
}

/// <summary>One (client, db, key) watch. <see cref="Expired"/>: the key was already logically expired when watched.</summary>
public sealed class WatchEntry
{
    public required MultiState Owner { get; init; }
    public required int Db { get; init; }
    public required byte[] Key { get; init; }
    public bool Expired;
}
