namespace Basalt.Server.Commands;

public static class IntrospectionCommands
{
    public static void Register(CommandTable t)
    {
    }
}
