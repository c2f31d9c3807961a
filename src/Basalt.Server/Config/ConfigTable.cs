using System.Globalization;

namespace Basalt.Server.Config;

/// <summary>
/// The directive definitions: names, aliases, defaults, bounds and flags as Redis 7.0.15 reports them
/// (checked against CONFIG GET * and CONFIG SET errors of a real server).
/// </summary>
public static partial class ConfigDirectives
{
    private const long IntMax = int.MaxValue, IntMin = int.MinValue, UIntMax = uint.MaxValue;

    private static ConfigDirective B(string name, bool def, bool imm = false, bool noEffect = false, params string[] aliases) =>
        new() { Name = name, Kind = ConfigKind.Bool, Default = def ? "yes" : "no", Immutable = imm, NoEffect = noEffect, Aliases = aliases };

    private static ConfigDirective I(string name, long def, long min, long max, bool imm = false, bool noEffect = false, params string[] aliases) =>
        new() { Name = name, Kind = ConfigKind.Int, Default = def.ToString(CultureInfo.InvariantCulture), Min = min, Max = max, Immutable = imm, NoEffect = noEffect, Aliases = aliases };

    private static ConfigDirective M(string name, long def, long min = 0, bool unsigned = false, bool noEffect = false, params string[] aliases) =>
        new() { Name = name, Kind = ConfigKind.Memory, Default = def.ToString(CultureInfo.InvariantCulture), Min = min, Unsigned = unsigned, NoEffect = noEffect, Aliases = aliases };

    private static ConfigDirective S(string name, string def, bool imm = false, bool noEffect = false, Func<string, string?>? check = null, params string[] aliases) =>
        new() { Name = name, Kind = ConfigKind.String, Default = def, Immutable = imm, NoEffect = noEffect, StringCheck = check, Aliases = aliases };

    private static ConfigDirective E(string name, string def, string[] values, bool imm = false, bool noEffect = false) =>
        new() { Name = name, Kind = ConfigKind.Enum, Default = def, EnumValues = values, Immutable = imm, NoEffect = noEffect };

    private static string[] YesNoLocal => ["no", "yes", "local"];
    private static string[] ShutdownOnSig => ["default", "save", "nosave", "now", "force"];

    private static string? NotAPath(string what, string kind, string v) =>
        v.Contains('/') ? $"{what} can't be a path, just a {kind}" : null;

    private static IEnumerable<ConfigDirective> Definitions()
    {
        // Network and clients.
        yield return I("port", 6379, 0, 65535);
        yield return Special("bind", "* -::*", SpecialDirectives.ParseBind, multi: true, rewrite: SpecialDirectives.RewriteBind);
        yield return S("bind-source-addr", "", noEffect: true);
        yield return I("tcp-backlog", 511, 0, IntMax, imm: true);
        yield return S("unixsocket", "", imm: true);
        yield return Special("unixsocketperm", "0", SpecialDirectives.ParseOctal, imm: true, rewrite: SpecialDirectives.RewritePlain);
        yield return I("socket-mark-id", 0, 0, UIntMax, imm: true, noEffect: true);
        yield return I("tcp-keepalive", 300, 0, IntMax);
        yield return I("timeout", 0, 0, IntMax);
        yield return I("maxclients", 10000, 1, UIntMax);
        yield return B("protected-mode", true);
        yield return S("requirepass", "");
        yield return E("acl-pubsub-default", "resetchannels", ["allchannels", "resetchannels"]);
        yield return S("aclfile", "", imm: true);
        yield return I("acllog-max-len", 128, 0, long.MaxValue);
        yield return M("client-query-buffer-limit", 1L << 30, min: 1024 * 1024);
        yield return M("proto-max-bulk-len", 512L << 20, min: 1024 * 1024);
        yield return Special("client-output-buffer-limit", ClientOutputBufferLimits.DefaultText, SpecialDirectives.ParseClientOutputBufferLimit, multi: true, rewrite: SpecialDirectives.RewriteClientOutputBufferLimit);
        yield return Special("maxmemory-clients", "0", SpecialDirectives.ParseMaxmemoryClients, rewrite: SpecialDirectives.RewriteMaxmemoryClients);
        yield return I("tracking-table-max-keys", 1000000, 0, long.MaxValue);

        // General.
        yield return B("daemonize", false, imm: true);
        yield return E("supervised", "no", ["upstart", "systemd", "auto", "no"], imm: true, noEffect: true);
        yield return S("pidfile", "", imm: true);
        yield return E("loglevel", "notice", ["debug", "verbose", "notice", "warning"]);
        yield return S("logfile", "", imm: true);
        yield return B("syslog-enabled", false, imm: true, noEffect: true);
        yield return S("syslog-ident", "redis", imm: true, noEffect: true);
        yield return E("syslog-facility", "local0", ["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"], imm: true, noEffect: true);
        yield return B("crash-log-enabled", true, noEffect: true);
        yield return B("crash-memcheck-enabled", true, noEffect: true);
        yield return I("databases", 16, 1, IntMax, imm: true);
        yield return B("always-show-logo", false, imm: true, noEffect: true);
        yield return B("set-proc-title", true, imm: true, noEffect: true);
        yield return Special("proc-title-template", "{title} {listen-addr} {server-mode}", SpecialDirectives.ParseProcTitleTemplate, noEffect: true);
        yield return E("enable-protected-configs", "no", YesNoLocal, imm: true);
        yield return E("enable-debug-command", "no", YesNoLocal, imm: true);
        yield return E("enable-module-command", "no", YesNoLocal, imm: true, noEffect: true);
        yield return S("ignore-warnings", "", noEffect: true);
        yield return new ConfigDirective { Name = "hz", Kind = ConfigKind.Int, Default = "10", Min = 0, Max = IntMax, Adjust = v => Math.Clamp(v, 1, 500) };
        yield return B("dynamic-hz", true, noEffect: true);
        yield return I("shutdown-timeout", 10, 0, IntMax);
        yield return E("shutdown-on-sigint", "default", ShutdownOnSig);
        yield return E("shutdown-on-sigterm", "default", ShutdownOnSig);

        // Snapshotting.
        yield return Special("save", "3600 1 300 100 60 10000", SpecialDirectives.ParseSave, multi: true, rewrite: SpecialDirectives.RewriteSave);
        yield return B("stop-writes-on-bgsave-error", true);
        yield return B("rdbcompression", true);
        yield return B("rdbchecksum", true, imm: true);
        yield return E("sanitize-dump-payload", "no", ["no", "yes", "clients"]);
        yield return new ConfigDirective { Name = "dbfilename", Kind = ConfigKind.String, Default = "dump.rdb", Protected = true, StringCheck = v => NotAPath("dbfilename", "filename", v) };
        yield return B("rdb-del-sync-files", false);
        yield return new ConfigDirective { Name = "dir", Kind = ConfigKind.String, Default = "", Protected = true };
        yield return B("rdb-save-incremental-fsync", true, noEffect: true);
        // Hidden testing aids of Redis: a pause per key loaded; how often loading serves clients (Basalt always does).
        yield return new ConfigDirective { Name = "key-load-delay", Kind = ConfigKind.Int, Default = "0", Min = IntMin, Max = IntMax, Hidden = true };
        yield return new ConfigDirective { Name = "loading-process-events-interval-bytes", Kind = ConfigKind.Int, Default = "2097152", Min = 1024, Max = IntMax, Hidden = true, NoEffect = true };

        // Replication.
        yield return Special("replicaof", "", SpecialDirectives.ParseReplicaOf, imm: true, aliases: ["slaveof"], rewrite: SpecialDirectives.RewriteReplicaOf);
        yield return S("masterauth", "");
        yield return S("masteruser", "");
        yield return B("replica-serve-stale-data", true, aliases: "slave-serve-stale-data");
        yield return B("replica-read-only", true, aliases: "slave-read-only");
        yield return B("repl-diskless-sync", true);
        yield return I("repl-diskless-sync-delay", 5, 0, IntMax);
        yield return I("repl-diskless-sync-max-replicas", 0, 0, IntMax);
        yield return E("repl-diskless-load", "disabled", ["disabled", "on-empty-db", "swapdb"]);
        yield return I("repl-ping-replica-period", 10, 1, IntMax, aliases: "repl-ping-slave-period");
        yield return I("repl-timeout", 60, 1, IntMax);
        yield return B("repl-disable-tcp-nodelay", false);
        yield return M("repl-backlog-size", 1024 * 1024, min: 1);
        yield return I("repl-backlog-ttl", 3600, 0, long.MaxValue);
        yield return I("replica-priority", 100, 0, IntMax, aliases: "slave-priority");
        yield return B("replica-announced", true);
        yield return I("min-replicas-to-write", 0, 0, IntMax, aliases: "min-slaves-to-write");
        yield return I("min-replicas-max-lag", 10, 0, IntMax, aliases: "min-slaves-max-lag");
        yield return S("replica-announce-ip", "", aliases: "slave-announce-ip");
        yield return I("replica-announce-port", 0, 0, 65535, aliases: "slave-announce-port");
        yield return B("replica-ignore-maxmemory", true, aliases: "slave-ignore-maxmemory");
        yield return B("replica-lazy-flush", false, aliases: "slave-lazy-flush");
        yield return B("replica-ignore-disk-write-errors", false);
        yield return E("propagation-error-behavior", "ignore", ["ignore", "panic", "panic-on-replicas"]);

        // Memory management and lazy freeing.
        yield return M("maxmemory", 0, unsigned: true);
        yield return E("maxmemory-policy", "noeviction", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]);
        yield return I("maxmemory-samples", 5, 1, IntMax);
        yield return I("maxmemory-eviction-tenacity", 10, 0, 100);
        yield return I("lfu-log-factor", 10, 0, IntMax);
        yield return I("lfu-decay-time", 1, 0, IntMax);
        yield return B("lazyfree-lazy-eviction", false, noEffect: true);
        yield return B("lazyfree-lazy-expire", false, noEffect: true);
        yield return B("lazyfree-lazy-server-del", false, noEffect: true);
        yield return B("lazyfree-lazy-user-del", false, noEffect: true);
        yield return B("lazyfree-lazy-user-flush", false, noEffect: true);
        yield return I("active-expire-effort", 1, 1, 10);
        yield return B("activerehashing", true, noEffect: true);
        yield return B("jemalloc-bg-thread", true, noEffect: true);
        yield return B("disable-thp", true, imm: true, noEffect: true);
        yield return E("oom-score-adj", "no", ["no", "yes", "relative", "absolute"], noEffect: true);
        yield return Special("oom-score-adj-values", "0 200 800", SpecialDirectives.ParseOomScoreAdjValues, multi: true, noEffect: true, rewrite: SpecialDirectives.RewritePlain);

        // Threads and CPU affinity.
        yield return I("io-threads", 1, 1, 128, imm: true, noEffect: true);
        yield return B("io-threads-do-reads", false, imm: true, noEffect: true);
        yield return S("server_cpulist", "", imm: true, noEffect: true);
        yield return S("bio_cpulist", "", imm: true, noEffect: true);
        yield return S("aof_rewrite_cpulist", "", imm: true, noEffect: true);
        yield return S("bgsave_cpulist", "", imm: true, noEffect: true);

        // Append only file.
        yield return B("appendonly", false);
        yield return S("appendfilename", "appendonly.aof", imm: true, check: v => NotAPath("appendfilename", "filename", v));
        yield return S("appenddirname", "appendonlydir", imm: true, check: v => NotAPath("appenddirname", "dirname", v));
        yield return E("appendfsync", "everysec", ["everysec", "always", "no"]);
        yield return B("no-appendfsync-on-rewrite", false);
        yield return I("auto-aof-rewrite-percentage", 100, 0, IntMax);
        yield return M("auto-aof-rewrite-min-size", 64L << 20);
        yield return B("aof-load-truncated", true);
        yield return B("aof-use-rdb-preamble", true);
        yield return B("aof-timestamp-enabled", false);
        yield return B("aof-rewrite-incremental-fsync", true, noEffect: true);
        yield return B("aof-disable-auto-gc", false);

        // Scripting, slow log, latency, events.
        yield return I("busy-reply-threshold", 5000, 0, long.MaxValue, aliases: "lua-time-limit");
        yield return I("slowlog-log-slower-than", 10000, -1, long.MaxValue);
        yield return I("slowlog-max-len", 128, 0, long.MaxValue);
        yield return I("latency-monitor-threshold", 0, 0, long.MaxValue);
        yield return B("latency-tracking", true);
        yield return Special("latency-tracking-info-percentiles", "50 99 99.9", SpecialDirectives.ParsePercentiles, multi: true, rewrite: SpecialDirectives.RewritePlain);
        yield return Special("notify-keyspace-events", "", SpecialDirectives.ParseNotifyKeyspaceEvents);

        // Data structure encodings.
        yield return I("hash-max-listpack-entries", 512, 0, long.MaxValue, aliases: "hash-max-ziplist-entries");
        yield return M("hash-max-listpack-value", 64, unsigned: true, aliases: "hash-max-ziplist-value");
        yield return I("list-max-listpack-size", -2, IntMin, IntMax, aliases: "list-max-ziplist-size");
        yield return I("list-compress-depth", 0, 0, IntMax);
        yield return I("set-max-intset-entries", 512, 0, long.MaxValue);
        yield return I("zset-max-listpack-entries", 128, 0, long.MaxValue, aliases: "zset-max-ziplist-entries");
        yield return M("zset-max-listpack-value", 64, unsigned: true, aliases: "zset-max-ziplist-value");
        yield return M("hll-sparse-max-bytes", 3000, unsigned: true);
        yield return M("stream-node-max-bytes", 4096, unsigned: true);
        yield return I("stream-node-max-entries", 100, 0, long.MaxValue);

        // Active defragmentation (no effect: the .NET GC compacts).
        yield return B("activedefrag", false, noEffect: true);
        yield return M("active-defrag-ignore-bytes", 100L << 20, unsigned: true, noEffect: true);
        yield return I("active-defrag-threshold-lower", 10, 0, 1000, noEffect: true);
        yield return I("active-defrag-threshold-upper", 100, 0, 1000, noEffect: true);
        yield return I("active-defrag-cycle-min", 1, 1, 99, noEffect: true);
        yield return I("active-defrag-cycle-max", 25, 1, 99, noEffect: true);
        yield return I("active-defrag-max-scan-fields", 1000, 1, long.MaxValue, noEffect: true);

        // Cluster (Basalt runs standalone only).
        yield return B("cluster-enabled", false, imm: true, noEffect: true);
        yield return S("cluster-config-file", "nodes.conf", imm: true, noEffect: true);
        yield return I("cluster-port", 0, 0, 65535, imm: true, noEffect: true);
        yield return I("cluster-node-timeout", 15000, 0, long.MaxValue, noEffect: true);
        yield return I("cluster-replica-validity-factor", 10, 0, IntMax, noEffect: true, aliases: "cluster-slave-validity-factor");
        yield return I("cluster-migration-barrier", 1, 0, IntMax, noEffect: true);
        yield return B("cluster-allow-replica-migration", true, noEffect: true);
        yield return B("cluster-require-full-coverage", true, noEffect: true);
        yield return B("cluster-replica-no-failover", false, noEffect: true, aliases: "cluster-slave-no-failover");
        yield return B("cluster-allow-reads-when-down", false, noEffect: true);
        yield return B("cluster-allow-pubsubshard-when-down", true, noEffect: true);
        yield return M("cluster-link-sendbuf-limit", 0, unsigned: true, noEffect: true);
        yield return S("cluster-announce-ip", "", noEffect: true);
        yield return Special("cluster-announce-hostname", "", SpecialDirectives.ParseHostname, noEffect: true);
        yield return I("cluster-announce-port", 0, 0, 65535, noEffect: true);
        yield return I("cluster-announce-bus-port", 0, 0, 65535, noEffect: true);
        yield return I("cluster-announce-tls-port", 0, 0, 65535, noEffect: true);
        yield return E("cluster-preferred-endpoint-type", "ip", ["ip", "hostname", "unknown-endpoint"], noEffect: true);

        // TLS (not supported by Basalt).
        yield return I("tls-port", 0, 0, 65535, noEffect: true);
        foreach (var n in new[] { "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file", "tls-client-key-file",
                     "tls-client-key-file-pass", "tls-dh-params-file", "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols", "tls-ciphers", "tls-ciphersuites" })
            yield return S(n, "", noEffect: true);
        yield return E("tls-auth-clients", "yes", ["no", "yes", "optional"], noEffect: true);
        yield return B("tls-replication", false, noEffect: true);
        yield return B("tls-cluster", false, noEffect: true);
        yield return B("tls-prefer-server-ciphers", false, noEffect: true);
        yield return B("tls-session-caching", true, noEffect: true);
        yield return I("tls-session-cache-size", 20480, 0, IntMax, noEffect: true);
        yield return I("tls-session-cache-timeout", 300, 0, IntMax, noEffect: true);
    }

    private static ConfigDirective Special(string name, string def, SpecialParser parser, bool multi = false, bool imm = false, bool noEffect = false,
        string[]? aliases = null, Func<ConfigDirective, string, IEnumerable<string>>? rewrite = null) =>
        new() { Name = name, Kind = ConfigKind.Special, Default = def, Parser = parser, MultiArg = multi, Immutable = imm, NoEffect = noEffect, Aliases = aliases ?? [], RewriteLines = rewrite };
}
