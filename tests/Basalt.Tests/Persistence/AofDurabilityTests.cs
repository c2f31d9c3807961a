using System.Diagnostics;
using Basalt.Tests.Support;

namespace Basalt.Tests.Persistence;

/// <summary>
/// kill -9 at a random point while a client INCRs: after a restart the counter holds every acknowledged increment
/// (appendfsync always; the write reaches the file before the reply is sent) and never more than were sent.
/// With everysec the bound is looser: nothing acknowledged more than 2 s before the kill may be lost.
/// </summary>
public class AofDurabilityTests
{
    [Theory]
    [InlineData("always")]
    [InlineData("everysec")]
    public void Kill9_loses_no_acknowledged_increment(string policy)
    {
        using var dir = new AofDir();
        var s = dir.StartBasalt("--appendfsync", policy);
        var conn = s.Connect();
        long sent = 0, acked = 0;
        var acks = new List<(long Value, long Ms)>();
        var clock = Stopwatch.StartNew();
        var writer = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    Interlocked.Increment(ref sent);
                    var r = conn.Call("INCR", "ctr");
                    if (r.IsError) return;
                    Volatile.Write(ref acked, r.Integer);
                    lock (acks) acks.Add((r.Integer, clock.ElapsedMilliseconds));
                }
            }
            catch (Exception) { } // the server went away
        });
        writer.Start();
        Tools.WaitUntil(() => Volatile.Read(ref acked) >= 50, TimeSpan.FromSeconds(20), "some acknowledged increments");
        Thread.Sleep(Random.Shared.Next(100, 600)); // a random kill point
        long killMs = clock.ElapsedMilliseconds;
        s.Dispose(); // SIGKILL
        writer.Join(TimeSpan.FromSeconds(20));
        conn.Dispose();
        long lastAcked = Volatile.Read(ref acked);
        long totalSent = Volatile.Read(ref sent);

        var s2 = dir.StartBasalt("--appendfsync", policy);
        try
        {
            using var c = s2.Connect();
            long restored = long.Parse(c.Call("GET", "ctr").Text!);
            Assert.True(restored <= totalSent, $"restored {restored} > sent {totalSent}");
            if (policy == "always")
            {
                Assert.True(restored >= lastAcked, $"restored {restored} < acknowledged {lastAcked}");
            }
            else
            {
                long ackedTwoSecondsBefore = 0;
                lock (acks) foreach (var (v, ms) in acks) if (ms <= killMs - 2000) ackedTwoSecondsBefore = v;
                Assert.True(restored >= ackedTwoSecondsBefore, $"restored {restored} < acknowledged 2 s before the kill {ackedTwoSecondsBefore}");
            }
        }
        finally { s2.Dispose(); }
    }
}
