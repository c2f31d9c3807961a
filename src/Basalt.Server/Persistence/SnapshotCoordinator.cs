using Basalt.Server.Commands;

namespace Basalt.Server.Persistence;

/// <summary>Point-in-time snapshots of the keyspace without fork (being written by the lead; inactive for now).</summary>
public sealed class SnapshotCoordinator(RedisServer server)
{
    private readonly RedisServer _server = server;

    public bool Active { get; private set; }

    public void BeforeCommand(CommandContext ctx, CommandDef def) { }
}
