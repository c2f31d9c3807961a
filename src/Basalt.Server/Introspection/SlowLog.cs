using System.Text;
using Basalt.Server.Commands;

namespace Basalt.Server.Introspection;

/// <summary>One SLOWLOG entry: arguments are copied (and shortened) when the entry is made.</summary>
public sealed record SlowLogEntry(long Id, long UnixSeconds, long Micros, byte[][] Args, string Address, string Name);

/// <summary>
/// The slow log: commands that took at least slowlog-log-slower-than microseconds, newest first,
/// at most slowlog-max-len entries. Mutated under the execution lock.
/// </summary>
public sealed class SlowLog
{
    public const int MaxArgs = 32;
    public const int MaxArgBytes = 128;

    private readonly LinkedList<SlowLogEntry> _entries = new();
    private long _nextId;

    public int Count => _entries.Count;

    /// <summary>Newest first.</summary>
    public IEnumerable<SlowLogEntry> Entries => _entries;

    public void Reset() => _entries.Clear();

    public void MaybeAdd(RedisServer server, Client client, CommandContext ctx, long micros)
    {
        long threshold = server.Config.SlowlogLogSlowerThan;
        if (threshold < 0 || micros < threshold) return;
        int maxLen = server.Config.SlowlogMaxLen;
        var entry = new SlowLogEntry(_nextId++, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), micros, CopyArgs(ctx),
            ClientAddress(client), client.Name ?? "");
        _entries.AddFirst(entry);
        Trim(maxLen);
    }

    public void Trim(int maxLen)
    {
        while (_entries.Count > maxLen) _entries.RemoveLast();
    }

    /// <summary>The address shown for a client: internal clients (scripts, AOF) have none.</summary>
    public static string ClientAddress(Client c) => c.Address;

    /// <summary>At most 32 arguments (the last slot says how many were left out); long ones cut at 128 bytes.</summary>
    private static byte[][] CopyArgs(CommandContext ctx)
    {
        int argc = ctx.Count;
        int kept = argc > MaxArgs ? MaxArgs - 1 : argc;
        var args = new byte[argc > MaxArgs ? MaxArgs : argc][];
        bool redact = Redaction.ShouldRedact(ctx);
        for (int i = 0; i < kept; i++)
        {
            if (redact && Redaction.IsRedacted(ctx, i)) { args[i] = Redaction.Redacted; continue; }
            var a = ctx.Arg(i);
            if (a.Length > MaxArgBytes)
            {
                var suffix = Encoding.ASCII.GetBytes($"... ({a.Length - MaxArgBytes} more bytes)");
                var b = new byte[MaxArgBytes + suffix.Length];
                a[..MaxArgBytes].CopyTo(b);
                suffix.CopyTo(b, MaxArgBytes);
                args[i] = b;
            }
            else args[i] = a.ToArray();
        }
        if (argc > MaxArgs) args[MaxArgs - 1] = Encoding.ASCII.GetBytes($"... ({argc - kept} more arguments)");
        return args;
    }
}

/// <summary>Arguments Redis hides from MONITOR and the slow log (passwords of AUTH, HELLO ... AUTH, MIGRATE ... AUTH).</summary>
public static class Redaction
{
    public static readonly byte[] Redacted = "(redacted)"u8.ToArray();

    public static bool ShouldRedact(CommandContext ctx)
    {
        var name = ctx.Command?.Name;
        return name is "auth" or "hello" or "migrate";
    }

    public static bool IsRedacted(CommandContext ctx, int i)
    {
        if (i == 0) return false;
        switch (ctx.Command.Name)
        {
            case "auth":
                return true;
            case "hello":
                // HELLO [protover [AUTH username password] [SETNAME name]]
                for (int j = 2; j + 2 < ctx.Count; j++)
                    if (ctx.ArgIs(j, "auth"u8)) return i == j + 1 || i == j + 2;
                return false;
            case "migrate":
                for (int j = 6; j < ctx.Count; j++)
                {
                    if (ctx.ArgIs(j, "keys"u8)) return false;
                    if (ctx.ArgIs(j, "auth"u8) && i == j + 1) return true;
                    if (ctx.ArgIs(j, "auth2"u8) && (i == j + 1 || i == j + 2)) return true;
                }
                return false;
        }
        return false;
    }
}
