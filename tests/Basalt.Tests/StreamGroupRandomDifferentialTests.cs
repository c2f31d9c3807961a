using System.Text;
using System.Text.RegularExpressions;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>
/// Seeded random consumer-group sequences (reads, acks, claims, deletes, SETID, XSETID) compared with redis-server 7.0.
/// Replies carrying idle times are compared with those numbers blanked; entries-read and lag must match exactly.
/// </summary>
public class StreamGroupRandomDifferentialTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public StreamGroupRandomDifferentialTests(DifferentialFixture f) => _f = f;

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void Random_group_operations_match_redis(int seed)
    {
        var rnd = new Random(seed);
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        string key = $"srg:{seed}";
        var diffs = new List<string>();
        // maskInts: blank every integer (XINFO FULL times); maskIdle: only the idle column of XPENDING rows.
        void Both(bool maskInts, params string[] cmd) => Run(maskInts, false, cmd);
        void Run(bool maskInts, bool maskIdle, string[] cmd)
        {
            var args = cmd.Select(a => (object)Encoding.Latin1.GetBytes(a)).ToArray();
            string rb = CorpusRunner.Escape(b.CallRaw(args)), rr = CorpusRunner.Escape(r.CallRaw(args));
            if (maskInts)
            {
                rb = Regex.Replace(rb, @":\d+\\r", ":#\\r");
                rr = Regex.Replace(rr, @":\d+\\r", ":#\\r");
            }
            if (maskIdle)
            {
                rb = Regex.Replace(rb, @"(\$\d\\r\\n[a-z]+\\r\\n):\d+\\r", "$1:#\\r");
                rr = Regex.Replace(rr, @"(\$\d\\r\\n[a-z]+\\r\\n):\d+\\r", "$1:#\\r");
            }
            if (rb != rr && diffs.Count < 10) diffs.Add($"{string.Join(' ', cmd)}\n  basalt: {rb}\n  redis:  {rr}");
        }
        Both(false, "DEL", key);
        string[] groups = ["g1", "g2"];
        string[] consumers = ["alice", "bob", "carol"];
        Both(false, "XGROUP", "CREATE", key, "g1", "0", "MKSTREAM");
        Both(false, "XGROUP", "CREATE", key, "g2", "$");
        int ms = 1;
        string G() => groups[rnd.Next(groups.Length)];
        string C() => consumers[rnd.Next(consumers.Length)];
        string Id() => $"{rnd.Next(1, ms + 1)}-{rnd.Next(0, 2)}";
        for (int step = 0; step < 300; step++)
        {
            int op = rnd.Next(100);
            if (op < 25) { ms++; Both(false, "XADD", key, $"{ms}-{rnd.Next(0, 2)}", "f", ms.ToString()); }
            else if (op < 40) Both(false, "XREADGROUP", "GROUP", G(), C(), "COUNT", rnd.Next(1, 4).ToString(), "STREAMS", key, ">");
            else if (op < 45) Both(false, "XREADGROUP", "GROUP", G(), C(), "NOACK", "COUNT", "1", "STREAMS", key, ">");
            else if (op < 52) Both(false, "XREADGROUP", "GROUP", G(), C(), "COUNT", "2", "STREAMS", key, Id());
            else if (op < 60) Both(false, "XACK", key, G(), Id(), Id());
            else if (op < 66) Both(false, "XDEL", key, Id());
            else if (op < 71) Both(false, "XCLAIM", key, G(), C(), "0", Id(), Id(), "JUSTID");
            else if (op < 75) Both(false, "XAUTOCLAIM", key, G(), C(), "0", Id(), "COUNT", rnd.Next(1, 4).ToString());
            else if (op < 78) Both(false, "XGROUP", "SETID", key, G(), Id());
            else if (op < 80) Both(false, "XGROUP", "DELCONSUMER", key, G(), C());
            else if (op < 82) Both(false, "XTRIM", key, "MAXLEN", rnd.Next(0, 10).ToString());
            else if (op < 90) Both(false, "XINFO", "GROUPS", key);
            else if (op < 94) Both(false, "XPENDING", key, G());
            else if (op < 97) Run(false, true, ["XPENDING", key, G(), "-", "+", "10"]);
            else Both(false, "XINFO", "STREAM", key);
        }
        Both(false, "XINFO", "GROUPS", key);
        Both(true, "XINFO", "STREAM", key, "FULL");
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }
}
