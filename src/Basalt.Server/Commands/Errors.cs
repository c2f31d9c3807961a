namespace Basalt.Server.Commands;

/// <summary>Redis's error replies, word for word (without the leading '-').</summary>
public static class Errors
{
    public const string Syntax = "ERR syntax error";
    public const string WrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";
    public const string NotInteger = "ERR value is not an integer or out of range";
    public const string NotFloat = "ERR value is not a valid float";
    public const string Overflow = "ERR increment or decrement would overflow";
    public const string NoSuchKey = "ERR no such key";
    public const string DbIndexOutOfRange = "ERR DB index is out of range";
    public const string InvalidDbIndex = "ERR invalid DB index";
    public const string NoAuth = "NOAUTH Authentication required.";
    public const string WrongPass = "WRONGPASS invalid username-password pair or user is disabled.";
    public const string AuthNotConfigured = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
    public const string MaxClients = "ERR max number of clients reached";
    public const string InvalidExpire = "ERR invalid expire time in '{0}' command";
    public const string StringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    public const string OutOfRange = "ERR index out of range";
    public const string BitOffset = "ERR bit offset is not an integer or out of range";
    public const string BitValue = "ERR bit is not an integer or out of range";
    public const string NotNegative = "ERR value is out of range, must be positive";

    public static string UnknownCommand(string name, string argsPreview) =>
        $"ERR unknown command '{name}', with args beginning with: {argsPreview}";

    public static string WrongArity(string fullName) =>
        $"ERR wrong number of arguments for '{fullName}' command";

    public static string UnknownSubcommand(string sub, string container) =>
        $"ERR unknown subcommand '{sub}'. Try {container.ToUpperInvariant()} HELP.";
}
