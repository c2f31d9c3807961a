using System.Text;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET.</summary>
public static class ConnectionCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("ping", -1, Fast | Sentinel, 0, 0, 0, Ping);
        t.Add("echo", 2, Loading | Stale | Fast, 0, 0, 0, ctx => ctx.Reply.WriteBulk(ctx.Arg(1)));
        t.Add("quit", -1, AllowBusy | NoScript | Loading | Stale | Fast | NoAuth, 0, 0, 0, Quit);
        t.Add("select", 2, Loading | Stale | Fast, 0, 0, 0, Select);
        t.Add("auth", -2, NoScript | Loading | Stale | Fast | NoAuth | Sentinel | AllowBusy, 0, 0, 0, Auth);
        t.Add("hello", -1, NoScript | Loading | Stale | Fast | NoAuth | Sentinel | AllowBusy, 0, 0, 0, Hello);
        t.Add("reset", 1, NoScript | Loading | Stale | Fast | NoAuth | Sentinel | AllowBusy, 0, 0, 0, Reset);
    }

    private static void Ping(CommandContext ctx)
    {
        if (ctx.Count > 2) { ctx.Reply.WriteError(Errors.WrongArity("ping")); return; }
        if (ctx.Client.Has(ClientFlags.PubSub) && !ctx.Reply.IsResp3)
        {
            // In RESP2 subscribed mode PING answers with a pong message array.
            ctx.Reply.WriteArrayHeader(2);
            ctx.Reply.WriteBulk("pong"u8);
            if (ctx.Count == 2) ctx.Reply.WriteBulk(ctx.Arg(1)); else ctx.Reply.WriteBulk(""u8);
            return;
        }
        if (ctx.Count == 1) ctx.Reply.WriteRaw("+PONG\r\n"u8);
        else ctx.Reply.WriteBulk(ctx.Arg(1));
    }

    private static void Quit(CommandContext ctx)
    {
        ctx.Reply.WriteOk();
        ctx.Client.Flags |= ClientFlags.CloseAfterReply;
    }

    private static void Select(CommandContext ctx)
    {
        if (!ctx.TryArgInt64(1, out long idx)) { ctx.Reply.WriteError(Errors.NotInteger); return; }
        if (idx != (int)idx) { ctx.Reply.WriteError("ERR value is out of range, value must between -2147483648 and 2147483647"); return; }
        if (idx < 0 || idx >= ctx.Server.Databases.Length) { ctx.Reply.WriteError(Errors.DbIndexOutOfRange); return; }
        ctx.Client.DbIndex = (int)idx;
        ctx.Reply.WriteOk();
    }

    /// <summary>Checks a user/password pair against requirepass (the default user is the only one until ACLs come).</summary>
    internal static bool CheckPassword(CommandContext ctx, ReadOnlySpan<byte> user, ReadOnlySpan<byte> pass)
    {
        var required = ctx.Server.Config.RequirePass;
        if (!Ascii.Equals(user, "default"u8) && !user.SequenceEqual("default"u8)) return false;
        if (required.Length == 0) return true; // the default user has nopass
        return pass.SequenceEqual(Encoding.UTF8.GetBytes(required));
    }

    private static void Auth(CommandContext ctx)
    {
        if (ctx.Count > 3) { ctx.SyntaxError(); return; }
        ReadOnlySpan<byte> user = ctx.Count == 3 ? ctx.Arg(1) : "default"u8;
        var pass = ctx.Arg(ctx.Count - 1);
        if (ctx.Count == 2 && !ctx.Server.Config.RequiresAuth) { ctx.Reply.WriteError(Errors.AuthNotConfigured); return; }
        if (CheckPassword(ctx, user, pass))
        {
            ctx.Client.Authenticated = true;
            ctx.Client.User = Encoding.UTF8.GetString(user);
            ctx.Reply.WriteOk();
        }
        else
        {
            ctx.Reply.WriteError(Errors.WrongPass);
        }
    }

    private static void Hello(CommandContext ctx)
    {
        int ver = ctx.Client.Protocol;
        int i = 1;
        if (ctx.Count >= 2)
        {
            if (!ctx.TryArgInt64(1, out long v)) { ctx.Reply.WriteError("ERR Protocol version is not an integer or out of range"); return; }
            if (v < 2 || v > 3) { ctx.Reply.WriteError("NOPROTO unsupported protocol version"); return; }
            ver = (int)v;
            i = 2;
        }
        string? setName = null;
        for (; i < ctx.Count; i++)
        {
            bool more = i + 1 < ctx.Count;
            if (ctx.ArgIs(i, "auth"u8) && i + 2 < ctx.Count)
            {
                if (!CheckPassword(ctx, ctx.Arg(i + 1), ctx.Arg(i + 2))) { ctx.Reply.WriteError(Errors.WrongPass); return; }
                ctx.Client.Authenticated = true;
                ctx.Client.User = ctx.ArgString(i + 1);
                i += 2;
            }
            else if (ctx.ArgIs(i, "setname"u8) && more)
            {
                setName = ctx.ArgString(i + 1);
                if (!ClientNameValid(setName)) { ctx.Reply.WriteError("ERR Client names cannot contain spaces, newlines or special characters."); return; }
                i++;
            }
            else
            {
                ctx.Reply.WriteError($"ERR Syntax error in HELLO option '{ctx.ArgString(i)}'");
                return;
            }
        }
        if (!ctx.Client.Authenticated) { ctx.Reply.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"); return; }
        if (setName is not null) ctx.Client.Name = setName.Length == 0 ? null : setName;
        ctx.Client.Protocol = ver;
        var r = ctx.Reply;
        r.WriteMapHeader(7);
        r.WriteBulk("server"u8); r.WriteBulk("redis"u8);
        r.WriteBulk("version"u8); r.WriteBulk(ServerMain.RedisVersion);
        r.WriteBulk("proto"u8); r.WriteInteger(ver);
        r.WriteBulk("id"u8); r.WriteInteger(ctx.Client.Id);
        r.WriteBulk("mode"u8); r.WriteBulk(ctx.Server.Config.SentinelMode ? "sentinel"u8 : "standalone"u8);
        r.WriteBulk("role"u8); r.WriteBulk("master"u8);
        r.WriteBulk("modules"u8); r.WriteArrayHeader(0);
    }

    public static bool ClientNameValid(string name)
    {
        foreach (char c in name) if (c < '!' || c > '~') return false;
        return true;
    }

    private static void Reset(CommandContext ctx)
    {
        var c = ctx.Client;
        c.DbIndex = 0;
        c.Protocol = 2;
        c.Name = null;
        c.ReplyMode = ReplyMode.On;
        c.Flags &= ~(ClientFlags.NoEvict | ClientFlags.NoTouch);
        c.Authenticated = !ctx.Server.Config.RequiresAuth;
        c.User = "default";
        ctx.Server.ClientReset?.Invoke(c);
        ctx.Reply.WriteSimpleString("RESET"u8);
    }
}
