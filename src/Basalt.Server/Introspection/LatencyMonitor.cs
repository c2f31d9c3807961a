using System.Globalization;
using System.Text;
using Basalt.Server.Commands;

namespace Basalt.Server.Introspection;

/// <summary>
/// LATENCY's event time series: per event name, up to 160 samples of (unix second, worst ms in that second)
/// plus the all-time maximum. Samples are added only above latency-monitor-threshold. Under the execution lock.
/// </summary>
public sealed class LatencyMonitor
{
    public const int SeriesLength = 160;

    public sealed class Series
    {
        public readonly long[] Times = new long[SeriesLength];
        public readonly long[] Latencies = new long[SeriesLength];
        public int Next;    // slot of the next sample
        public int Count;   // samples stored (<= SeriesLength)
        public long Max;

        public int Last => (Next + SeriesLength - 1) % SeriesLength;

        /// <summary>Oldest first.</summary>
        public IEnumerable<(long Time, long Latency)> Samples()
        {
            int start = (Next + SeriesLength - Count) % SeriesLength;
            for (int i = 0; i < Count; i++)
            {
                int j = (start + i) % SeriesLength;
                yield return (Times[j], Latencies[j]);
            }
        }
    }

    private readonly Dictionary<string, Series> _events = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, Series> Events => _events;

    public void AddIfNeeded(RedisServer server, string evt, long ms)
    {
        long threshold = server.Config.LatencyMonitorThreshold;
        if (threshold > 0 && ms >= threshold) Add(evt, ms);
    }

    /// <summary>Samples within the same second merge into the worst one.</summary>
    public void Add(string evt, long ms)
    {
        if (!_events.TryGetValue(evt, out var s)) _events[evt] = s = new Series();
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (ms > s.Max) s.Max = ms;
        if (s.Count > 0 && s.Times[s.Last] == now)
        {
            if (ms > s.Latencies[s.Last]) s.Latencies[s.Last] = ms;
            return;
        }
        s.Times[s.Next] = now;
        s.Latencies[s.Next] = ms;
        s.Next = (s.Next + 1) % SeriesLength;
        if (s.Count < SeriesLength) s.Count++;
    }

    public int Reset(IEnumerable<string>? events)
    {
        if (events is null)
        {
            int n = _events.Count;
            _events.Clear();
            return n;
        }
        int removed = 0;
        foreach (var e in events) if (_events.Remove(e)) removed++;
        return removed;
    }

    /// <summary>A small ASCII chart of the samples (newest on the right), one column per sample.</summary>
    public static string Graph(string evt, Series s)
    {
        var samples = s.Samples().TakeLast(80).ToArray();
        long high = samples.Max(x => x.Latency), low = samples.Min(x => x.Latency);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{evt} - high {high} ms, low {low} ms (all time high {s.Max} ms)\n");
        sb.Append('-', 80).Append('\n');
        const int rows = 4;
        for (int r = rows; r >= 1; r--)
        {
            var line = new StringBuilder();
            foreach (var (_, lat) in samples)
            {
                long level = high == 0 ? 0 : (lat * rows + high - 1) / high;
                line.Append(level >= r ? (level == r ? '_' : '|') : ' ');
            }
            sb.Append(line.ToString().TrimEnd().Length == 0 ? " " : line.ToString()).Append('\n');
        }
        // Age of each sample, vertically: seconds (s), minutes (m) or hours (h) ago.
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var labels = samples.Select(x => AgeLabel(now - x.Time)).ToArray();
        int height = labels.Length == 0 ? 0 : labels.Max(l => l.Length);
        for (int row = 0; row < height; row++)
        {
            foreach (var l in labels) sb.Append(row < l.Length ? l[row] : ' ');
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string AgeLabel(long secs)
    {
        if (secs < 60) return secs.ToString(CultureInfo.InvariantCulture) + "s";
        if (secs < 3600) return (secs / 60).ToString(CultureInfo.InvariantCulture) + "m";
        return (secs / 3600).ToString(CultureInfo.InvariantCulture) + "h";
    }
}

/// <summary>
/// Per-command latency distribution for INFO latencystats: log-linear buckets (16 per power of two, about 6%
/// precision) over microseconds. Percentiles report the upper bound of the bucket the rank falls in.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBuckets = 16;
    private readonly long[] _counts = new long[64 * SubBuckets];
    public long Total;

    public void Record(long micros)
    {
        _counts[Index(Math.Max(1, micros))]++;
        Total++;
    }

    private static int Index(long v)
    {
        if (v < SubBuckets) return (int)v;
        int log = 63 - (int)long.LeadingZeroCount(v);          // v in [2^log, 2^(log+1))
        int shift = log - 4;                                // 16 sub-buckets
        int sub = (int)(v >> shift) - SubBuckets;
        return (log - 3) * SubBuckets + sub;
    }

    private static double UpperBound(int index)
    {
        if (index < SubBuckets) return index;
        int group = index / SubBuckets + 3;
        int sub = index % SubBuckets;
        int shift = group - 4;
        return ((long)(SubBuckets + sub + 1) << shift) - 1;
    }

    /// <summary>Cumulative counts at power-of-two bounds (usec), for the bounds whose range holds samples.</summary>
    public List<(long Bound, long Cumulative)> CumulativePowersOfTwo()
    {
        var result = new List<(long, long)>();
        long cum = 0;
        long bound = 1;
        long inRange = 0;
        for (int i = 0; i < _counts.Length && cum < Total; i++)
        {
            double upper = UpperBound(i);
            while (upper > bound)
            {
                if (inRange > 0) result.Add((bound, cum));
                inRange = 0;
                bound <<= 1;
            }
            cum += _counts[i];
            inRange += _counts[i];
        }
        if (inRange > 0) result.Add((bound, cum));
        return result;
    }

    public double Percentile(double p)
    {
        if (Total == 0) return 0;
        long rank = (long)Math.Ceiling(p / 100.0 * Total);
        if (rank < 1) rank = 1;
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return UpperBound(i);
        }
        return 0;
    }
}

/// <summary>Latency histograms by command (INFO latencystats); filled from the dispatcher's per-command hook.</summary>
public sealed class CommandLatencies
{
    private readonly Dictionary<CommandDef, LatencyHistogram> _byCommand = new(ReferenceEqualityComparer.Instance);

    public IEnumerable<KeyValuePair<CommandDef, LatencyHistogram>> All => _byCommand;

    public void Record(CommandDef def, long micros)
    {
        if (!_byCommand.TryGetValue(def, out var h)) _byCommand[def] = h = new LatencyHistogram();
        h.Record(micros);
    }

    public void Reset() => _byCommand.Clear();
}
