using System.Globalization;
using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>
/// maxmemory and maxmemory-policy: each test starts its own server, because the limit is server-wide.
/// Limits are set relative to the measured used_memory so that the tests do not depend on the runtime's baseline.
/// </summary>
public class EvictionTests
{
    private const string OomReply = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

    internal static long Info(RespConnection c, string field)
    {
        var text = c.Call("INFO", "everything").Text!;
        foreach (var line in text.Split("\r\n"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..], CultureInfo.InvariantCulture);
        throw new InvalidOperationException("INFO has no " + field);
    }

    /// <summary>Pipelined SETs in batches; returns the replies that were not +OK.</summary>
    internal static List<string> FillKeys(RespConnection c, string prefix, int count, int valueSize, int batch = 500)
    {
        var value = new string('v', valueSize);
        var failures = new List<string>();
        for (int start = 0; start < count; start += batch)
        {
            int n = Math.Min(batch, count - start);
            var sb = new StringBuilder();
            for (int i = 0; i < n; i++)
            {
                string key = prefix + (start + i).ToString(CultureInfo.InvariantCulture);
                sb.Append("*3\r\n$3\r\nSET\r\n$").Append(Encoding.UTF8.GetByteCount(key)).Append("\r\n").Append(key)
                  .Append("\r\n$").Append(valueSize).Append("\r\n").Append(value).Append("\r\n");
            }
            c.SendRaw(sb.ToString());
            for (int i = 0; i < n; i++)
            {
                var raw = Encoding.UTF8.GetString(c.ReadRaw());
                if (raw != "+OK\r\n") failures.Add(raw);
            }
        }
        return failures;
    }

    private static void AssertEventuallyOom(RespConnection c, string key)
    {
        string last = "";
        for (int i = 0; i < 10 && last != OomReply; i++) last = Encoding.UTF8.GetString(c.CallRaw("SET", key, "x"));
        Assert.Equal(OomReply, last);
    }

    private static long Used(RespConnection c) => Info(c, "used_memory");

    private static int Surviving(RespConnection c, string prefix, int count)
    {
        int n = 0;
        for (int i = 0; i < count; i++) if (c.Call("EXISTS", prefix + i).Integer == 1) n++;
        return n;
    }

    [Fact]
    public void Allkeys_lru_keeps_writes_succeeding_and_bounds_the_dataset()
    {
        using var s = ServerProcess.StartBasalt();
        using var c = s.Connect();
        long limit = Used(c) + 4_000_000;
        Assert.Equal("OK", c.Call("CONFIG", "SET", "maxmemory", limit.ToString(CultureInfo.InvariantCulture)).Text);
        Assert.Equal("OK", c.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru").Text);

        const int total = 20_000; // about 10 MB of values against a 4 MB margin
        var failures = FillKeys(c, "lru:", total, 500);
        Assert.Empty(failures);
        // Eviction may go on over the next commands (time budget per command): stop it before counting.
        c.Call("CONFIG", "SET", "maxmemory", "0");
        long evicted = Info(c, "evicted_keys");
        long dbsize = c.Call("DBSIZE").Integer;
        Assert.True(evicted > 0, "no key was evicted");
        Assert.True(dbsize < total / 2, $"dbsize {dbsize} not bounded");
        Assert.Equal(total, dbsize + evicted);
        // Once the garbage is collected the heap is within the limit (plus the slack of one check interval).
        c.Call("MEMORY", "PURGE");
        long used = Used(c);
        Assert.True(used <= limit + 1_000_000, $"used {used} > limit {limit}");
    }

    /// <summary>Evicted string values are recycled into later SETs of the same length: no surviving value may change.</summary>
    [Fact]
    public void Recycled_values_of_evicted_keys_never_alter_surviving_keys()
    {
        using var s = ServerProcess.StartBasalt();
        using var c = s.Connect();
        long limit = Used(c) + 3_000_000;
        c.Call("CONFIG", "SET", "maxmemory", limit.ToString(CultureInfo.InvariantCulture));
        c.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
        static string ValueOf(int i) => ("v" + i + ":").PadRight(300, (char)('a' + i % 26));
        const int total = 30_000, batch = 500;
        for (int start = 0; start < total; start += batch)
        {
            var sb = new StringBuilder();
            for (int i = start; i < start + batch; i++)
            {
                string key = "rc:" + i, value = ValueOf(i);
                sb.Append("*3\r\n$3\r\nSET\r\n$").Append(key.Length).Append("\r\n").Append(key)
                  .Append("\r\n$").Append(value.Length).Append("\r\n").Append(value).Append("\r\n");
            }
            c.SendRaw(sb.ToString());
            for (int i = 0; i < batch; i++) Assert.Equal("+OK\r\n", Encoding.UTF8.GetString(c.ReadRaw()));
            // Overwrites and reads in between, so recycled arrays meet in-place updates too.
            c.Call("SET", "rc:" + start, ValueOf(start));
        }
        c.Call("CONFIG", "SET", "maxmemory", "0");
        Assert.True(Info(c, "evicted_keys") > total / 2, "the flood did not evict most keys");
        int checkedKeys = 0;
        for (int i = 0; i < total; i++)
        {
            var v = c.Call("GET", "rc:" + i);
            if (v.IsNull) continue;
            Assert.Equal(ValueOf(i), v.Text);
            checkedKeys++;
        }
        Assert.True(checkedKeys > 1000, $"only {checkedKeys} keys survived");
        Assert.Equal(checkedKeys, c.Call("DBSIZE").Integer);
    }

    [Fact]
    public void Lru_evicts_idle_keys_before_recently_written_ones()
    {
        using var s = ServerProcess.StartBasalt();
        using var c = s.Connect();
        Assert.Empty(FillKeys(c, "old:", 300, 500));
        // The LRU clock has a one-second resolution: wait until the old keys are measurably idle.
        Tools.WaitUntil(() => c.Call("OBJECT", "IDLETIME", "old:0").Integer >= 2, TimeSpan.FromSeconds(10), "old keys idle");
        c.Call("MEMORY", "PURGE");
        long limit = Used(c) + 2_000_000;
        c.Call("CONFIG", "SET", "maxmemory", limit.ToString(CultureInfo.InvariantCulture));
        c.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
        const int fresh = 8000;
        Assert.Empty(FillKeys(c, "new:", fresh, 500));
        Assert.True(Info(c, "evicted_keys") > 0);
        double oldSurvival = Surviving(c, "old:", 300) / 300.0;
        double newSurvival = Surviving(c, "new:", fresh) / (double)fresh;
        Assert.True(oldSurvival < newSurvival / 2, $"old keys survived {oldSurvival:P0}, new {newSurvival:P0}");
    }

    [Fact]
    public void Noeviction_refuses_deny_oom_commands_with_redis_error_but_reads_work()
    {
        using var s = ServerProcess.StartBasalt();
        using var r = ServerProcess.StartRedis();
        foreach (var server in new[] { s, r })
        {
            using var c = server.Connect();
            c.Call("SET", "ne:a", "1");
            c.Call("CONFIG", "SET", "maxmemory", "1");
            Assert.Equal(OomReply, Encoding.UTF8.GetString(c.CallRaw("SET", "ne:b", "2")));
            Assert.Equal(OomReply, Encoding.UTF8.GetString(c.CallRaw("APPEND", "ne:a", "x")));
            Assert.Equal("1", c.Call("GET", "ne:a").Text);
            Assert.Equal(0, c.Call("EXISTS", "ne:b").Integer);
            Assert.Equal(0, Info(c, "evicted_keys"));
            // Commands that free memory are still allowed.
            Assert.Equal(1, c.Call("DEL", "ne:a").Integer);
            Assert.Contains("errorstat_OOM:count=2", c.Call("INFO", "errorstats").Text);
        }
    }

    [Theory]
    [InlineData("volatile-lru")]
    [InlineData("volatile-lfu")]
    [InlineData("volatile-random")]
    [InlineData("volatile-ttl")]
    public void Volatile_policies_evict_only_keys_with_a_ttl(string policy)
    {
        using var s = ServerProcess.StartBasalt();
        using var c = s.Connect();
        for (int i = 0; i < 50; i++)
        {
            c.Call("SET", "vol:p" + i, "persistent");
            c.Call("SET", "vol:t" + i, "volatile", "EX", (1000 + i).ToString(CultureInfo.InvariantCulture));
        }
        c.Call("CONFIG", "SET", "maxmemory-policy", policy);
        c.Call("CONFIG", "SET", "maxmemory", "1");
        // Everything with a TTL goes, then nothing is left to evict. A write may pass while eviction is still
        // running on its time budget (maxmemory-eviction-tenacity), as in Redis; it is refused once nothing is left.
        AssertEventuallyOom(c, "vol:new");
        Assert.Equal(50, Info(c, "evicted_keys"));
        Assert.InRange(c.Call("DBSIZE").Integer, 50, 51); // vol:new has no TTL when a SET got through
        Assert.Equal(50, Surviving(c, "vol:p", 50));
        Assert.Equal(0, Surviving(c, "vol:t", 50));
    }

    [Fact]
    public void Volatile_policy_without_volatile_keys_is_oom_and_allkeys_policy_empties_the_db()
    {
        using var s = ServerProcess.StartBasalt();
        using var c = s.Connect();
        for (int i = 0; i < 20; i++) c.Call("SET", "ak:" + i, "v");
        c.Call("CONFIG", "SET", "maxmemory-policy", "volatile-lru");
        c.Call("CONFIG", "SET", "maxmemory", "1");
        Assert.Equal(OomReply, Encoding.UTF8.GetString(c.CallRaw("SET", "ak:new", "x")));
        Assert.Equal(20, c.Call("DBSIZE").Integer);
        c.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-random");
        // The limit cannot be met even with no keys: all are evicted and the write is still refused, as in Redis.
        AssertEventuallyOom(c, "ak:new");
        Assert.Equal(0, c.Call("DBSIZE").Integer);
        Assert.InRange(Info(c, "evicted_keys"), 20, 21);
    }

    [Fact]
    public void Runtime_policy_switch_from_noeviction_to_allkeys_lru_lets_writes_through()
    {
        using var s = ServerProcess.StartBasalt();
        using var c = s.Connect();
        Assert.Empty(FillKeys(c, "sw:", 12_000, 500));
        c.Call("MEMORY", "PURGE");
        long limit = Used(c) - 2_000_000;
        c.Call("CONFIG", "SET", "maxmemory", limit.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(OomReply, Encoding.UTF8.GetString(c.CallRaw("SET", "sw:new", "x")));
        // The time over the limit is accounted while it lasts.
        Tools.WaitUntil(() => Info(c, "current_eviction_exceeded_time") > 0, TimeSpan.FromSeconds(5), "exceeded time");

        Assert.Equal("OK", c.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru").Text);
        Assert.Equal("OK", c.Call("SET", "sw:new", "x").Text);
        Assert.Contains("maxmemory_policy:allkeys-lru", c.Call("INFO", "memory").Text);
        // Eviction may continue over the next commands (tenacity time budget); then the limit is met again.
        Tools.WaitUntil(() => Info(c, "current_eviction_exceeded_time") == 0, TimeSpan.FromSeconds(5), "back under the limit");
        c.Call("CONFIG", "SET", "maxmemory", "0");
        long evicted = Info(c, "evicted_keys");
        Assert.True(evicted > 0);
        Assert.Equal(12_001 - evicted, c.Call("DBSIZE").Integer);
        Assert.True(Info(c, "total_eviction_exceeded_time") > 0);
        c.Call("CONFIG", "RESETSTAT");
        Assert.Equal(0, Info(c, "total_eviction_exceeded_time"));
        Assert.Equal(0, Info(c, "evicted_keys"));
    }
}
