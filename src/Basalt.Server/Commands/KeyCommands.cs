using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>Generic key commands: DEL, EXISTS, TYPE, expiry, renaming, SCAN...</summary>
public static class KeyCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("del", -2, Write, 1, -1, 1, Del);
        t.Add("unlink", -2, Write | Fast, 1, -1, 1, Del);
        t.Add("exists", -2, ReadOnly | Fast, 1, -1, 1, Exists);
        t.Add("type", 2, ReadOnly | Fast, 1, 1, 1, Type);
    }

    private static void Del(CommandContext ctx)
    {
        var db = ctx.Db;
        long n = 0;
        for (int i = 1; i < ctx.Count; i++)
        {
            var key = ctx.Arg(i);
            if (db.Lookup(key, touch: false) is not null && db.Delete(key)) n++;
        }
        ctx.Server.Dirty += n;
        ctx.Reply.WriteInteger(n);
    }

    private static void Exists(CommandContext ctx)
    {
        var db = ctx.Db;
        long n = 0;
        for (int i = 1; i < ctx.Count; i++) if (db.Lookup(ctx.Arg(i), touch: false) is not null) n++;
        ctx.Reply.WriteInteger(n);
    }

    private static void Type(CommandContext ctx) =>
        ctx.Reply.WriteSimpleString(ValueTypes.TypeName(ctx.Db.Lookup(ctx.Arg(1), touch: false)));
}
