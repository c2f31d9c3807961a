namespace Basalt.Server.Commands;

/// <summary>BGREWRITEAOF.</summary>
public static class AofCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("bgrewriteaof", 1, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.NoAsyncLoading, 0, 0, 0, BgRewriteAof);
    }

    private static void BgRewriteAof(CommandContext ctx)
    {
        var err = ctx.Server.Aof.RequestRewrite(out bool scheduled);
        if (err is not null) ctx.Reply.WriteError(err);
        else if (scheduled) ctx.Reply.WriteSimpleString("Background append only file rewriting scheduled");
        else ctx.Reply.WriteSimpleString("Background append only file rewriting started");
    }
}
