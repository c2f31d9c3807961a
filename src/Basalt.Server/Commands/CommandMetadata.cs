namespace Basalt.Server.Commands;

/// <summary>
/// Descriptive metadata of commands (ACL categories, key specs, docs) that COMMAND INFO/DOCS report,
/// kept apart from the handlers so the family files stay about behaviour.
/// </summary>
public static partial class CommandMetadata
{
    /// <summary>Attaches metadata to every registered command and subcommand.</summary>
    public static void Attach(CommandTable table)
    {
        foreach (var def in table.All)
        {
            def.Info = Lookup(def.FullName, def);
            if (def.Subcommands is null) continue;
            foreach (var sub in def.Subcommands.Values) sub.Info = Lookup(sub.FullName, sub);
        }
    }

    private static CommandInfo Lookup(string fullName, CommandDef def) => CommandInfo.Empty;
}
