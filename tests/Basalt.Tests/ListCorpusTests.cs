using System.Text;
using Basalt.Server.Config;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Runs Corpus/lists.txt against Basalt and redis-server 7.0 and compares every reply byte for byte.</summary>
public class ListCorpusTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public ListCorpusTests(DifferentialFixture f) => _f = f;

    [Fact]
    public void List_corpus_replies_match_redis_byte_for_byte()
    {
        var path = Path.Combine(ServerProcess.RepoRoot, "tests", "Basalt.Tests", "Corpus", "lists.txt");
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var mismatches = new List<string>();
        int n = 0;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var args = ConfigFileParser.SplitArgs(line) ?? throw new InvalidOperationException("bad corpus line: " + line);
            var cmd = args.Select(a => (object)Encoding.Latin1.GetBytes(a)).ToArray();
            var rb = b.CallRaw(cmd);
            var rr = r.CallRaw(cmd);
            n++;
            // HELLO's reply carries the connection id, which differs between the servers.
            if (args[0].Equals("hello", StringComparison.OrdinalIgnoreCase)) continue;
            if (!rb.AsSpan().SequenceEqual(rr))
                mismatches.Add($"{line}\n  basalt: {Show(rb)}\n  redis:  {Show(rr)}");
        }
        Assert.True(n > 100, "corpus too small");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    private static string Show(byte[] b) => Encoding.Latin1.GetString(b).Replace("\r\n", "\\r\\n");
}
