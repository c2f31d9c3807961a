using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>
/// Seeded random XADD/XDEL/XTRIM/XRANGE/XINFO sequences with small blocks, compared byte for byte with
/// redis-server 7.0: block boundaries (radix-tree-keys/nodes, ~ trimming) must follow Redis's.
/// </summary>
public class StreamRandomDifferentialTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public StreamRandomDifferentialTests(DifferentialFixture f) => _f = f;

    [Theory]
    [InlineData(1, "5", "4096")]
    [InlineData(2, "100", "120")]
    [InlineData(3, "7", "300")]
    public void Random_stream_operations_match_redis(int seed, string maxEntries, string maxBytes)
    {
        var rnd = new Random(seed);
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        string key = $"sr:{seed}";
        var diffs = new List<string>();
        void Both(params string[] cmd)
        {
            var args = cmd.Select(a => (object)Encoding.Latin1.GetBytes(a)).ToArray();
            string rb = CorpusRunner.Escape(b.CallRaw(args)), rr = CorpusRunner.Escape(r.CallRaw(args));
            if (rb != rr && diffs.Count < 10) diffs.Add($"{string.Join(' ', cmd)}\n  basalt: {rb}\n  redis:  {rr}");
        }
        Both("CONFIG", "SET", "stream-node-max-entries", maxEntries);
        Both("CONFIG", "SET", "stream-node-max-bytes", maxBytes);
        try
        {
            Both("DEL", key);
            ulong ms = 1;
            string[] fieldNames = ["a", "b", "name", "12", "-7"];
            for (int step = 0; step < 400; step++)
            {
                int op = rnd.Next(100);
                if (op < 55)
                {
                    ms += (ulong)rnd.Next(0, 3);
                    var cmd = new List<string> { "XADD", key };
                    if (rnd.Next(10) == 0) cmd.AddRange(["MAXLEN", rnd.Next(2) == 0 ? "~" : "=", rnd.Next(0, 40).ToString()]);
                    cmd.Add(rnd.Next(4) == 0 ? $"{ms}-*" : $"{ms}-{rnd.Next(0, 3)}");
                    int nf = rnd.Next(1, 4);
                    for (int k = 0; k < nf; k++)
                    {
                        cmd.Add(rnd.Next(3) == 0 ? fieldNames[rnd.Next(fieldNames.Length)] : fieldNames[k]);
                        cmd.Add(rnd.Next(3) == 0 ? rnd.Next(-100000, 100000).ToString() : new string('v', rnd.Next(0, 70)));
                    }
                    Both([.. cmd]);
                }
                else if (op < 70) Both("XDEL", key, $"{rnd.Next(1, (int)ms + 1)}-{rnd.Next(0, 3)}", $"{rnd.Next(1, (int)ms + 1)}-{rnd.Next(0, 3)}");
                else if (op < 78)
                {
                    if (rnd.Next(2) == 0) Both("XTRIM", key, "MAXLEN", rnd.Next(2) == 0 ? "~" : "=", rnd.Next(0, 60).ToString());
                    else Both("XTRIM", key, "MINID", rnd.Next(2) == 0 ? "~" : "=", $"{rnd.Next(1, (int)ms + 1)}", "LIMIT", rnd.Next(0, 30).ToString());
                }
                else if (op < 88) Both("XRANGE", key, $"{rnd.Next(1, (int)ms + 1)}", "+", "COUNT", rnd.Next(0, 6).ToString());
                else if (op < 93) Both("XREVRANGE", key, "+", "-", "COUNT", "3");
                else Both("XINFO", "STREAM", key);
            }
            Both("XINFO", "STREAM", key);
            Both("XRANGE", key, "-", "+");
            Both("DEBUG", "DIGEST-VALUE", key);
        }
        finally
        {
            Both("CONFIG", "SET", "stream-node-max-entries", "100");
            Both("CONFIG", "SET", "stream-node-max-bytes", "4096");
        }
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }
}
