using System.Text;
using Basalt.Server.Persistence;
using Basalt.Server.Types;

namespace Basalt.Tests.Persistence;

/// <summary>
/// The forkless snapshot must capture exactly the dataset of its starting instant, whatever writes run while it walks.
/// A recording format renders each entry as it is serialized; the test interleaves writes between tiny slices.
/// </summary>
public class SnapshotCoordinatorTests
{
    private sealed class RecordingFormat : ISnapshotFormat
    {
        public readonly Dictionary<(int, string), string> Entries = new();
        public readonly List<string> Errors = new();
        private int _db = -1;
        public bool Began, Ended;

        public void Begin() => Began = true;
        public void SelectDb(int db, long keys, long expires) => _db = db;
        public void Entry(ReadOnlySpan<byte> key, object value, long expireAtMs, uint accessStamp)
        {
            var k = (_db, Encoding.UTF8.GetString(key));
            if (!Entries.TryAdd(k, Render(value, expireAtMs))) Errors.Add($"duplicate {k}");
        }
        public void End() => Ended = true;
        public void Flush() { }
    }

    private sealed class WaitTarget : ISnapshotTarget
    {
        public readonly TaskCompletionSource<bool> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long Bytes;
        public void Write(ReadOnlySpan<byte> chunk) => Bytes += chunk.Length;
        public void Complete(bool ok, Exception? error) => Done.TrySetResult(ok);
    }

    private static string Render(object value, long expireAtMs)
    {
        string body = value switch
        {
            byte[] b => "s:" + Encoding.UTF8.GetString(b),
            IRedisValue v => v.TypeName + ":" + ValueDigest(value),
            _ => "?",
        };
        return expireAtMs >= 0 ? body + "@" + expireAtMs : body;
    }

    private static string ValueDigest(object value)
    {
        Span<byte> d = stackalloc byte[20];
        d.Clear();
        Basalt.Server.Keyspace.Digest.AddValue(d, value, false);
        return Basalt.Server.Keyspace.Digest.ToHex(d);
    }

    private static Dictionary<(int, string), string> Current(KeyInProcessHarness h)
    {
        var all = new Dictionary<(int, string), string>();
        lock (h.Server.ExecLock)
        {
            foreach (var db in h.Server.Databases)
            {
                for (int i = 0; i < db.Keys.Capacity; i++)
                {
                    if (!db.Keys.IsUsed(i)) continue;
                    var key = db.Keys.KeyAt(i);
                    all[(db.Index, Encoding.UTF8.GetString(key))] = Render(db.Keys.ValueAt(i), db.GetExpire(key));
                }
            }
        }
        return all;
    }

    [Fact]
    public void Background_snapshot_holds_the_dataset_of_its_start_while_writes_change_everything()
    {
        var h = new KeyInProcessHarness();
        for (int i = 0; i < 3000; i++) h.Call("SET", "k" + i, "v" + i);
        for (int i = 0; i < 200; i++) h.Call("HSET", "h" + i, "f", "1", "g", "x" + i);
        for (int i = 0; i < 200; i++) h.Call("RPUSH", "l" + i, "a", "b", "c");
        for (int i = 0; i < 100; i++) h.Call("SET", "t" + i, "x", "EX", "1000");
        h.Call("SELECT", "1");
        for (int i = 0; i < 500; i++) h.Call("SET", "d1k" + i, "w" + i);
        h.Call("SELECT", "0");
        var expected = Current(h);

        var format = new RecordingFormat();
        var target = new WaitTarget();
        var snap = h.Server.Snapshot;
        snap.EntriesPerSlice = 1;
        using var gate = new SemaphoreSlim(0);
        snap.StepGate = gate;
        lock (h.Server.ExecLock) Assert.True(snap.TryStart(_ => format, target, out _));
        Assert.True(snap.Active);

        var rng = new Random(42);
        int step = 0;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!target.Done.Task.IsCompleted && DateTime.UtcNow < deadline)
        {
            int r = rng.Next(3000);
            switch (step++ % 9)
            {
                case 0: h.Call("SET", "k" + r, "changed"); break;
                case 1: h.Call("DEL", "k" + r); break;
                case 2: h.Call("APPEND", "k" + r, "+"); break;
                case 3: h.Call("HSET", "h" + r % 200, "f", "2", "new", "y"); break;
                case 4: h.Call("LPOP", "l" + r % 200); break;
                case 5: h.Call("SET", "new" + step, "fresh"); break;
                case 6: h.Call("EXPIRE", "k" + r, "50"); break;
                case 7: h.Call("RENAME", "k" + r, "renamed" + step); break;
                case 8: h.Call("PERSIST", "t" + r % 100); break;
            }
            if (step == 500) { h.Call("SELECT", "1"); h.Call("FLUSHDB"); h.Call("SET", "after-flush", "1"); h.Call("SELECT", "0"); }
            if (step == 900) h.Call("SWAPDB", "0", "2");
            if (step == 1200) h.Call("SWAPDB", "0", "2");
            gate.Release();
        }
        Assert.True(target.Done.Task.Wait(TimeSpan.FromSeconds(30)));
        Assert.True(target.Done.Task.Result);
        Assert.False(snap.Active);
        Assert.True(step > 1300, $"only {step} writes interleaved: the test did not exercise the walk");
        Assert.True(snap.EarlyEntries > 0);
        Assert.Empty(format.Errors);
        Assert.True(format.Began && format.Ended);

        var missing = expected.Where(e => !format.Entries.TryGetValue(e.Key, out var v) || v != e.Value).Select(e => $"{e.Key}: {e.Value} vs {(format.Entries.TryGetValue(e.Key, out var v) ? v : "absent")}").Take(10).ToList();
        var extra = format.Entries.Keys.Where(k => !expected.ContainsKey(k)).Take(10).ToList();
        Assert.True(missing.Count == 0, "wrong or missing: " + string.Join("; ", missing));
        Assert.True(extra.Count == 0, "extra: " + string.Join("; ", extra));
        Assert.Equal(expected.Count, format.Entries.Count);
    }

    [Fact]
    public void Blocking_snapshot_lists_every_key_once_with_its_expiry()
    {
        var h = new KeyInProcessHarness();
        for (int i = 0; i < 100; i++) h.Call("SET", "k" + i, "v" + i);
        h.Call("PEXPIREAT", "k5", "4102444800000");
        var format = new RecordingFormat();
        lock (h.Server.ExecLock) h.Server.Snapshot.RunBlocking(format);
        Assert.Equal(100, format.Entries.Count);
        Assert.Equal("s:v5@4102444800000", format.Entries[(0, "k5")]);
        Assert.Equal("s:v7", format.Entries[(0, "k7")]);
    }

    [Fact]
    public void Only_one_background_snapshot_runs_at_a_time()
    {
        var h = new KeyInProcessHarness();
        for (int i = 0; i < 500; i++) h.Call("SET", "k" + i, "v");
        var snap = h.Server.Snapshot;
        snap.EntriesPerSlice = 1;
        var t1 = new WaitTarget();
        lock (h.Server.ExecLock)
        {
            Assert.True(snap.TryStart(_ => new RecordingFormat(), t1, out _));
            Assert.False(snap.TryStart(_ => new RecordingFormat(), new WaitTarget(), out var error));
            Assert.Contains("in progress", error);
        }
        Assert.True(t1.Done.Task.Wait(TimeSpan.FromSeconds(30)));
    }
}
