namespace Basalt.Server.Networking;

/// <summary>All connected clients, by id. Mutated under the execution lock.</summary>
public sealed class ClientRegistry
{
    private readonly RedisServer _server;
    private readonly SortedDictionary<long, Client> _clients = new();
    private long _nextId;

    public ClientRegistry(RedisServer server) => _server = server;

    public int Count => _clients.Count;

    public IEnumerable<Client> All => _clients.Values;

    public long NextId() => Interlocked.Increment(ref _nextId);

    public void Add(Client c) => _clients[c.Id] = c;

    public void Remove(Client c) => _clients.Remove(c.Id);

    public Client? Find(long id) => _clients.GetValueOrDefault(id);

    /// <summary>Internal clients (scripts, AOF) get ids too, but are not listed.</summary>
    public Client CreateInternal()
    {
        var c = new Client(_server, NextId()) { Authenticated = true, Flags = ClientFlags.Internal };
        return c;
    }
}
