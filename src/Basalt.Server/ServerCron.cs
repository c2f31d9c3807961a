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
    private long _expireTicks;

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

    /// <summary>
    /// Redis's slow expire cycle: each database in turn, within 25% of a tick (more with active-expire-effort).
    /// The lock is taken per short slice so clients are not stalled behind a large expiry.
    /// </summary>
    private void ActiveExpire()
    {
        if (!Keyspace.Database.ExpireOnRead) return; // replicas wait for the master's DELs
        int effort = Math.Clamp(_server.Config.ActiveExpireEffort, 1, 10) - 1;
        int samples = 20 + 5 * effort;
        int acceptableStale = 10 - effort;
        int hz = Math.Max(1, _server.Config.Hz);
        long freq = System.Diagnostics.Stopwatch.Frequency;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        long deadline = start + freq * (25 + 2 * effort) / 100 / hz;
        long slice = freq / 500; // 2 ms
        var dbs = _server.Databases;
        for (int n = 0; n < dbs.Length; n++)
        {
            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (now >= deadline || !_server.Config.ActiveExpireEnabled) break;
            var db = dbs[_expireDb % dbs.Length];
            if (db.ExpiresCount == 0) { _expireDb = (_expireDb + 1) % dbs.Length; continue; }
            // Slices of the lock, so clients interleave while a database with many stale keys is cleaned.
            while (true)
            {
                bool timedOut;
                lock (_server.ExecLock)
                {
                    db.ActiveExpireCycle(samples, acceptableStale, Math.Min(deadline, now + slice), out timedOut);
                }
                now = System.Diagnostics.Stopwatch.GetTimestamp();
                if (!timedOut || now >= deadline || !_server.Config.ActiveExpireEnabled) break;
            }
            _expireDb = (_expireDb + 1) % dbs.Length;
        }
        // Whole milliseconds go to the stat; the remainder carries over to the next tick.
        _expireTicks += System.Diagnostics.Stopwatch.GetTimestamp() - start;
        long ms = _expireTicks * 1000 / freq;
        _expireTicks -= ms * freq / 1000;
        _server.Stats.ExpireCycleCpuMs += ms;
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
