using Basalt.Protocol;
using System.Globalization;
using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>LFU policies: OBJECT FREQ counters compared with real Redis, and eviction that spares frequently used keys.</summary>
public class EvictionLfuTests
{
    private static void Pipeline(RespConnection c, int times, params object[] command)
    {
        var one = RespValue.EncodeCommand(command);
        var all = new byte[one.Length * times];
        for (int i = 0; i < times; i++) one.CopyTo(all, i * one.Length);
        c.SendRaw(all);
        for (int i = 0; i < times; i++) Assert.False(c.Read().IsError);
    }

    [Fact]
    public void Object_freq_grows_with_accesses_like_redis()
    {
        using var b = ServerProcess.StartBasalt();
        using var r = ServerProcess.StartRedis();
        foreach (var server in new[] { b, r })
        {
            using var c = server.Connect();
            string name = server.IsRedis ? "redis" : "basalt";
            Assert.True(c.Call("OBJECT", "FREQ", "lfu:missing").IsNull);
            c.Call("SET", "lfu:k", "hello");
            Assert.True(c.Call("OBJECT", "FREQ", "lfu:k").IsError, name);
            Assert.Equal("OK", c.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu").Text);
            c.Call("SET", "lfu:new", "hello");
            Assert.Equal(5, c.Call("OBJECT", "FREQ", "lfu:new").Integer);
            // Counter growth is probabilistic: with lfu-log-factor 10, 100 hits land around 10 (Redis gives 8..11).
            Pipeline(c, 100, "GET", "lfu:new");
            long freq = c.Call("OBJECT", "FREQ", "lfu:new").Integer;
            Assert.InRange(freq, 7, 14);
            // A log factor of 0 counts every access (up to 255).
            c.Call("CONFIG", "SET", "lfu-log-factor", "0");
            c.Call("CONFIG", "SET", "lfu-decay-time", "0"); // a minute boundary must not decay the count mid-test
            c.Call("SET", "lfu:lin", "hello");
            Pipeline(c, 100, "GET", "lfu:lin");
            Assert.Equal(105, c.Call("OBJECT", "FREQ", "lfu:lin").Integer);
            Pipeline(c, 200, "GET", "lfu:lin");
            Assert.Equal(255, c.Call("OBJECT", "FREQ", "lfu:lin").Integer);
            // OBJECT FREQ itself does not count as an access.
            Assert.Equal(255, c.Call("OBJECT", "FREQ", "lfu:lin").Integer);
            var idle = c.Call("OBJECT", "IDLETIME", "lfu:lin");
            Assert.Equal("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.", idle.Text);
        }
    }

    [Fact]
    public void Allkeys_lfu_eviction_spares_frequently_used_keys()
    {
        using var s = ServerProcess.StartBasalt();
        using var c = s.Connect();
        c.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
        for (int i = 0; i < 20; i++)
        {
            c.Call("SET", "hot:" + i, new string('h', 500));
            Pipeline(c, 300, "GET", "hot:" + i);
        }
        Assert.True(c.Call("OBJECT", "FREQ", "hot:0").Integer > 7);
        c.Call("MEMORY", "PURGE");
        long limit = EvictionTests.Info(c, "used_memory") + 2_000_000;
        c.Call("CONFIG", "SET", "maxmemory", limit.ToString(CultureInfo.InvariantCulture));
        Assert.Empty(EvictionTests.FillKeys(c, "cold:", 10_000, 500));
        Assert.True(EvictionTests.Info(c, "evicted_keys") > 1000);
        for (int i = 0; i < 20; i++) Assert.Equal(1, c.Call("EXISTS", "hot:" + i).Integer);
    }
}
