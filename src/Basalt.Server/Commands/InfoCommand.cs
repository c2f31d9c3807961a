using Basalt.Server.Introspection;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>INFO [section ...]: the server report, a verbatim string in RESP3.</summary>
public static class InfoCommand
{
    public static void Register(CommandTable t)
    {
        t.Add("info", -1, Loading | Stale, 0, 0, 0, Info);
    }

    private static void Info(CommandContext ctx)
    {
        var names = new List<string>(ctx.Count);
        for (int i = 1; i < ctx.Count; i++) names.Add(ctx.ArgString(i));
        var sections = InfoBuilder.Select(names);
        ctx.Reply.WriteVerbatim(new InfoBuilder(ctx.Server).Build(sections));
    }
}
