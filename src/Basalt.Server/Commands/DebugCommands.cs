namespace Basalt.Server.Commands;

public static class DebugCommands
{
    public static void Register(CommandTable t)
    {
    }
}
