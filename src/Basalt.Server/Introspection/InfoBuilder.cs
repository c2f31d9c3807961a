using System.Diagnostics;
using System.Globalization;
using System.Text;
using Basalt.Server.Commands;

namespace Basalt.Server.Introspection;

/// <summary>
/// Builds the INFO text: "# Section" headers, "field:value" lines, "\r\n" line ends and a blank line between
/// sections, with Redis 7.0's section and field names in its order. Runs under the execution lock.
/// Subsystems that come later fill their fields by editing the section methods (persistence, replication)
/// or through <see cref="ExtraFields"/>.
/// </summary>
public sealed class InfoBuilder
{
    /// <summary>Sections in output order, and which of them "default" includes ("all" = every one of these).</summary>
    public static readonly (string Name, bool Default)[] Sections =
    [
        ("server", true), ("clients", true), ("memory", true), ("persistence", true), ("stats", true),
        ("replication", true), ("cpu", true), ("modules", true), ("commandstats", false), ("errorstats", true),
        ("latencystats", false), ("cluster", true), ("keyspace", true),
    ];

    /// <summary>Extra lines appended to a section by other subsystems (key: lower-case section name).</summary>
    public static readonly Dictionary<string, Action<RedisServer, InfoBuilder>> ExtraFields = new(StringComparer.OrdinalIgnoreCase);

    private readonly RedisServer _server;
    private readonly StringBuilder _sb = new(4096);
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public InfoBuilder(RedisServer server) => _server = server;

    /// <summary>Resolves INFO's arguments to the set of sections; unknown names simply select nothing.</summary>
    public static HashSet<string> Select(IEnumerable<string> args)
    {
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        bool any = false;
        foreach (var raw in args)
        {
            any = true;
            var a = raw.ToLowerInvariant();
            if (a == "default") foreach (var s in Sections) { if (s.Default) set.Add(s.Name); }
            else if (a is "all" or "everything") foreach (var s in Sections) set.Add(s.Name);
            else set.Add(a);
        }
        if (!any) foreach (var s in Sections) if (s.Default) set.Add(s.Name);
        return set;
    }

    public string Build(ISet<string> sections)
    {
        bool first = true;
        foreach (var (name, _) in Sections)
        {
            if (!sections.Contains(name)) continue;
            if (!first) _sb.Append("\r\n");
            first = false;
            switch (name)
            {
                case "server": Server(); break;
                case "clients": Clients(); break;
                case "memory": Memory(); break;
                case "persistence": Persistence(); break;
                case "stats": Stats(); break;
                case "replication": Replication(); break;
                case "cpu": Cpu(); break;
                case "modules": Header("Modules"); break;
                case "commandstats": CommandStats(); break;
                case "errorstats": ErrorStats(); break;
                case "latencystats": LatencyStats(); break;
                case "cluster": Header("Cluster"); Field("cluster_enabled", 0); break;
                case "keyspace": Keyspace(); break;
            }
            if (ExtraFields.TryGetValue(name, out var extra)) extra(_server, this);
        }
        return _sb.ToString();
    }

    public void Header(string title) => _sb.Append("# ").Append(title).Append("\r\n");

    public void Field(string name, string value) => _sb.Append(name).Append(':').Append(value).Append("\r\n");

    public void Field(string name, long value) => _sb.Append(name).Append(':').Append(value.ToString(Ci)).Append("\r\n");

    /// <summary>"%.2f" style value.</summary>
    public void Field2(string name, double value) => Field(name, value.ToString("0.00", Ci));

    private IntrospectionState State => _server.Dispatcher.Introspection;

    private void Server()
    {
        var cfg = _server.Config;
        long nowUs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        long uptime = _server.UptimeSeconds;
        Header("Server");
        Field("redis_version", ServerMain.RedisVersion);
        Field("redis_git_sha1", "00000000");
        Field("redis_git_dirty", 0);
        Field("redis_build_id", BuildId);
        Field("redis_mode", "standalone");
        Field("os", OsName);
        Field("arch_bits", IntPtr.Size * 8);
        Field("monotonic_clock", "POSIX clock_gettime");
        Field("multiplexing_api", "epoll");
        Field("atomicvar_api", "c11-builtin");
        Field("gcc_version", "0.0.0");
        Field("process_id", Environment.ProcessId);
        Field("process_supervised", "no");
        Field("run_id", _server.RunId);
        Field("tcp_port", cfg.Port);
        Field("server_time_usec", nowUs);
        Field("uptime_in_seconds", uptime);
        Field("uptime_in_days", uptime / 86400);
        Field("hz", cfg.Hz);
        Field("configured_hz", cfg.Hz);
        Field("lru_clock", (nowUs / 1_000_000) & ((1 << 24) - 1));
        Field("executable", Executable);
        Field("config_file", cfg.ConfigFile is null ? "" : Path.GetFullPath(cfg.ConfigFile));
        Field("io_threads_active", 0);
        Field("basalt_version", ServerMain.BasaltVersion);
    }

    private static readonly string BuildId = RedisServer.RandomHex(16)[..15];

    private static readonly string OsName = ComputeOsName();

    private static string ComputeOsName()
    {
        string release = "";
        try { release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        string arch = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "x86_64",
            System.Runtime.InteropServices.Architecture.Arm64 => "aarch64",
            var a => a.ToString().ToLowerInvariant(),
        };
        string os = OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsMacOS() ? "Darwin" : Environment.OSVersion.Platform.ToString();
        return release.Length > 0 ? $"{os} {release} {arch}" : $"{os} {arch}";
    }

    /// <summary>The server assembly when run through dotnet, else the process image.</summary>
    private static string Executable { get; } = Environment.GetCommandLineArgs() is [var first, ..] && File.Exists(first) ? Path.GetFullPath(first) : Environment.ProcessPath ?? "";

    private void Clients()
    {
        int connected = 0, blocked = 0;
        foreach (var c in _server.Clients.All)
        {
            if (ClientInfo.TypeOf(c) != ClientType.Replica) connected++;
            if (c.Has(ClientFlags.Blocked)) blocked++;
        }
        Header("Clients");
        Field("connected_clients", connected);
        Field("cluster_connections", 0);
        Field("maxclients", _server.Config.MaxClients);
        Field("client_recent_max_input_buffer", State.RecentMaxInputBuffer);
        Field("client_recent_max_output_buffer", State.RecentMaxOutputBuffer);
        Field("blocked_clients", blocked);
        Field("tracking_clients", _server.Dispatcher.Tracking.Active);
        Field("clients_in_timeout_table", 0);
    }

    private void Memory()
    {
        var state = State;
        state.UpdatePeakMemory();
        long used = MemoryStats.UsedMemory();
        long rss = MemoryStats.Rss();
        long peak = Math.Max(state.PeakMemory, used);
        long startup = Math.Min(state.StartupMemory, used);
        long clientsNormal = 0;
        foreach (var c in _server.Clients.All) clientsNormal += c.PendingOutputBytes + c.QueryBufferSize;
        long overhead = startup + clientsNormal;
        foreach (var db in _server.Databases) overhead += MemoryStats.TableOverhead(db.Count) + MemoryStats.TableOverhead(db.ExpiresCount);
        long dataset = Math.Max(0, used - overhead);
        long netUsed = Math.Max(1, used - startup);
        var gc = GC.GetGCMemoryInfo();
        long active = Math.Max(used, gc.HeapSizeBytes);
        long resident = Math.Max(active, gc.TotalCommittedBytes);
        long total = MemoryStats.TotalSystemMemory();
        long maxmemory = ParseMemory(_server.Config.Get("maxmemory"));
        string policy = _server.Config.Get("maxmemory-policy");
        Header("Memory");
        Field("used_memory", used);
        Field("used_memory_human", MemoryStats.Human(used));
        Field("used_memory_rss", rss);
        Field("used_memory_rss_human", MemoryStats.Human(rss));
        Field("used_memory_peak", peak);
        Field("used_memory_peak_human", MemoryStats.Human(peak));
        Field("used_memory_peak_perc", (used * 100.0 / Math.Max(1, peak)).ToString("0.00", Ci) + "%");
        Field("used_memory_overhead", overhead);
        Field("used_memory_startup", startup);
        Field("used_memory_dataset", dataset);
        Field("used_memory_dataset_perc", (dataset * 100.0 / netUsed).ToString("0.00", Ci) + "%");
        Field("allocator_allocated", used);
        Field("allocator_active", active);
        Field("allocator_resident", resident);
        Field("total_system_memory", total);
        Field("total_system_memory_human", MemoryStats.Human(total));
        Field("used_memory_lua", 0);
        Field("used_memory_vm_eval", 0);
        Field("used_memory_lua_human", MemoryStats.Human(0));
        Field("used_memory_scripts_eval", 0);
        Field("number_of_cached_scripts", 0);
        Field("number_of_functions", 0);
        Field("number_of_libraries", 0);
        Field("used_memory_vm_functions", 0);
        Field("used_memory_vm_total", 0);
        Field("used_memory_vm_total_human", MemoryStats.Human(0));
        Field("used_memory_functions", 0);
        Field("used_memory_scripts", 0);
        Field("used_memory_scripts_human", MemoryStats.Human(0));
        Field("maxmemory", maxmemory);
        Field("maxmemory_human", MemoryStats.Human(maxmemory));
        Field("maxmemory_policy", policy.Length == 0 ? "noeviction" : policy);
        Field2("allocator_frag_ratio", active / (double)Math.Max(1, used));
        Field("allocator_frag_bytes", active - used);
        Field2("allocator_rss_ratio", resident / (double)Math.Max(1, active));
        Field("allocator_rss_bytes", resident - active);
        Field2("rss_overhead_ratio", rss / (double)Math.Max(1, resident));
        Field("rss_overhead_bytes", rss - resident);
        Field2("mem_fragmentation_ratio", rss / (double)Math.Max(1, used));
        Field("mem_fragmentation_bytes", rss - used);
        Field("mem_not_counted_for_evict", _server.Dispatcher.Evictor.NotCountedForEvict?.Invoke() ?? 0);
        Field("mem_replication_backlog", _server.Replicator.BacklogMemory);
        Field("mem_total_replication_buffers", _server.Replicator.ReplicationBuffersMemory());
        Field("mem_clients_slaves", 0);
        Field("mem_clients_normal", clientsNormal);
        Field("mem_cluster_links", 0);
        Field("mem_aof_buffer", _server.Aof.BufferLength);
        Field("mem_allocator", "dotnet-gc");
        Field("active_defrag_running", 0);
        Field("lazyfree_pending_objects", 0);
        Field("lazyfreed_objects", 0);
    }

    private static long ParseMemory(string s) => Config.ConfigDirectives.TryParseMemory(s, out long v) ? v : 0;

    /// <summary>Persistence fields; RDB/AOF subsystems replace the constants here as they arrive.</summary>
    private void Persistence()
    {
        Header("Persistence");
        Field("loading", _server.Loading.Loading ? 1 : 0);
        Field("async_loading", _server.Loading.Async ? 1 : 0);
        Field("current_cow_peak", 0);
        Field("current_cow_size", 0);
        Field("current_cow_size_age", 0);
        Field("current_fork_perc", "0.00");
        Field("current_save_keys_processed", 0);
        Field("current_save_keys_total", 0);
        var rdb = _server.Rdb;
        Field("rdb_changes_since_last_save", _server.Dirty);
        Field("rdb_bgsave_in_progress", rdb.BgsaveInProgress ? 1 : 0);
        Field("rdb_last_save_time", _server.LastSaveUnix);
        Field("rdb_last_bgsave_status", rdb.LastBgsaveOk ? "ok" : "err");
        Field("rdb_last_bgsave_time_sec", rdb.LastBgsaveTimeSec);
        Field("rdb_current_bgsave_time_sec", rdb.BgsaveInProgress ? Basalt.Server.Persistence.RdbPersistence.NowUnix - rdb.BgsaveStartUnix : -1);
        Field("rdb_saves", rdb.RdbSaves);
        Field("rdb_last_cow_size", 0);
        Field("rdb_last_load_keys_expired", rdb.LastLoadKeysExpired);
        Field("rdb_last_load_keys_loaded", rdb.LastLoadKeysLoaded);
        var aof = _server.Aof;
        Field("aof_enabled", aof.State != Basalt.Server.Persistence.Aof.AofState.Off ? 1 : 0);
        Field("aof_rewrite_in_progress", aof.RewriteInProgress ? 1 : 0);
        Field("aof_rewrite_scheduled", aof.RewriteScheduled ? 1 : 0);
        Field("aof_last_rewrite_time_sec", aof.LastRewriteTimeSec);
        Field("aof_current_rewrite_time_sec", aof.CurrentRewriteTimeSec);
        Field("aof_last_bgrewrite_status", aof.LastRewriteOk ? "ok" : "err");
        Field("aof_rewrites", aof.Rewrites);
        Field("aof_rewrites_consecutive_failures", aof.RewritesConsecutiveFailures);
        Field("aof_last_write_status", aof.LastWriteOk ? "ok" : "err");
        Field("aof_last_cow_size", 0);
        Field("module_fork_in_progress", 0);
        Field("module_fork_last_cow_size", 0);
        if (aof.State != Basalt.Server.Persistence.Aof.AofState.Off)
        {
            Field("aof_current_size", aof.CurrentSize);
            Field("aof_base_size", aof.BaseSize);
            Field("aof_pending_rewrite", aof.RewriteScheduled ? 1 : 0);
            Field("aof_buffer_length", aof.BufferLength);
            Field("aof_pending_bio_fsync", aof.FsyncPending ? 1 : 0);
            Field("aof_delayed_fsync", aof.DelayedFsync);
        }
        _server.Loading.WriteInfo(this);
    }

    private void Stats()
    {
        var s = _server.Stats;
        var state = State;
        Header("Stats");
        Field("total_connections_received", s.TotalConnectionsReceived);
        Field("total_commands_processed", s.TotalCommandsProcessed);
        Field("instantaneous_ops_per_sec", (long)Math.Round(state.InstantaneousOps));
        Field("total_net_input_bytes", Volatile.Read(ref state.NetInputBytes));
        Field("total_net_output_bytes", Volatile.Read(ref state.NetOutputBytes));
        Field("total_net_repl_input_bytes", Interlocked.Read(ref _server.Replicator.NetReplInputBytes));
        Field("total_net_repl_output_bytes", Interlocked.Read(ref _server.Replicator.NetReplOutputBytes));
        Field2("instantaneous_input_kbps", state.InstantaneousInputKbps);
        Field2("instantaneous_output_kbps", state.InstantaneousOutputKbps);
        Field2("instantaneous_input_repl_kbps", 0);
        Field2("instantaneous_output_repl_kbps", 0);
        Field("rejected_connections", s.RejectedConnections);
        Field("sync_full", _server.Replicator.SyncFull);
        Field("sync_partial_ok", _server.Replicator.SyncPartialOk);
        Field("sync_partial_err", _server.Replicator.SyncPartialErr);
        Field("expired_keys", s.ExpiredKeys);
        Field2("expired_stale_perc", s.ExpiredStalePerc);
        Field("expired_time_cap_reached_count", 0);
        Field("expire_cycle_cpu_milliseconds", s.ExpireCycleCpuMs);
        Field("evicted_keys", s.EvictedKeys);
        Field("evicted_clients", 0);
        Field("total_eviction_exceeded_time", _server.Dispatcher.Evictor.TotalExceededMs);
        Field("current_eviction_exceeded_time", _server.Dispatcher.Evictor.CurrentExceededMs);
        Field("keyspace_hits", s.KeyspaceHits);
        Field("keyspace_misses", s.KeyspaceMisses);
        Field("pubsub_channels", _server.PubSub.ChannelCount);
        Field("pubsub_patterns", _server.PubSub.PatternCount);
        Field("pubsubshard_channels", _server.PubSub.ShardChannelCount);
        Field("latest_fork_usec", 0);
        Field("total_forks", 0);
        Field("migrate_cached_sockets", 0);
        Field("slave_expires_tracked_keys", 0);
        Field("active_defrag_hits", 0);
        Field("active_defrag_misses", 0);
        Field("active_defrag_key_hits", 0);
        Field("active_defrag_key_misses", 0);
        Field("total_active_defrag_time", 0);
        Field("current_active_defrag_time", 0);
        Field("tracking_total_keys", _server.Dispatcher.Tracking.TotalKeys);
        Field("tracking_total_items", _server.Dispatcher.Tracking.TotalItems);
        Field("tracking_total_prefixes", _server.Dispatcher.Tracking.TotalPrefixes);
        Field("unexpected_error_replies", s.UnexpectedErrorReplies);
        Field("total_error_replies", s.TotalErrorReplies);
        Field("dump_payload_sanitizations", 0);
        Field("total_reads_processed", Volatile.Read(ref s.TotalReadsProcessed));
        Field("total_writes_processed", Volatile.Read(ref s.TotalWritesProcessed));
        Field("io_threaded_reads_processed", 0);
        Field("io_threaded_writes_processed", 0);
        Field("reply_buffer_shrinks", 0);
        Field("reply_buffer_expands", 0);
    }

    private void Replication()
    {
        Header("Replication");
        _server.Replicator.WriteInfo(this);
    }

    private void Cpu()
    {
        using var p = Process.GetCurrentProcess();
        Header("CPU");
        Field("used_cpu_sys", Seconds(p.PrivilegedProcessorTime));
        Field("used_cpu_user", Seconds(p.UserProcessorTime));
        Field("used_cpu_sys_children", "0.000000");
        Field("used_cpu_user_children", "0.000000");
        Field("used_cpu_sys_main_thread", Seconds(p.PrivilegedProcessorTime));
        Field("used_cpu_user_main_thread", Seconds(p.UserProcessorTime));
    }

    private static string Seconds(TimeSpan t) => $"{(long)t.TotalSeconds}.{(t.Ticks % TimeSpan.TicksPerSecond) / 10:D6}";

    /// <summary>Every command (and subcommand) that was called, failed or was rejected at least once.</summary>
    private IEnumerable<CommandDef> UsedCommands()
    {
        foreach (var def in _server.Commands.All)
        {
            if (def.Subcommands is not null)
            {
                foreach (var sub in def.Subcommands.Values.Distinct())
                    if (sub.Calls > 0 || sub.FailedCalls > 0 || sub.RejectedCalls > 0) yield return sub;
            }
            if (def.Calls > 0 || def.FailedCalls > 0 || def.RejectedCalls > 0) yield return def;
        }
    }

    private void CommandStats()
    {
        Header("Commandstats");
        foreach (var def in UsedCommands())
        {
            double perCall = def.Calls == 0 ? 0 : (double)def.Microseconds / def.Calls;
            _sb.Append("cmdstat_").Append(def.FullName)
               .Append(":calls=").Append(def.Calls.ToString(Ci))
               .Append(",usec=").Append(def.Microseconds.ToString(Ci))
               .Append(",usec_per_call=").Append(perCall.ToString("0.00", Ci))
               .Append(",rejected_calls=").Append(def.RejectedCalls.ToString(Ci))
               .Append(",failed_calls=").Append(def.FailedCalls.ToString(Ci))
               .Append("\r\n");
        }
    }

    private void ErrorStats()
    {
        Header("Errorstats");
        foreach (var (prefix, count) in _server.Stats.ErrorCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            _sb.Append("errorstat_").Append(prefix).Append(":count=").Append(count.ToString(Ci)).Append("\r\n");
    }

    private void LatencyStats()
    {
        Header("Latencystats");
        foreach (var (def, h) in State.CommandLatencies.All)
        {
            if (h.Total == 0) continue;
            _sb.Append("latency_percentiles_usec_").Append(def.FullName)
               .Append(":p50=").Append(h.Percentile(50).ToString("0.000", Ci))
               .Append(",p99=").Append(h.Percentile(99).ToString("0.000", Ci))
               .Append(",p99.9=").Append(h.Percentile(99.9).ToString("0.000", Ci))
               .Append("\r\n");
        }
    }

    private readonly Random _rng = new();

    private void Keyspace()
    {
        Header("Keyspace");
        long now = Basalt.Server.Keyspace.Database.NowMs;
        foreach (var db in _server.Databases)
        {
            if (db.Count == 0) continue;
            _sb.Append("db").Append(db.Index.ToString(Ci))
               .Append(":keys=").Append(db.Count.ToString(Ci))
               .Append(",expires=").Append(db.ExpiresCount.ToString(Ci))
               .Append(",avg_ttl=").Append(AverageTtl(db, now).ToString(Ci))
               .Append("\r\n");
        }
    }

    /// <summary>Estimated from a small random sample of the keys with a TTL (Redis keeps a running estimate too).</summary>
    private long AverageTtl(Basalt.Server.Keyspace.Database db, long now)
    {
        if (db.ExpiresCount == 0) return 0;
        long sum = 0;
        int n = 0;
        for (int i = 0; i < 20; i++)
        {
            int idx = db.Expires.RandomIndex(_rng);
            if (idx < 0) break;
            long ttl = db.Expires.ValueAt(idx) - now;
            if (ttl <= 0) continue;
            sum += ttl;
            n++;
        }
        return n == 0 ? 0 : sum / n;
    }
}
