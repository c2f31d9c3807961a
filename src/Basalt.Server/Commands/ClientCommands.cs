using System.Text;
using Basalt.Protocol;
using Basalt.Server.Introspection;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>CLIENT: ID, INFO, LIST, KILL, SETNAME, GETNAME, PAUSE, UNPAUSE, REPLY, NO-EVICT, UNBLOCK, GETREDIR, TRACKINGINFO, TRACKING, CACHING, HELP.</summary>
public static class ClientCommands
{
    /// <summary>Unblocks a blocked client (set by the blocking-commands subsystem): (client, withError) → whether it was blocked.</summary>
    public static Func<Client, bool, bool>? Unblock;

    /// <summary>Whether an ACL user exists (CLIENT KILL USER); only "default" until ACLs exist.</summary>
    public static Func<string, bool>? UserExists;

    public static void Register(CommandTable t)
    {
        var c = t.AddContainer("client", -2);
        const CommandFlags Conn = NoScript | Loading | Stale;
        CommandTable.AddSub(c, "id", 2, Conn, 0, 0, 0, ctx => ctx.Reply.WriteInteger(ctx.Client.Id));
        CommandTable.AddSub(c, "info", 2, Conn, 0, 0, 0, Info);
        CommandTable.AddSub(c, "list", -2, Admin | Conn, 0, 0, 0, List);
        CommandTable.AddSub(c, "kill", -3, Admin | Conn, 0, 0, 0, Kill);
        CommandTable.AddSub(c, "setname", 3, Conn, 0, 0, 0, SetName);
        CommandTable.AddSub(c, "getname", 2, Conn, 0, 0, 0, GetName);
        CommandTable.AddSub(c, "pause", -3, Admin | Conn, 0, 0, 0, Pause);
        CommandTable.AddSub(c, "unpause", 2, Admin | Conn, 0, 0, 0, Unpause);
        CommandTable.AddSub(c, "reply", 3, Conn, 0, 0, 0, Reply);
        CommandTable.AddSub(c, "no-evict", 3, Admin | Conn, 0, 0, 0, NoEvict);
        CommandTable.AddSub(c, "unblock", -3, Admin | Conn, 0, 0, 0, UnblockCmd);
        CommandTable.AddSub(c, "getredir", 2, Conn, 0, 0, 0, Tracking.TrackingCommands.GetRedir);
        CommandTable.AddSub(c, "trackinginfo", 2, Conn, 0, 0, 0, Tracking.TrackingCommands.TrackingInfo);
        CommandTable.AddSub(c, "tracking", -3, Conn, 0, 0, 0, Tracking.TrackingCommands.Tracking);
        CommandTable.AddSub(c, "caching", 3, Conn, 0, 0, 0, Tracking.TrackingCommands.Caching);
        CommandTable.AddSub(c, "help", 2, Loading | Stale, 0, 0, 0, ctx => IntrospectionCommands.WriteHelp(ctx, "CLIENT", HelpLines));
    }

    private static readonly string[] HelpLines =
    [
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
    ];

    /// <summary>"unknown subcommand or wrong number of arguments" for argument counts the subcommand's arity allows but it does not.</summary>
    internal static void SubcommandSyntaxError(CommandContext ctx, string container)
    {
        var sub = ctx.Arg(1);
        ctx.Reply.WriteError($"ERR unknown subcommand or wrong number of arguments for '{Encoding.UTF8.GetString(sub.Length > 128 ? sub[..128] : sub)}'. Try {container} HELP.");
    }

    private static void Info(CommandContext ctx)
    {
        ctx.Reply.WriteVerbatim(ClientInfo.Line(ctx.Client, ctx.Client) + "\n");
    }

    private static void List(CommandContext ctx)
    {
        var clients = ctx.Server.Clients;
        var sb = new StringBuilder();
        if (ctx.Count == 4 && ctx.ArgIs(2, "type"u8))
        {
            if (!ClientInfo.TryParseType(ctx.Arg(3), out var type))
            {
                ctx.Reply.WriteError($"ERR Unknown client type '{ctx.ArgString(3)}'");
                return;
            }
            foreach (var c in clients.All)
            {
                if (ClientInfo.TypeOf(c) != type) continue;
                ClientInfo.Append(sb, c, ctx.Client);
                sb.Append('\n');
            }
        }
        else if (ctx.Count > 3 && ctx.ArgIs(2, "id"u8))
        {
            for (int i = 3; i < ctx.Count; i++)
            {
                if (!ctx.TryArgInt64(i, out long id))
                {
                    ctx.Reply.WriteError("ERR Invalid client ID");
                    return;
                }
                var c = clients.Find(id);
                if (c is null) continue;
                ClientInfo.Append(sb, c, ctx.Client);
                sb.Append('\n');
            }
        }
        else if (ctx.Count != 2)
        {
            ctx.SyntaxError();
            return;
        }
        else
        {
            foreach (var c in clients.All)
            {
                ClientInfo.Append(sb, c, ctx.Client);
                sb.Append('\n');
            }
        }
        ctx.Reply.WriteVerbatim(sb.ToString());
    }

    private static void Kill(CommandContext ctx)
    {
        string? addr = null, laddr = null, user = null;
        long id = 0;
        ClientType? type = null;
        bool skipMe = true;
        bool oldStyle = ctx.Count == 3;
        if (oldStyle)
        {
            addr = ctx.ArgString(2);
            skipMe = false; // the old form may kill the caller itself
        }
        else
        {
            for (int i = 2; i < ctx.Count; i += 2)
            {
                bool hasValue = i + 1 < ctx.Count;
                if (!hasValue) { ctx.SyntaxError(); return; }
                if (ctx.ArgIs(i, "id"u8))
                {
                    if (!ctx.TryArgInt64(i + 1, out id) || id < 1)
                    {
                        ctx.Reply.WriteError("ERR client-id should be greater than 0");
                        return;
                    }
                }
                else if (ctx.ArgIs(i, "type"u8))
                {
                    if (!ClientInfo.TryParseType(ctx.Arg(i + 1), out var t))
                    {
                        ctx.Reply.WriteError($"ERR Unknown client type '{ctx.ArgString(i + 1)}'");
                        return;
                    }
                    type = t;
                }
                else if (ctx.ArgIs(i, "addr"u8)) addr = ctx.ArgString(i + 1);
                else if (ctx.ArgIs(i, "laddr"u8)) laddr = ctx.ArgString(i + 1);
                else if (ctx.ArgIs(i, "user"u8))
                {
                    user = ctx.ArgString(i + 1);
                    bool exists = UserExists?.Invoke(user) ?? user == "default";
                    if (!exists)
                    {
                        ctx.Reply.WriteError($"ERR No such user '{user}'");
                        return;
                    }
                }
                else if (ctx.ArgIs(i, "skipme"u8))
                {
                    if (ctx.ArgIs(i + 1, "yes"u8)) skipMe = true;
                    else if (ctx.ArgIs(i + 1, "no"u8)) skipMe = false;
                    else { ctx.SyntaxError(); return; }
                }
                else { ctx.SyntaxError(); return; }
            }
        }

        var victims = new List<Client>();
        foreach (var c in ctx.Server.Clients.All)
        {
            if (addr is not null && c.Address != addr) continue;
            if (laddr is not null && c.LocalAddress != laddr) continue;
            if (type is not null && ClientInfo.TypeOf(c) != type) continue;
            if (id != 0 && c.Id != id) continue;
            if (user is not null && c.User != user) continue;
            if (ReferenceEquals(c, ctx.Client) && skipMe) continue;
            victims.Add(c);
        }
        foreach (var c in victims) Close(ctx, c);

        if (oldStyle)
        {
            if (victims.Count == 0) ctx.Reply.WriteError("ERR No such client");
            else ctx.Reply.WriteOk();
        }
        else ctx.Reply.WriteInteger(victims.Count);
    }

    /// <summary>The caller is closed after its reply; others at once.</summary>
    private static void Close(CommandContext ctx, Client c)
    {
        if (ReferenceEquals(c, ctx.Client))
        {
            c.Flags |= ClientFlags.CloseAfterReply;
            return;
        }
        c.Flags |= ClientFlags.CloseAsap;
        c.Connection?.Shutdown();
    }

    /// <summary>Names are visible ASCII only ('!' to '~'); an empty name clears it.</summary>
    private static void SetName(CommandContext ctx)
    {
        var name = ctx.Arg(2);
        foreach (byte b in name)
        {
            if (b < '!' || b > '~')
            {
                ctx.Reply.WriteError("ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
        }
        ctx.Client.Name = name.Length == 0 ? null : Encoding.ASCII.GetString(name);
        ctx.Reply.WriteOk();
    }

    private static void GetName(CommandContext ctx)
    {
        if (ctx.Client.Name is null) ctx.Reply.WriteNull();
        else ctx.Reply.WriteBulk(ctx.Client.Name);
    }

    /// <summary>
    /// CLIENT PAUSE timeout [WRITE|ALL]: a pause only ever extends (the later end wins) and escalates (ALL wins over WRITE).
    /// Connections delay the affected commands until the pause ends (see ClientConnection).
    /// </summary>
    private static void Pause(CommandContext ctx)
    {
        if (ctx.Count != 3 && ctx.Count != 4)
        {
            SubcommandSyntaxError(ctx, "CLIENT");
            return;
        }
        if (!ctx.TryArgInt64(2, out long ms))
        {
            ctx.Reply.WriteError("ERR timeout is not an integer or out of range");
            return;
        }
        if (ms < 0)
        {
            ctx.Reply.WriteError("ERR timeout is negative");
            return;
        }
        bool writesOnly = false;
        if (ctx.Count == 4)
        {
            if (ctx.ArgIs(3, "write"u8)) writesOnly = true;
            else if (!ctx.ArgIs(3, "all"u8))
            {
                ctx.Reply.WriteError("ERR CLIENT PAUSE mode must be WRITE or ALL");
                return;
            }
        }
        var server = ctx.Server;
        long now = Environment.TickCount64;
        long end = unchecked(now + ms);
        bool active = server.PausedUntilMs != 0 && now < server.PausedUntilMs;
        if (active)
        {
            if (!server.PauseWritesOnly) writesOnly = false;
            if (server.PausedUntilMs > end) end = server.PausedUntilMs;
        }
        server.PauseWritesOnly = writesOnly;
        server.PausedUntilMs = end;
        ctx.Reply.WriteOk();
    }

    private static void Unpause(CommandContext ctx)
    {
        ctx.Server.PausedUntilMs = 0;
        ctx.Server.PauseWritesOnly = false;
        ctx.Reply.WriteOk();
    }

    /// <summary>OFF and SKIP are not answered; SKIP applies to the next command (the dispatcher drops its reply).</summary>
    private static void Reply(CommandContext ctx)
    {
        var client = ctx.Client;
        if (ctx.ArgIs(2, "on"u8))
        {
            client.ReplyMode = ReplyMode.On;
            ctx.Reply.WriteOk();
        }
        else if (ctx.ArgIs(2, "off"u8)) client.ReplyMode = ReplyMode.Off;
        else if (ctx.ArgIs(2, "skip"u8))
        {
            if (client.ReplyMode != ReplyMode.Off) client.ReplyMode = ReplyMode.SkipNext;
        }
        else ctx.SyntaxError();
    }

    private static void NoEvict(CommandContext ctx)
    {
        if (ctx.ArgIs(2, "on"u8)) ctx.Client.Flags |= ClientFlags.NoEvict;
        else if (ctx.ArgIs(2, "off"u8)) ctx.Client.Flags &= ~ClientFlags.NoEvict;
        else { ctx.SyntaxError(); return; }
        ctx.Reply.WriteOk();
    }

    private static void UnblockCmd(CommandContext ctx)
    {
        if (ctx.Count != 3 && ctx.Count != 4)
        {
            SubcommandSyntaxError(ctx, "CLIENT");
            return;
        }
        if (!ctx.GetInt64OrReply(2, out long id)) return;
        bool withError = false;
        if (ctx.Count == 4)
        {
            if (ctx.ArgIs(3, "error"u8)) withError = true;
            else if (!ctx.ArgIs(3, "timeout"u8))
            {
                ctx.Reply.WriteError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
                return;
            }
        }
        var target = ctx.Server.Clients.Find(id);
        bool done = target is not null && target.Has(ClientFlags.Blocked) && Unblock is not null && Unblock(target, withError);
        ctx.Reply.WriteInteger(done ? 1 : 0);
    }
}
