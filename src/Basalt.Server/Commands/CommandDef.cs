namespace Basalt.Server.Commands;

/// <summary>Redis command flags (COMMAND INFO names in lower case).</summary>
[Flags]
public enum CommandFlags : uint
{
    None = 0,
    Write = 1 << 0,
    ReadOnly = 1 << 1,
    DenyOom = 1 << 2,
    Admin = 1 << 3,
    PubSub = 1 << 4,
    NoScript = 1 << 5,
    Blocking = 1 << 6,
    Loading = 1 << 7,
    Stale = 1 << 8,
    SkipMonitor = 1 << 9,
    SkipSlowlog = 1 << 10,
    Fast = 1 << 11,
    NoAuth = 1 << 12,
    MayReplicate = 1 << 13,
    Sentinel = 1 << 14,
    OnlySentinel = 1 << 15,
    NoMandatoryKeys = 1 << 16,
    Protected = 1 << 17,
    AllowBusy = 1 << 18,
    NoAsyncLoading = 1 << 19,
    NoMulti = 1 << 20,
    Module = 1 << 21,
}

public delegate void CommandHandler(CommandContext ctx);

/// <summary>
/// One command (or subcommand) of the table. Arity follows Redis: positive means exactly that many
/// arguments including the name, negative means at least -arity. FirstKey/LastKey/Step are the legacy
/// key positions (LastKey -1 = last argument, -2 = second to last...). Descriptive metadata that only
/// COMMAND INFO/DOCS need (ACL categories, key specs, docs) is attached from <see cref="CommandMetadata"/>.
/// </summary>
public sealed class CommandDef
{
    public required string Name { get; init; }
    public required int Arity { get; init; }
    public CommandFlags Flags { get; init; }
    public int FirstKey { get; init; }
    public int LastKey { get; init; }
    public int Step { get; init; }
    public CommandHandler? Handler { get; init; }

    /// <summary>Subcommands by lower-case name (CONFIG GET, CLIENT LIST...); the handler of the parent is not used then.</summary>
    public Dictionary<string, CommandDef>? Subcommands { get; set; }

    /// <summary>"config|get" for subcommands, else the name.</summary>
    public string FullName { get; set; } = "";

    public CommandDef? Parent { get; set; }

    /// <summary>Descriptive metadata for COMMAND INFO/DOCS, filled in when the table is built.</summary>
    public CommandInfo Info { get; set; } = CommandInfo.Empty;

    // Statistics for INFO commandstats (updated under the execution lock).
    public long Calls;
    public long Microseconds;
    public long RejectedCalls;
    public long FailedCalls;

    public bool IsWrite => (Flags & CommandFlags.Write) != 0;

    public bool CheckArity(int argc) => Arity > 0 ? argc == Arity : argc >= -Arity;
}

/// <summary>What COMMAND INFO and COMMAND DOCS report beyond dispatch data.</summary>
public sealed record CommandInfo
{
    public static readonly CommandInfo Empty = new();
    public string[] AclCategories { get; init; } = [];
    public KeySpec[] KeySpecs { get; init; } = [];
    public string[] Tips { get; init; } = [];
    public string Summary { get; init; } = "";
    public string Since { get; init; } = "1.0.0";
    public string Group { get; init; } = "generic";
    public string Complexity { get; init; } = "";
    public CommandArg[] Arguments { get; init; } = [];
}

/// <summary>Redis 7 key specification: how to find keys (begin_search + find_keys) and how they are used.</summary>
public sealed record KeySpec
{
    public string[] Flags { get; init; } = [];   // RW RO OW RM access update insert delete not_key incomplete variable_flags
    // begin_search: index or keyword
    public int BeginIndex { get; init; } = -1;
    public string? BeginKeyword { get; init; }
    public int KeywordStartFrom { get; init; }
    // find_keys: range or keynum
    public bool IsKeyNum { get; init; }
    public int RangeLastKey { get; init; }
    public int RangeKeyStep { get; init; } = 1;
    public int RangeLimit { get; init; }
    public int KeyNumIndex { get; init; }
    public int KeyNumFirstKey { get; init; }
    public int KeyNumKeyStep { get; init; } = 1;
    public string? Notes { get; init; }
}

/// <summary>An argument description for COMMAND DOCS.</summary>
public sealed record CommandArg
{
    public required string Name { get; init; }
    public required string Type { get; init; }  // string integer double key pattern unix-time pure-token oneof block
    public string? Token { get; init; }
    public int KeySpecIndex { get; init; } = -1;
    public bool Optional { get; init; }
    public bool Multiple { get; init; }
    public bool MultipleToken { get; init; }
    public string? Since { get; init; }
    public CommandArg[]? Arguments { get; init; }
}
