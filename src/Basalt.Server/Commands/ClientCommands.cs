namespace Basalt.Server.Commands;

public static class ClientCommands
{
    public static void Register(CommandTable t)
    {
    }
}
