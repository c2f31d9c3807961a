using Basalt.Server.Commands;

namespace Basalt.Server.Introspection;

/// <summary>
/// Per-server state of the introspection commands: slow log, latency monitor, MONITOR feed, output buffer limits
/// and the sampled metrics of INFO. Created with the dispatcher, whose hooks it sets.
/// </summary>
public sealed class IntrospectionState
{
    private readonly RedisServer _server;

    public IntrospectionState(RedisServer server, Dispatcher dispatcher)
    {
        _server = server;
        Monitors = new MonitorFeed(server, dispatcher);
        OutputLimits = new OutputLimits(server);
        dispatcher.OnSlowlog = AfterCommand;
        dispatcher.OnMonitor = Monitors.Feed;
        server.ClientReset += Monitors.Remove;
        server.ClientClosed += Monitors.Remove;
        ReplicationId = RedisServer.RandomHex(40);
        StartupMemory = MemoryStats.UsedMemory();
        PeakMemory = StartupMemory;
    }

    public SlowLog SlowLog { get; } = new();
    public LatencyMonitor Latency { get; } = new();
    public CommandLatencies CommandLatencies { get; } = new();
    public MonitorFeed Monitors { get; }
    public OutputLimits OutputLimits { get; }

    /// <summary>INFO master_replid until replication owns it.</summary>
    public string ReplicationId { get; set; }

    public long StartupMemory { get; }
    public long PeakMemory;

    /// <summary>Bytes read from / written to client sockets (updated with Interlocked by the connections).</summary>
    public long NetInputBytes;
    public long NetOutputBytes;

    /// <summary>Largest query buffer / pending output seen recently (INFO client_recent_max_*), refreshed by the cron.</summary>
    public long RecentMaxInputBuffer;
    public long RecentMaxOutputBuffer;

    private readonly Metric _ops = new(), _netIn = new(), _netOut = new();
    private long _lastSampleMs;

    public double InstantaneousOps => _ops.Average;
    public double InstantaneousInputKbps => _netIn.Average / 1024;
    public double InstantaneousOutputKbps => _netOut.Average / 1024;

    /// <summary>Per-command hook of the dispatcher: slow log, latency events and the latency histogram.</summary>
    private void AfterCommand(Client client, CommandContext ctx, CommandDef def, long micros)
    {
        SlowLog.MaybeAdd(_server, client, ctx, micros);
        if (_server.Config.LatencyMonitorThreshold > 0)
            Latency.AddIfNeeded(_server, (def.Flags & CommandFlags.Fast) != 0 ? "fast-command" : "command", micros / 1000);
        CommandLatencies.Record(def, micros);
    }

    public void UpdatePeakMemory()
    {
        long used = MemoryStats.UsedMemory();
        if (used > PeakMemory) PeakMemory = used;
    }

    /// <summary>Called from the server cron: samples the instantaneous metrics every 100 ms, like Redis.</summary>
    public void CronTick()
    {
        long now = Environment.TickCount64;
        if (now - _lastSampleMs < 100) return;
        _lastSampleMs = now;
        _ops.Sample(now, Volatile.Read(ref _server.Stats.TotalCommandsProcessed));
        _netIn.Sample(now, Volatile.Read(ref NetInputBytes));
        _netOut.Sample(now, Volatile.Read(ref NetOutputBytes));
        UpdatePeakMemory();
        lock (_server.ExecLock)
        {
            long maxIn = 0, maxOut = 0;
            foreach (var c in _server.Clients.All)
            {
                maxIn = Math.Max(maxIn, c.QueryBufferSize);
                maxOut = Math.Max(maxOut, c.PendingOutputBytes);
            }
            RecentMaxInputBuffer = maxIn;
            RecentMaxOutputBuffer = maxOut;
        }
    }

    /// <summary>A rate averaged over the last 16 samples.</summary>
    private sealed class Metric
    {
        private readonly double[] _samples = new double[16];
        private int _idx;
        private long _lastMs, _lastValue;
        private bool _started;

        public void Sample(long nowMs, long value)
        {
            if (_started && nowMs > _lastMs)
            {
                _samples[_idx] = (value - _lastValue) * 1000.0 / (nowMs - _lastMs);
                _idx = (_idx + 1) % _samples.Length;
            }
            _started = true;
            _lastMs = nowMs;
            _lastValue = value;
        }

        public double Average => _samples.Sum() / _samples.Length;
    }
}
