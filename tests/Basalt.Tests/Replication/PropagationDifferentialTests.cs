using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests.Replication;

/// <summary>A real redis-server 7.0 writing its AOF: the incr file is exactly what it propagates.</summary>
public sealed class RedisAofFixture : IDisposable
{
    public ServerProcess Redis { get; } = ServerProcess.StartRedis("--appendonly", "yes", "--appendfsync", "no");
    public string AofPath => Path.Combine(Redis.Dir, "appendonlydir", "appendonly.aof.1.incr.aof");
    public void Dispose() => Redis.Dispose();
}

/// <summary>
/// The same command corpus on real Redis (its AOF) and on Basalt in-process (a recording sink): the propagated
/// streams must match byte for byte, unix-millisecond numbers masked. "@2 " runs a line on a second client
/// that blocks.
/// </summary>
public class PropagationDifferentialTests : IClassFixture<RedisAofFixture>
{
    private readonly RedisAofFixture _fx;
    public PropagationDifferentialTests(RedisAofFixture fx) => _fx = fx;

    public static TheoryData<string> CaseNames() => new(PropagationCorpus.Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Propagated_stream_matches_redis(string name)
    {
        var lines = PropagationCorpus.Cases[name];
        var expected = RunOnRedis(lines);
        Assert.NotEmpty(expected); // a case that propagates nothing on Redis tests nothing
        var actual = RunOnBasalt(lines);
        var e = PropagationText.Mask(expected);
        var a = PropagationText.Mask(actual);
        if (!e.AsSpan().SequenceEqual(a))
        {
            var el = PropagationText.Decode(e);
            var al = PropagationText.Decode(a);
            var sb = new StringBuilder("propagated streams differ (expected = redis | actual = basalt):\n");
            for (int i = 0; i < Math.Max(el.Length, al.Length); i++)
            {
                string x = i < el.Length ? el[i] : "", y = i < al.Length ? al[i] : "";
                sb.Append(x == y ? "   " : "!! ").Append(x).Append(" | ").Append(y).Append('\n');
            }
            Assert.Fail(sb.ToString());
        }
    }

    private byte[] RunOnRedis(string[] lines)
    {
        using var c1 = _fx.Redis.Connect();
        RespConnection? c2 = null;
        try
        {
            c1.Call("SELECT", "0");
            foreach (var lazy in new[] { "expire", "user-del", "server-del", "user-flush", "eviction" })
                c1.Call("CONFIG", "SET", "lazyfree-lazy-" + lazy, "no");
            c1.Call("FLUSHALL");
            long start = new FileInfo(_fx.AofPath).Length;
            foreach (var line in lines)
            {
                if (line.StartsWith("@2 ", StringComparison.Ordinal))
                {
                    c2 ??= _fx.Redis.Connect();
                    c2.Send(PropagationText.Split(line[3..]).Cast<object>().ToArray());
                    Tools.WaitUntil(() => c1.Call("INFO", "clients").Text!.Contains("blocked_clients:1"), TimeSpan.FromSeconds(10), "client 2 blocked");
                }
                else c1.Call(PropagationText.Split(line).Cast<object>().ToArray());
            }
            // The AOF is written before replies go out, so the last reply means everything is in the file.
            using var f = new FileStream(_fx.AofPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            f.Position = start;
            var buf = new byte[f.Length - start];
            f.ReadExactly(buf);
            return buf;
        }
        finally { c2?.Dispose(); }
    }

    private static byte[] RunOnBasalt(string[] lines)
    {
        var h = new PropagationHarness();
        foreach (var line in lines)
        {
            if (line.StartsWith("@2 ", StringComparison.Ordinal)) h.Call(2, PropagationText.Split(line[3..]));
            else h.Call(1, PropagationText.Split(line));
        }
        return h.Sink.Take();
    }
}
