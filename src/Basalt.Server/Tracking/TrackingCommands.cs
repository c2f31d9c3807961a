using System.Text;
using Basalt.Server.Commands;

namespace Basalt.Server.Tracking;

/// <summary>CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO (registered by ClientCommands).</summary>
public static class TrackingCommands
{
    private const string SwitchBcast = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
    private const string SwitchOpt = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";

    /// <summary>CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]</summary>
    public static void Tracking(CommandContext ctx)
    {
        long redirect = 0;
        var options = TrackingMode.None;
        var prefixes = new List<byte[]>();
        for (int j = 3; j < ctx.Count; j++)
        {
            bool more = j + 1 < ctx.Count;
            if (ctx.ArgIs(j, "redirect"u8) && more)
            {
                j++;
                if (redirect != 0)
                {
                    ctx.Reply.WriteError("ERR A client can only redirect to a single other client");
                    return;
                }
                if (!ctx.GetInt64OrReply(j, out redirect)) return;
                // The target must exist now, even if it may go away later.
                if (ctx.Server.Clients.Find(redirect) is null)
                {
                    ctx.Reply.WriteError("ERR The client ID you want redirect to does not exist");
                    return;
                }
            }
            else if (ctx.ArgIs(j, "bcast"u8)) options |= TrackingMode.Bcast;
            else if (ctx.ArgIs(j, "optin"u8)) options |= TrackingMode.OptIn;
            else if (ctx.ArgIs(j, "optout"u8)) options |= TrackingMode.OptOut;
            else if (ctx.ArgIs(j, "noloop"u8)) options |= TrackingMode.NoLoop;
            else if (ctx.ArgIs(j, "prefix"u8) && more)
            {
                j++;
                prefixes.Add(ctx.ArgBytes(j));
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }

        var table = ctx.Server.Dispatcher.Tracking;
        if (ctx.ArgIs(2, "on"u8))
        {
            var current = table.Get(ctx.Client);
            if ((options & TrackingMode.Bcast) == 0 && prefixes.Count > 0)
            {
                ctx.Reply.WriteError("ERR PREFIX option requires BCAST mode to be enabled");
                return;
            }
            if (current is not null && ((current.Mode ^ options) & TrackingMode.Bcast) != 0)
            {
                ctx.Reply.WriteError(SwitchBcast);
                return;
            }
            if ((options & TrackingMode.Bcast) != 0 && (options & (TrackingMode.OptIn | TrackingMode.OptOut)) != 0)
            {
                ctx.Reply.WriteError("ERR OPTIN and OPTOUT are not compatible with BCAST");
                return;
            }
            if ((options & TrackingMode.OptIn) != 0 && (options & TrackingMode.OptOut) != 0)
            {
                ctx.Reply.WriteError("ERR You can't specify both OPTIN mode and OPTOUT mode");
                return;
            }
            if (current is not null &&
                (((options & TrackingMode.OptIn) != 0 && (current.Mode & TrackingMode.OptOut) != 0) ||
                 ((options & TrackingMode.OptOut) != 0 && (current.Mode & TrackingMode.OptIn) != 0)))
            {
                ctx.Reply.WriteError(SwitchOpt);
                return;
            }
            if ((options & TrackingMode.Bcast) != 0 && !CheckPrefixes(ctx, current, prefixes)) return;
            table.Enable(ctx.Client, redirect, options, prefixes);
        }
        else if (ctx.ArgIs(2, "off"u8)) table.Disable(ctx.Client);
        else
        {
            ctx.SyntaxError();
            return;
        }
        ctx.Reply.WriteOk();
    }

    /// <summary>A client's prefixes must not overlap, neither with its existing ones nor among the new ones.</summary>
    private static bool CheckPrefixes(CommandContext ctx, ClientTracking? current, List<byte[]> prefixes)
    {
        for (int i = 0; i < prefixes.Count; i++)
        {
            if (current is not null)
            {
                foreach (var p in current.Prefixes)
                {
                    if (!TrackingTable.Overlaps(prefixes[i], p)) continue;
                    ctx.Reply.WriteError($"ERR Prefix '{Text(prefixes[i])}' overlaps with an existing prefix '{Text(p)}'. Prefixes for a single client must not overlap.");
                    return false;
                }
            }
            for (int j = i + 1; j < prefixes.Count; j++)
            {
                if (!TrackingTable.Overlaps(prefixes[i], prefixes[j])) continue;
                ctx.Reply.WriteError($"ERR Prefix '{Text(prefixes[i])}' overlaps with another provided prefix '{Text(prefixes[j])}'. Prefixes for a single client must not overlap.");
                return false;
            }
        }
        return true;
    }

    private static string Text(byte[] b) => Encoding.UTF8.GetString(b);

    /// <summary>CLIENT CACHING YES|NO: track (OPTIN) or skip (OPTOUT) the keys of the next command.</summary>
    public static void Caching(CommandContext ctx)
    {
        var t = ctx.Server.Dispatcher.Tracking.Get(ctx.Client);
        if (t is null)
        {
            ctx.Reply.WriteError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
            return;
        }
        if (ctx.ArgIs(2, "yes"u8))
        {
            if ((t.Mode & TrackingMode.OptIn) == 0)
            {
                ctx.Reply.WriteError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
                return;
            }
        }
        else if (ctx.ArgIs(2, "no"u8))
        {
            if ((t.Mode & TrackingMode.OptOut) == 0)
            {
                ctx.Reply.WriteError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
                return;
            }
        }
        else
        {
            ctx.SyntaxError();
            return;
        }
        t.Mode |= TrackingMode.Caching;
        ctx.Reply.WriteOk();
    }

    /// <summary>CLIENT GETREDIR: the redirect id, 0 when tracking without one, -1 when not tracking.</summary>
    public static void GetRedir(CommandContext ctx) =>
        ctx.Reply.WriteInteger(ctx.Server.Dispatcher.Tracking.Get(ctx.Client)?.Redirect ?? -1);

    /// <summary>CLIENT TRACKINGINFO: flags (set), redirect, prefixes.</summary>
    public static void TrackingInfo(CommandContext ctx)
    {
        var t = ctx.Server.Dispatcher.Tracking.Get(ctx.Client);
        var r = ctx.Reply;
        r.WriteMapHeader(3);
        r.WriteBulk("flags"u8);
        if (t is null)
        {
            r.WriteSetHeader(1);
            r.WriteBulk("off"u8);
        }
        else
        {
            var flags = new List<string> { "on" };
            var m = t.Mode;
            if ((m & TrackingMode.Bcast) != 0) flags.Add("bcast");
            if ((m & TrackingMode.OptIn) != 0)
            {
                flags.Add("optin");
                if ((m & TrackingMode.Caching) != 0) flags.Add("caching-yes");
            }
            if ((m & TrackingMode.OptOut) != 0)
            {
                flags.Add("optout");
                if ((m & TrackingMode.Caching) != 0) flags.Add("caching-no");
            }
            if ((m & TrackingMode.NoLoop) != 0) flags.Add("noloop");
            if ((m & TrackingMode.BrokenRedirect) != 0) flags.Add("broken_redirect");
            r.WriteSetHeader(flags.Count);
            foreach (var f in flags) r.WriteBulk(f);
        }
        r.WriteBulk("redirect"u8);
        r.WriteInteger(t?.Redirect ?? -1);
        r.WriteBulk("prefixes"u8);
        if (t is null) r.WriteArrayHeader(0);
        else
        {
            r.WriteArrayHeader(t.Prefixes.Count);
            foreach (var p in t.Prefixes) r.WriteBulk(p);
        }
    }
}
