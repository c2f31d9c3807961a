namespace Basalt.Server.Commands;

public static class ConfigCommands
{
    public static void Register(CommandTable t)
    {
    }
}
