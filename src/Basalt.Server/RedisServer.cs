using Basalt.Server.Commands;
using Basalt.Server.Config;
using Basalt.Server.Keyspace;
using Basalt.Server.Networking;

namespace Basalt.Server;

/// <summary>
/// The server: configuration, databases, clients and the execution lock that puts every command
/// in one total order. Subsystems hang off this object; it owns their lifetimes.
/// </summary>
public sealed class RedisServer
{
    /// <summary>Held while any command executes; every keyspace change happens under it, in one order.</summary>
    public readonly Lock ExecLock = new();

    public RedisServer(ServerConfig config)
    {
        Config = config;
        Commands = CommandTable.CreateDefault();
        Propagator = new Replication.Propagator();
        Snapshot = new Persistence.SnapshotCoordinator(this);
        Rdb = new Persistence.RdbPersistence(this);
        Aof = new Persistence.Aof.AofManager(this);
        Dispatcher = new Dispatcher(this);
        Dispatcher.Evictor.Sync(); // LRU vs LFU key stamps are needed before anything is loaded
        // Keys removed without a command (expiry, eviction) reach AOF and replicas as DELs, in order.
        Dispatcher.Evictor.KeyEvicted += (db, key) => { if (Propagator.Active) Propagator.PropagateDeletion(db.Index, key, unlink: Config.GetBool("lazyfree-lazy-eviction")); };
        Databases = new Database[Math.Max(1, config.Databases)];
        for (int i = 0; i < Databases.Length; i++)
        {
            Databases[i] = new Database(i) { StringPool = Dispatcher.Evictor.StringPool };
            Databases[i].KeyExpired += (d, key) =>
            {
                Stats.ExpiredKeys++;
                if (Propagator.Active) Propagator.PropagateDeletion(d.Index, key, unlink: Config.GetBool("lazyfree-lazy-expire"));
            };
        }
        Clients = new ClientRegistry(this);
        Blocking = new Blocking(this);
        PubSub = new Messaging.PubSubRegistry(this);
        Notifications.KeyspaceEvents.Attach(this);
        Replicator = new Replication.ReplicationManager(this);
        // Function libraries travel in RDB files (FUNCTION2 records): the snapshot writes them, loaders restore them.
        Persistence.RdbSnapshotFormat.FunctionLibraries ??= static s =>
            Scripting.ScriptingState.For(s).Functions.All.Select(kv => System.Text.Encoding.UTF8.GetBytes(kv.Value)).ToList();
        Persistence.Rdb.RdbFile.DefaultFunctionLoader ??= static (s, code) =>
        {
            if (Scripting.ScriptingState.For(s).Functions.Load(System.Text.Encoding.UTF8.GetString(code), replace: true, out var error) is null)
                throw new Persistence.Rdb.RdbFormatException("Failed loading library: " + error);
        };
        RunId = RandomHex(40);
        StartTimeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    }

    public ServerConfig Config { get; }
    public CommandTable Commands { get; }
    public Dispatcher Dispatcher { get; }
    /// <summary>The one ordered stream of writes feeding the AOF and replicas.</summary>
    public Replication.Propagator Propagator { get; }
    /// <summary>Point-in-time iteration of the keyspace for BGSAVE/AOF rewrite/full sync, without fork or copy.</summary>
    public Persistence.SnapshotCoordinator Snapshot { get; }
    /// <summary>Replication: backlog, replicas, the link to our master.</summary>
    public Replication.ReplicationManager Replicator { get; }
    /// <summary>A dataset being loaded (startup RDB/AOF, a replica's sync): INFO loading, -LOADING.</summary>
    public DatasetLoading Loading { get; } = new();
    /// <summary>SAVE/BGSAVE, save points, the dump loaded at start.</summary>
    public Persistence.RdbPersistence Rdb { get; }

    /// <summary>Set when SHUTDOWN already decided about the final save (SAVE/NOSAVE/done), so the exit path doesn't save again.</summary>
    public bool ShutdownSaveHandled;
    /// <summary>The append-only file (idle while appendonly is no).</summary>
    public Persistence.Aof.AofManager Aof { get; }
    /// <summary>Raised under the execution lock right before a connection sends the replies of its batch (AOF write/fsync).</summary>
    public Action? BeforeRepliesSent;
    public Database[] Databases { get; }
    public ClientRegistry Clients { get; }
    /// <summary>Clients blocked on keys (BLPOP, BZPOPMIN, XREAD BLOCK...).</summary>
    public Blocking Blocking { get; }
    public Messaging.PubSubRegistry PubSub { get; }
    public ServerStats Stats { get; } = new();
    public string RunId { get; }
    public long StartTimeMs { get; }
    public Listener? Listener { get; set; }

    /// <summary>Number of changes since the last save (INFO rdb_changes_since_last_save, save points).</summary>
    public long Dirty;

    /// <summary>Subsystems clear their per-client state here on RESET (MULTI, WATCH, subscriptions, tracking).</summary>
    public Action<Client>? ClientReset;

    /// <summary>Raised under the execution lock when a connection closes (MONITOR, pub/sub, blocking clean up here).</summary>
    public Action<Client>? ClientClosed;

    /// <summary>Raised after FLUSHDB (db index) or FLUSHALL (-1), for WATCH and other subsystems.</summary>
    public Action<int>? DatabaseFlushed;

    /// <summary>Raised after SWAPDB with the two db indexes, for WATCH and blocked clients.</summary>
    public Action<int, int>? DatabasesSwapped;

    public long LastSaveUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Set by SHUTDOWN/signals; the main thread waits on it.</summary>
    public readonly TaskCompletionSource<int> ShutdownRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Clients paused by CLIENT PAUSE until this tick count (ms); writes only when <see cref="PauseWritesOnly"/>.</summary>
    public long PausedUntilMs;
    public bool PauseWritesOnly;

    public static string RandomHex(int length)
    {
        var bytes = new byte[length / 2];
        // /dev/urandom first: the crypto API loads the OpenSSL libraries (about 5 MB of resident memory) at startup.
        try
        {
            using var f = File.OpenRead("/dev/urandom");
            f.ReadExactly(bytes);
        }
        catch (Exception) { System.Security.Cryptography.RandomNumberGenerator.Fill(bytes); }
        return Convert.ToHexString(bytes).ToLowerInvariant();
    }

    public long UptimeSeconds => (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - StartTimeMs) / 1000;

    public long TotalKeys()
    {
        long n = 0;
        foreach (var db in Databases) n += db.Count;
        return n;
    }
}

/// <summary>Counters for INFO stats.</summary>
public sealed class ServerStats
{
    public long TotalConnectionsReceived;
    public long TotalCommandsProcessed;
    public long RejectedConnections;
    public long ExpiredKeys;
    public long EvictedKeys;
    public long KeyspaceHits;
    public long KeyspaceMisses;
    public long ProtocolErrors;
    public long TotalErrorReplies;
    public long UnexpectedErrorReplies;
    public long ExpiredStalePerc;
    public long ExpireCycleCpuMs;
    public long TotalReadsProcessed;
    public long TotalWritesProcessed;
    /// <summary>Error replies by prefix (INFO errorstats).</summary>
    public readonly Dictionary<string, long> ErrorCounts = new();

    public void Reset()
    {
        TotalConnectionsReceived = TotalCommandsProcessed = RejectedConnections = ExpiredKeys = EvictedKeys = 0;
        KeyspaceHits = KeyspaceMisses = ProtocolErrors = TotalErrorReplies = UnexpectedErrorReplies = 0;
        ErrorCounts.Clear();
    }
}
