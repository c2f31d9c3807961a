using Basalt.Server;

namespace Basalt.Tests;

/// <summary>Expiry semantics checked in-process, where no background cycle can reclaim keys behind the test's back.</summary>
public class ExpiryInProcessTests
{
    [Fact]
    public void Key_with_past_ttl_is_invisible_to_every_read_but_counted_by_dbsize()
    {
        var h = new KeyInProcessHarness();
        h.Call("SET", "ex:gone", "v");
        h.Call("SET", "ex:live", "v");
        h.ExpireInPast("ex:gone");

        // DBSIZE counts the stored key until something reclaims it, as Redis does.
        Assert.Equal(2, h.Call("DBSIZE").Integer);
        var keys = h.Call("KEYS", "*").Items!.Select(i => i.Text).ToArray();
        Assert.Equal(new[] { "ex:live" }, keys);
        Assert.Equal(2, h.Call("DBSIZE").Integer); // KEYS hides without deleting
        Assert.Equal(0, h.Call("EXISTS", "ex:gone").Integer);
        Assert.Equal("none", h.Call("TYPE", "ex:gone").Text);
        Assert.Equal(-2, h.Call("TTL", "ex:gone").Integer);
        Assert.Equal(1, h.Call("DBSIZE").Integer); // the reads above reclaimed it
    }

    [Fact]
    public void Scan_and_randomkey_skip_and_reclaim_expired_keys()
    {
        var h = new KeyInProcessHarness();
        for (int i = 0; i < 20; i++) { h.Call("SET", "ex:s" + i, "v"); h.ExpireInPast("ex:s" + i); }
        h.Call("SET", "ex:keep", "v");
        var scan = h.Call("SCAN", "0", "COUNT", "1000");
        Assert.Equal("0", scan.Items![0].Text);
        Assert.Equal(new[] { "ex:keep" }, scan.Items[1].Items!.Select(i => i.Text).ToArray());
        Assert.Equal(1, h.Call("DBSIZE").Integer);

        for (int i = 0; i < 20; i++) { h.Call("SET", "ex:r" + i, "v"); h.ExpireInPast("ex:r" + i); }
        for (int n = 0; n < 10; n++) Assert.Equal("ex:keep", h.Call("RANDOMKEY").Text);
        h.ExpireInPast("ex:keep");
        Assert.True(h.Call("RANDOMKEY").IsNull);
        Assert.Equal(0, h.Call("DBSIZE").Integer);
    }

    [Fact]
    public void Expired_keys_stat_counts_lazy_and_active_expiry_but_not_expire_in_the_past()
    {
        var h = new KeyInProcessHarness();
        h.Call("SET", "ex:lazy", "v");
        h.ExpireInPast("ex:lazy");
        Assert.True(h.Call("GET", "ex:lazy").IsNull);
        Assert.Equal(1, h.Server.Stats.ExpiredKeys);

        // EXPIRE with a past time is an explicit delete in Redis, not an expiry.
        h.Call("SET", "ex:del", "v");
        Assert.Equal(1, h.Call("EXPIRE", "ex:del", "-5").Integer);
        Assert.Equal(0, h.Call("EXISTS", "ex:del").Integer);
        Assert.Equal(1, h.Server.Stats.ExpiredKeys);

        var db = h.Server.Databases[0];
        for (int i = 0; i < 500; i++) { h.Call("SET", "ex:a" + i, "v"); h.ExpireInPast("ex:a" + i); }
        for (int i = 0; i < 500; i++) h.Call("SET", "ex:p" + i, "v");
        int expired = 0;
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency;
        while (db.ExpiresCount > 0 && System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
            lock (h.Server.ExecLock) expired += db.ActiveExpireCycle(20, 10, deadline, out _);
        Assert.Equal(500, expired);
        Assert.Equal(500, db.Count);
        Assert.Equal(501, h.Server.Stats.ExpiredKeys);
    }

    [Fact]
    public void Active_cycle_leaves_future_ttls_alone_and_stops_when_few_keys_are_stale()
    {
        var h = new KeyInProcessHarness();
        var db = h.Server.Databases[0];
        for (int i = 0; i < 300; i++) h.Call("SET", "ex:f" + i, "v", "EX", "1000");
        h.Call("SET", "ex:stale", "v");
        h.ExpireInPast("ex:stale");
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency;
        int n = 0;
        lock (h.Server.ExecLock) for (int k = 0; k < 20; k++) n += db.ActiveExpireCycle(20, 10, deadline, out _);
        Assert.Equal(1, n); // the cursor walks the whole table across calls, so the one stale key is found
        Assert.Equal(300, db.Count);
    }

    [Fact]
    public void Cron_honours_active_expire_flag()
    {
        var h = new KeyInProcessHarness();
        var cron = new ServerCron(h.Server);
        for (int i = 0; i < 100; i++) { h.Call("SET", "ex:c" + i, "v"); h.ExpireInPast("ex:c" + i); }
        h.Server.Config.ActiveExpireEnabled = false; // DEBUG SET-ACTIVE-EXPIRE 0
        cron.RunOnce();
        Assert.Equal(100, h.Server.Databases[0].Count);
        h.Server.Config.ActiveExpireEnabled = true;
        cron.RunOnce();
        Assert.Equal(0, h.Server.Databases[0].Count);
        Assert.Equal(100, h.Server.Stats.ExpiredKeys);
    }

    [Fact]
    public void Swapdb_moves_ttls_with_the_keys()
    {
        var h = new KeyInProcessHarness();
        h.Call("SET", "ex:sw", "v", "EX", "1000");
        int swapped = 0;
        h.Server.DatabasesSwapped += (a, b) => swapped = a * 10 + b;
        Assert.Equal("OK", h.Call("SWAPDB", "0", "3").Text);
        Assert.Equal(3, swapped);
        Assert.Equal(0, h.Call("EXISTS", "ex:sw").Integer);
        h.Call("SELECT", "3");
        var ttl = h.Call("TTL", "ex:sw").Integer;
        Assert.InRange(ttl, 999, 1000);
        Assert.Equal(1, h.Server.Databases[3].ExpiresCount);
    }

    [Fact]
    public void Rename_and_move_carry_the_ttl()
    {
        var h = new KeyInProcessHarness();
        h.Call("SET", "ex:r1", "v", "PX", "500000");
        long at = h.Call("PEXPIRETIME", "ex:r1").Integer;
        Assert.Equal("OK", h.Call("RENAME", "ex:r1", "ex:r2").Text);
        Assert.Equal(at, h.Call("PEXPIRETIME", "ex:r2").Integer);
        Assert.Equal(1, h.Call("MOVE", "ex:r2", "5").Integer);
        h.Call("SELECT", "5");
        Assert.Equal(at, h.Call("PEXPIRETIME", "ex:r2").Integer);
        Assert.Equal(1, h.Call("COPY", "ex:r2", "ex:r3").Integer);
        Assert.Equal(at, h.Call("PEXPIRETIME", "ex:r3").Integer);
        // The copy is independent of the source (a same-length SET overwrites the stored bytes in place).
        h.Call("SET", "ex:r3", "X", "KEEPTTL");
        Assert.Equal("v", h.Call("GET", "ex:r2").Text);
    }

    [Fact]
    public void Expired_destination_is_reclaimed_by_renamenx_and_move()
    {
        var h = new KeyInProcessHarness();
        h.Call("SET", "ex:n1", "a");
        h.Call("SET", "ex:n2", "b");
        h.ExpireInPast("ex:n2");
        Assert.Equal(1, h.Call("RENAMENX", "ex:n1", "ex:n2").Integer);
        Assert.Equal("a", h.Call("GET", "ex:n2").Text);
        Assert.Equal(-1, h.Call("TTL", "ex:n2").Integer);
        Assert.Equal(1, h.Server.Stats.ExpiredKeys);
    }
}
