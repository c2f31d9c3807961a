using System.Text;

namespace Basalt.Server.Commands;

/// <summary>
/// The declarative table of every command. Each command family registers its records in its own file
/// (<c>StringCommands.Register</c>, ...); dispatch, COMMAND INFO/DOCS, key extraction and
/// transaction bookkeeping all read from here. Lookups by the raw request bytes do not allocate.
/// </summary>
public sealed class CommandTable
{
    private readonly Dictionary<string, CommandDef> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, CommandDef>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public CommandTable()
    {
        _lookup = _byName.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IReadOnlyCollection<CommandDef> All => _byName.Values;

    public int Count => _byName.Count;

    /// <summary>Builds the table with every command family.</summary>
    public static CommandTable CreateDefault()
    {
        var t = new CommandTable();
        ConnectionCommands.Register(t);
        ServerCommands.Register(t);
        KeyCommands.Register(t);
        StringCommands.Register(t);
        ListCommands.Register(t);
        BitCommands.Register(t);
        HyperLogLogCommands.Register(t);
        ClientCommands.Register(t);
        ConfigCommands.Register(t);
        IntrospectionCommands.Register(t);
        DebugCommands.Register(t);
        PersistenceCommands.Register(t);
        HashCommands.Register(t);
        SetCommands.Register(t);
        SortedSetCommands.Register(t);
        GeoCommands.Register(t);
        SortCommand.Register(t);
        PubSubCommands.Register(t);
        TransactionCommands.Register(t);
        StreamCommands.Register(t);
        ReplicationCommands.Register(t);
        ScriptingCommands.Register(t);
        FunctionCommands.Register(t);
        DumpRestoreCommands.Register(t);
        AofCommands.Register(t);
        CommandMetadata.Attach(t);
        return t;
    }

    public CommandDef Add(string name, int arity, CommandFlags flags, int firstKey, int lastKey, int step, CommandHandler handler)
    {
        var def = new CommandDef { Name = name.ToLowerInvariant(), Arity = arity, Flags = flags, FirstKey = firstKey, LastKey = lastKey, Step = step, Handler = handler };
        def.FullName = def.Name;
        _byName[def.Name] = def;
        return def;
    }

    /// <summary>Registers a container command (CONFIG, CLIENT, ...) whose work is done by subcommands.</summary>
    public CommandDef AddContainer(string name, int arity, CommandFlags flags = CommandFlags.None)
    {
        var def = new CommandDef { Name = name.ToLowerInvariant(), Arity = arity, Flags = flags, Subcommands = new(StringComparer.OrdinalIgnoreCase) };
        def.FullName = def.Name;
        _byName[def.Name] = def;
        return def;
    }

    public static CommandDef AddSub(CommandDef parent, string name, int arity, CommandFlags flags, int firstKey, int lastKey, int step, CommandHandler handler)
    {
        var def = new CommandDef { Name = name.ToLowerInvariant(), Arity = arity, Flags = flags, FirstKey = firstKey, LastKey = lastKey, Step = step, Handler = handler, Parent = parent };
        def.FullName = parent.Name + "|" + def.Name;
        parent.Subcommands![def.Name] = def;
        return def;
    }

    public CommandDef? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Drops a command (sentinel mode keeps only its own set).</summary>
    public bool Remove(string name) => _byName.Remove(name);

    /// <summary>Finds a command by its name as received (any case), without allocating.</summary>
    public CommandDef? Find(ReadOnlySpan<byte> name)
    {
        if (name.Length == 0 || name.Length > 64) return null;
        Span<char> chars = stackalloc char[name.Length];
        for (int i = 0; i < name.Length; i++) chars[i] = (char)name[i];
        return _lookup.TryGetValue(chars, out var def) ? def : null;
    }

    public static CommandDef? FindSub(CommandDef parent, ReadOnlySpan<byte> name)
    {
        if (parent.Subcommands is null || name.Length > 64) return null;
        return parent.Subcommands.GetValueOrDefault(Encoding.Latin1.GetString(name));
    }
}
