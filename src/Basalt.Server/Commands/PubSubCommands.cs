using Basalt.Server.Messaging;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.</summary>
public static class PubSubCommands
{
    public static void Register(CommandTable t)
    {
        const CommandFlags Sub = PubSub | NoScript | Loading | Stale;
        t.Add("subscribe", -2, Sub, 0, 0, 0, ctx => SubscribeCmd(ctx, SubKind.Channel));
        t.Add("psubscribe", -2, Sub, 0, 0, 0, ctx => SubscribeCmd(ctx, SubKind.Pattern));
        t.Add("ssubscribe", -2, Sub, 1, -1, 1, ctx => SubscribeCmd(ctx, SubKind.Shard));
        t.Add("unsubscribe", -1, Sub, 0, 0, 0, ctx => UnsubscribeCmd(ctx, SubKind.Channel));
        t.Add("punsubscribe", -1, Sub, 0, 0, 0, ctx => UnsubscribeCmd(ctx, SubKind.Pattern));
        t.Add("sunsubscribe", -1, Sub, 1, -1, 1, ctx => UnsubscribeCmd(ctx, SubKind.Shard));
        t.Add("publish", 3, PubSub | Loading | Stale | Fast, 0, 0, 0, Publish);
        t.Add("spublish", 3, PubSub | Loading | Stale | Fast, 1, 1, 1,
            ctx => ctx.Reply.WriteInteger(ctx.Server.PubSub.ShardPublish(ctx.Arg(1), ctx.Arg(2), ctx.Client)));

        var c = t.AddContainer("pubsub", -2);
        const CommandFlags Intro = PubSub | Loading | Stale;
        CommandTable.AddSub(c, "channels", -2, Intro, 0, 0, 0, ctx => Channels(ctx, shard: false));
        CommandTable.AddSub(c, "shardchannels", -2, Intro, 0, 0, 0, ctx => Channels(ctx, shard: true));
        CommandTable.AddSub(c, "numsub", -2, Intro, 0, 0, 0, ctx => NumSub(ctx, shard: false));
        CommandTable.AddSub(c, "shardnumsub", -2, Intro, 0, 0, 0, ctx => NumSub(ctx, shard: true));
        CommandTable.AddSub(c, "numpat", 2, Intro, 0, 0, 0, ctx => ctx.Reply.WriteInteger(ctx.Server.PubSub.PatternCount));
        CommandTable.AddSub(c, "help", 2, Loading | Stale, 0, 0, 0, ctx => IntrospectionCommands.WriteHelp(ctx, "PUBSUB", HelpLines));
    }

    private static readonly string[] HelpLines =
    [
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
    ];

    private static ReadOnlySpan<byte> SubscribeWord(SubKind kind) => kind switch
    {
        SubKind.Channel => "subscribe"u8,
        SubKind.Pattern => "psubscribe"u8,
        _ => "ssubscribe"u8,
    };

    private static ReadOnlySpan<byte> UnsubscribeWord(SubKind kind) => kind switch
    {
        SubKind.Channel => "unsubscribe"u8,
        SubKind.Pattern => "punsubscribe"u8,
        _ => "sunsubscribe"u8,
    };

    /// <summary>PUBLISH reaches replicas (not the AOF) so their subscribers get the message too, as in Redis 7.0.</summary>
    private static void Publish(CommandContext ctx)
    {
        ctx.Reply.WriteInteger(ctx.Server.PubSub.Publish(ctx.Arg(1), ctx.Arg(2), ctx.Client));
        if (Rewrites.Begin(ctx)) ctx.Propagator.PropagateAsReceived(ctx, Replication.PropagateTargets.Replicas);
    }

    private static void SubscribeCmd(CommandContext ctx, SubKind kind)
    {
        var client = ctx.Client;
        // Clients that expect exactly one reply per command (scripts; shard subscriptions inside MULTI) cannot subscribe.
        bool denied = kind == SubKind.Shard
            ? client.Has(ClientFlags.Multi) || client.Has(ClientFlags.Internal)
            : client.Has(ClientFlags.Internal) && !client.Has(ClientFlags.Multi);
        if (denied)
        {
            var name = kind switch { SubKind.Channel => "SUBSCRIBE", SubKind.Pattern => "PSUBSCRIBE", _ => "SSUBSCRIBE" };
            ctx.Reply.WriteError($"ERR {name} isn't allowed for a DENY BLOCKING client");
            return;
        }
        var reg = ctx.Server.PubSub;
        var r = ctx.Reply;
        for (int i = 1; i < ctx.Count; i++)
        {
            reg.Subscribe(client, kind, ctx.Arg(i));
            r.WritePushHeader(3);
            r.WriteBulk(SubscribeWord(kind));
            r.WriteBulk(ctx.Arg(i));
            r.WriteInteger(reg.ReplyCount(client, kind));
        }
        client.Flags |= ClientFlags.PubSub;
    }

    private static void UnsubscribeCmd(CommandContext ctx, SubKind kind)
    {
        var client = ctx.Client;
        var reg = ctx.Server.PubSub;
        var r = ctx.Reply;
        if (ctx.Count == 1)
        {
            var all = reg.Snapshot(client, kind);
            foreach (var name in all)
            {
                reg.Unsubscribe(client, kind, name);
                WriteUnsubscribed(ctx, kind, name, false);
            }
            if (all.Count == 0) WriteUnsubscribed(ctx, kind, default, true);
        }
        else
        {
            for (int i = 1; i < ctx.Count; i++)
            {
                reg.Unsubscribe(client, kind, ctx.Arg(i));
                WriteUnsubscribed(ctx, kind, ctx.Arg(i), false);
            }
        }
        // Subscribed mode lasts while any subscription of any kind remains.
        if (!reg.HasAny(client)) client.Flags &= ~ClientFlags.PubSub;
    }

    private static void WriteUnsubscribed(CommandContext ctx, SubKind kind, ReadOnlySpan<byte> name, bool none)
    {
        var r = ctx.Reply;
        r.WritePushHeader(3);
        r.WriteBulk(UnsubscribeWord(kind));
        if (none) r.WriteNull(); else r.WriteBulk(name);
        r.WriteInteger(ctx.Server.PubSub.ReplyCount(ctx.Client, kind));
    }

    private static void Channels(CommandContext ctx, bool shard)
    {
        if (ctx.Count > 3) { ClientCommands.SubcommandSyntaxError(ctx, "PUBSUB"); return; }
        var list = ctx.Server.PubSub.ActiveChannels(shard, ctx.Count == 3 ? ctx.Arg(2) : default, all: ctx.Count == 2);
        ctx.Reply.WriteArrayHeader(list.Count);
        foreach (var ch in list) ctx.Reply.WriteBulk(ch);
    }

    private static void NumSub(CommandContext ctx, bool shard)
    {
        var reg = ctx.Server.PubSub;
        // A flat array even in RESP3, as Redis 7.0 replies.
        ctx.Reply.WriteArrayHeader((ctx.Count - 2) * 2);
        for (int i = 2; i < ctx.Count; i++)
        {
            ctx.Reply.WriteBulk(ctx.Arg(i));
            ctx.Reply.WriteInteger(reg.NumSub(shard, ctx.Arg(i)));
        }
    }
}
