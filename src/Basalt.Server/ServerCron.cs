namespace Basalt.Server;

/// <summary>
/// The periodic background work Redis does in serverCron, run hz times a second on its own thread:
/// active expiry, idle-client timeouts and the instantaneous metrics. Takes the execution lock per task
/// and keeps each slice short so client latency stays low.
/// </summary>
public sealed class ServerCron
{
    private readonly RedisServer _server;
    private readonly Random _rng = new();
    private Thread? _thread;
    private volatile bool _stop;
    private int _expireDb;

    /// <summary>Other subsystems add work here (persistence save points, replication heartbeats).</summary>
    public event Action<RedisServer>? Tick;

    public ServerCron(RedisServer server) => _server = server;

    public void Start()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "basalt-cron" };
        _thread.Start();
    }

    public void Stop() => _stop = true;

    private void Loop()
    {
        while (!_stop)
        {
            int hz = Math.Max(1, _server.Config.Hz);
            Thread.Sleep(1000 / hz);
            try
            {
                RunOnce();
            }
            catch (Exception ex)
            {
                Log.Warning("serverCron error: " + ex);
            }
        }
    }

    internal void RunOnce()
    {
        if (_server.Config.ActiveExpireEnabled) ActiveExpire();
        CloseTimedOutClients();
        Tick?.Invoke(_server);
    }

    /// <summary>Samples keys with a TTL in each database, within a time budget (25% of a tick, as Redis's slow cycle).</summary>
    private void ActiveExpire()
    {
        int effort = _server.Config.ActiveExpireEffort;
        int samples = 20 + 5 * (effort - 1);
        int hz = Math.Max(1, _server.Config.Hz);
        long budgetMs = Math.Max(1, 1000 / hz * (25 + 2 * (effort - 1)) / 100);
        long deadline = Environment.TickCount64 + budgetMs;
        var dbs = _server.Databases;
        for (int n = 0; n < dbs.Length && Environment.TickCount64 < deadline; n++)
        {
            var db = dbs[_expireDb];
            _expireDb = (_expireDb + 1) % dbs.Length;
            if (db.ExpiresCount == 0) continue;
            // Short lock slices: one database step at a time.
            long sliceDeadline = Math.Min(deadline, Environment.TickCount64 + 2);
            lock (_server.ExecLock)
            {
                db.ActiveExpireCycle(_rng, samples, sliceDeadline);
            }
        }
    }

    private void CloseTimedOutClients()
    {
        int timeout = _server.Config.Timeout;
        if (timeout <= 0) return;
        long now = Environment.TickCount64;
        List<Client>? victims = null;
        lock (_server.ExecLock)
        {
            foreach (var c in _server.Clients.All)
            {
                if (c.Has(ClientFlags.Replica) || c.Has(ClientFlags.Master) || c.Has(ClientFlags.Blocked) || c.Has(ClientFlags.PubSub)) continue;
                if (now - c.LastInteractionMs > timeout * 1000L) (victims ??= new()).Add(c);
            }
        }
        if (victims is null) return;
        foreach (var c in victims)
        {
            Log.Verbose("Closing idle client");
            c.Connection?.Shutdown();
        }
    }
}
