using System.Globalization;
using System.Text;
using Basalt.Server.Introspection;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>SLOWLOG, LATENCY, MONITOR and MEMORY (INFO lives in InfoCommand).</summary>
public static class IntrospectionCommands
{
    public static void Register(CommandTable t)
    {
        InfoCommand.Register(t);

        var slowlog = t.AddContainer("slowlog", -2);
        CommandTable.AddSub(slowlog, "get", -2, Admin | Loading | Stale, 0, 0, 0, SlowlogGet);
        CommandTable.AddSub(slowlog, "len", 2, Admin | Loading | Stale, 0, 0, 0, ctx => ctx.Reply.WriteInteger(State(ctx).SlowLog.Count));
        CommandTable.AddSub(slowlog, "reset", 2, Admin | Loading | Stale, 0, 0, 0, ctx => { State(ctx).SlowLog.Reset(); ctx.Reply.WriteOk(); });
        CommandTable.AddSub(slowlog, "help", 2, Loading | Stale, 0, 0, 0, ctx => WriteHelp(ctx, "SLOWLOG", SlowlogHelp));

        var latency = t.AddContainer("latency", -2);
        const CommandFlags L = Admin | NoScript | Loading | Stale;
        CommandTable.AddSub(latency, "latest", 2, L, 0, 0, 0, LatencyLatest);
        CommandTable.AddSub(latency, "history", 3, L, 0, 0, 0, LatencyHistory);
        CommandTable.AddSub(latency, "reset", -2, L, 0, 0, 0, LatencyReset);
        CommandTable.AddSub(latency, "doctor", 2, L, 0, 0, 0, LatencyDoctor);
        CommandTable.AddSub(latency, "graph", 3, L, 0, 0, 0, LatencyGraph);
        CommandTable.AddSub(latency, "histogram", -2, L, 0, 0, 0, LatencyHistogramCmd);
        CommandTable.AddSub(latency, "help", 2, Loading | Stale, 0, 0, 0, ctx => WriteHelp(ctx, "LATENCY", LatencyHelp));

        t.Add("monitor", 1, Admin | NoScript | Loading | Stale, 0, 0, 0, Monitor);

        var memory = t.AddContainer("memory", -2);
        CommandTable.AddSub(memory, "usage", -3, ReadOnly, 2, 2, 1, MemoryUsage);
        CommandTable.AddSub(memory, "stats", 2, None, 0, 0, 0, MemoryStatsCmd);
        CommandTable.AddSub(memory, "doctor", 2, None, 0, 0, 0, MemoryDoctor);
        CommandTable.AddSub(memory, "malloc-stats", 2, None, 0, 0, 0, MallocStats);
        CommandTable.AddSub(memory, "purge", 2, None, 0, 0, 0, MemoryPurge);
        CommandTable.AddSub(memory, "help", 2, Loading | Stale, 0, 0, 0, ctx => WriteHelp(ctx, "MEMORY", MemoryHelp));
    }

    private static IntrospectionState State(CommandContext ctx) => ctx.Server.Dispatcher.Introspection;

    /// <summary>Redis's help reply: a header line, the subcommand lines, then HELP itself, all as status strings.</summary>
    internal static void WriteHelp(CommandContext ctx, string command, string[] lines)
    {
        var r = ctx.Reply;
        r.WriteArrayHeader(lines.Length + 3);
        r.WriteSimpleString($"{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        foreach (var l in lines) r.WriteSimpleString(l);
        r.WriteSimpleString("HELP");
        r.WriteSimpleString("    Prints this help.");
    }

    // ---- SLOWLOG ----

    private static readonly string[] SlowlogHelp =
    [
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
    ];

    private static void SlowlogGet(CommandContext ctx)
    {
        if (ctx.Count > 3)
        {
            ClientCommands.SubcommandSyntaxError(ctx, "SLOWLOG");
            return;
        }
        long count = 10;
        if (ctx.Count == 3 && (!ctx.TryArgInt64(2, out count) || count < -1))
        {
            ctx.Reply.WriteError("ERR count should be greater than or equal to -1");
            return;
        }
        var log = State(ctx).SlowLog;
        long n = count == -1 ? log.Count : Math.Min(count, log.Count);
        var r = ctx.Reply;
        r.WriteArrayHeader(n);
        foreach (var e in log.Entries)
        {
            if (n-- <= 0) break;
            r.WriteArrayHeader(6);
            r.WriteInteger(e.Id);
            r.WriteInteger(e.UnixSeconds);
            r.WriteInteger(e.Micros);
            r.WriteArrayHeader(e.Args.Length);
            foreach (var a in e.Args) r.WriteBulk(a);
            r.WriteBulk(e.Address);
            r.WriteBulk(e.Name);
        }
    }

    // ---- LATENCY ----

    private static readonly string[] LatencyHelp =
    [
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
    ];

    private static void LatencyLatest(CommandContext ctx)
    {
        var events = State(ctx).Latency.Events;
        var r = ctx.Reply;
        r.WriteArrayHeader(events.Count);
        foreach (var (name, s) in events)
        {
            r.WriteArrayHeader(4);
            r.WriteBulk(name);
            r.WriteInteger(s.Times[s.Last]);
            r.WriteInteger(s.Latencies[s.Last]);
            r.WriteInteger(s.Max);
        }
    }

    private static void LatencyHistory(CommandContext ctx)
    {
        var r = ctx.Reply;
        if (!State(ctx).Latency.Events.TryGetValue(ctx.ArgString(2), out var s))
        {
            r.WriteArrayHeader(0);
            return;
        }
        r.WriteArrayHeader(s.Count);
        foreach (var (time, lat) in s.Samples())
        {
            r.WriteArrayHeader(2);
            r.WriteInteger(time);
            r.WriteInteger(lat);
        }
    }

    private static void LatencyReset(CommandContext ctx)
    {
        List<string>? names = null;
        if (ctx.Count > 2)
        {
            names = new();
            for (int i = 2; i < ctx.Count; i++) names.Add(ctx.ArgString(i));
        }
        ctx.Reply.WriteInteger(State(ctx).Latency.Reset(names));
    }

    private static void LatencyGraph(CommandContext ctx)
    {
        var name = ctx.ArgString(2);
        if (!State(ctx).Latency.Events.TryGetValue(name, out var s) || s.Count == 0)
        {
            ctx.Reply.WriteError($"ERR No samples available for event '{name}'");
            return;
        }
        ctx.Reply.WriteVerbatim(LatencyMonitor.Graph(name, s));
    }

    /// <summary>A short report of the recorded spikes (the analysis itself is Basalt's own wording).</summary>
    private static void LatencyDoctor(CommandContext ctx)
    {
        var events = State(ctx).Latency.Events;
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        if (events.Count == 0)
        {
            sb.Append("No latency spikes were recorded since this instance started");
            sb.Append(ctx.Server.Config.LatencyMonitorThreshold == 0
                ? " (the latency monitor is disabled: set latency-monitor-threshold to enable it).\n"
                : ".\n");
        }
        else
        {
            sb.Append("Latency spikes were recorded for these events:\n\n");
            int i = 1;
            foreach (var (name, s) in events)
            {
                var samples = s.Samples().ToArray();
                double avg = samples.Average(x => (double)x.Latency);
                double dev = samples.Average(x => Math.Abs(x.Latency - avg));
                sb.Append(ci, $"{i++}. {name}: {samples.Length} latency spikes (average {avg:0}ms, mean deviation {dev:0}ms). Worst all time event {s.Max}ms.\n");
            }
            sb.Append("\nCheck SLOWLOG GET for the slowest commands; deleting or expiring very large keys also blocks the server.\n");
        }
        ctx.Reply.WriteVerbatim(sb.ToString());
    }

    /// <summary>LATENCY HISTOGRAM [command ...]: calls and a cumulative distribution per command (power-of-two buckets).</summary>
    private static void LatencyHistogramCmd(CommandContext ctx)
    {
        var all = State(ctx).CommandLatencies.All.ToDictionary(kv => kv.Key.FullName, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
        List<string> names = new();
        if (ctx.Count == 2) names.AddRange(all.Keys);
        else
        {
            for (int i = 2; i < ctx.Count; i++)
            {
                var n = ctx.ArgString(i).ToLowerInvariant();
                if (all.ContainsKey(n) && !names.Contains(n)) names.Add(n);
            }
        }
        var r = ctx.Reply;
        r.WriteMapHeader(names.Count);
        foreach (var n in names)
        {
            var h = all[n];
            r.WriteBulk(n);
            r.WriteMapHeader(2);
            r.WriteBulk("calls"u8);
            r.WriteInteger(h.Total);
            r.WriteBulk("histogram_usec"u8);
            var buckets = h.CumulativePowersOfTwo();
            r.WriteMapHeader(buckets.Count);
            foreach (var (bound, cum) in buckets)
            {
                r.WriteInteger(bound);
                r.WriteInteger(cum);
            }
        }
    }

    // ---- MONITOR ----

    private static void Monitor(CommandContext ctx)
    {
        var c = ctx.Client;
        if (c.Has(ClientFlags.Multi))
        {
            ctx.Reply.WriteError("ERR MONITOR isn't allowed for DENY BLOCKING client");
            return;
        }
        // A replica or a client already monitoring gets no reply at all.
        if (c.Has(ClientFlags.Monitor) || c.Has(ClientFlags.Replica)) return;
        State(ctx).Monitors.Add(c);
        ctx.Reply.WriteOk();
    }

    // ---- MEMORY ----

    private static readonly string[] MemoryHelp =
    [
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
    ];

    private static void MemoryUsage(CommandContext ctx)
    {
        long samples = 5;
        for (int i = 3; i < ctx.Count; i++)
        {
            if (ctx.ArgIs(i, "samples"u8) && i + 1 < ctx.Count)
            {
                if (!ctx.GetInt64OrReply(i + 1, out samples)) return;
                if (samples < 0) { ctx.SyntaxError(); return; }
                i++;
            }
            else { ctx.SyntaxError(); return; }
        }
        var key = ctx.Arg(2);
        var value = ctx.Db.Lookup(key, touch: false);
        if (value is null) { ctx.Reply.WriteNull(); return; }
        int n = samples == 0 ? 0 : (int)Math.Min(samples, int.MaxValue);
        ctx.Reply.WriteInteger(Introspection.MemoryStats.KeyUsage(key, value, n));
    }

    private static void MemoryStatsCmd(CommandContext ctx)
    {
        var server = ctx.Server;
        var state = State(ctx);
        state.UpdatePeakMemory();
        long used = Introspection.MemoryStats.UsedMemory();
        long rss = Introspection.MemoryStats.Rss();
        long peak = Math.Max(state.PeakMemory, used);
        long startup = Math.Min(state.StartupMemory, used);
        long clientsNormal = 0;
        foreach (var c in server.Clients.All) clientsNormal += c.PendingOutputBytes + c.QueryBufferSize;
        var dbs = new List<(int Index, long Main, long Expires)>();
        long overhead = startup + clientsNormal;
        long keys = 0;
        foreach (var db in server.Databases)
        {
            if (db.Count == 0) continue;
            long main = Introspection.MemoryStats.TableOverhead(db.Count);
            long exp = Introspection.MemoryStats.TableOverhead(db.ExpiresCount);
            dbs.Add((db.Index, main, exp));
            overhead += main + exp;
            keys += db.Count;
        }
        long dataset = Math.Max(0, used - overhead);
        long netUsed = Math.Max(1, used - startup);
        var r = ctx.Reply;
        r.WriteMapHeader(27 + dbs.Count);
        void Int(string name, long v) { r.WriteBulk(name); r.WriteInteger(v); }
        void Dbl(string name, double v) { r.WriteBulk(name); r.WriteDouble((float)v); }
        Int("peak.allocated", peak);
        Int("total.allocated", used);
        Int("startup.allocated", startup);
        Int("replication.backlog", 0);
        Int("clients.slaves", 0);
        Int("clients.normal", clientsNormal);
        Int("cluster.links", 0);
        Int("aof.buffer", 0);
        Int("lua.caches", 0);
        Int("functions.caches", 0);
        foreach (var (index, main, exp) in dbs)
        {
            r.WriteBulk("db." + index.ToString(CultureInfo.InvariantCulture));
            r.WriteMapHeader(3);
            Int("overhead.hashtable.main", main);
            Int("overhead.hashtable.expires", exp);
            Int("overhead.hashtable.slot-to-keys", 0);
        }
        Int("overhead.total", overhead);
        Int("keys.count", keys);
        Int("keys.bytes-per-key", keys == 0 ? 0 : netUsed / keys);
        Int("dataset.bytes", dataset);
        Dbl("dataset.percentage", dataset * 100.0 / netUsed);
        Dbl("peak.percentage", used * 100.0 / Math.Max(1, peak));
        var gc = GC.GetGCMemoryInfo();
        long active = Math.Max(used, gc.HeapSizeBytes);
        Int("allocator.allocated", used);
        Int("allocator.active", active);
        Int("allocator.resident", Math.Max(active, gc.TotalCommittedBytes));
        Dbl("allocator-fragmentation.ratio", active / (double)Math.Max(1, used));
        Int("allocator-fragmentation.bytes", active - used);
        Dbl("allocator-rss.ratio", Math.Max(active, gc.TotalCommittedBytes) / (double)Math.Max(1, active));
        Int("allocator-rss.bytes", Math.Max(active, gc.TotalCommittedBytes) - active);
        Dbl("rss-overhead.ratio", rss / (double)Math.Max(1, Math.Max(active, gc.TotalCommittedBytes)));
        Int("rss-overhead.bytes", rss - Math.Max(active, gc.TotalCommittedBytes));
        Dbl("fragmentation", rss / (double)Math.Max(1, used));
        Int("fragmentation.bytes", rss - used);
    }

    /// <summary>A few checks in the spirit of Redis's memory doctor (wording is Basalt's own).</summary>
    private static void MemoryDoctor(CommandContext ctx)
    {
        long used = Introspection.MemoryStats.UsedMemory();
        long rss = Introspection.MemoryStats.Rss();
        var sb = new StringBuilder();
        if (used < 5 * 1024 * 1024)
        {
            sb.Append("This instance holds too little data for a meaningful memory analysis.");
        }
        else
        {
            var issues = new List<string>();
            double frag = rss / (double)used;
            if (frag > 1.4) issues.Add($"High fragmentation: the process resident size is {frag.ToString("0.00", CultureInfo.InvariantCulture)} times the heap in use (MEMORY PURGE runs a full garbage collection).");
            State(ctx).UpdatePeakMemory();
            if (State(ctx).PeakMemory > used * 2) issues.Add("The peak memory use was more than twice the current use; memory freed since may not be returned to the system yet.");
            long bigOutput = ctx.Server.Clients.All.Count(c => c.PendingOutputBytes > 1024 * 1024);
            if (bigOutput > 0) issues.Add($"{bigOutput} client(s) have more than 1MB of pending replies.");
            if (issues.Count == 0) sb.Append("No memory problems were detected.");
            else
            {
                sb.Append("Possible memory issues:\n\n");
                foreach (var i in issues) sb.Append(" * ").Append(i).Append('\n');
            }
        }
        ctx.Reply.WriteVerbatim(sb.ToString());
    }

    /// <summary>
    /// Redis asks jemalloc to hand dirty pages back; the equivalent here is a blocking, compacting full collection in
    /// aggressive mode, which also decommits the free regions the GC would otherwise keep for later allocations
    /// (after dropping the cached big connection buffers).
    /// </summary>
    private static void MemoryPurge(CommandContext ctx)
    {
        Basalt.Protocol.BufferPool.Trim();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        ctx.Reply.WriteOk();
    }

    /// <summary>There is no jemalloc: report the garbage collector's figures instead.</summary>
    private static void MallocStats(CommandContext ctx)
    {
        var gc = GC.GetGCMemoryInfo();
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("___ Begin .NET GC statistics ___\n");
        sb.Append(ci, $"Heap size: {gc.HeapSizeBytes}\n");
        sb.Append(ci, $"Committed: {gc.TotalCommittedBytes}\n");
        sb.Append(ci, $"Fragmented: {gc.FragmentedBytes}\n");
        sb.Append(ci, $"Allocated (total): {GC.GetTotalAllocatedBytes()}\n");
        sb.Append(ci, $"Collections: gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)}\n");
        sb.Append(ci, $"Pause total (ms): {GC.GetTotalPauseDuration().TotalMilliseconds:0.0}\n");
        sb.Append(ci, $"Big buffers cached: {Basalt.Protocol.BufferPool.CachedBytes}\n");
        sb.Append(ci, $"Server GC: {System.Runtime.GCSettings.IsServerGC}\n");
        sb.Append("--- End .NET GC statistics ---\n");
        ctx.Reply.WriteVerbatim(sb.ToString());
    }
}
