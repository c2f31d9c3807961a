namespace Basalt.Server.Commands;

public static class BitCommands
{
    public static void Register(CommandTable t)
    {
    }
}
