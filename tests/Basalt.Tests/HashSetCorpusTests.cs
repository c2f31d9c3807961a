using System.Text;
using Basalt.Server.Config;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>
/// Runs Corpus/hashes.txt and Corpus/sets.txt against Basalt and redis-server 7.0 and compares every reply byte for
/// byte (HELLO replies carry a client id, so only their type byte is compared). Lists all mismatches.
/// </summary>
public class HashSetCorpusTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public HashSetCorpusTests(DifferentialFixture f) => _f = f;

    internal static List<string> RunCorpus(ServerProcess basalt, ServerProcess redis, string file)
    {
        var path = Path.Combine(ServerProcess.RepoRoot, "tests", "Basalt.Tests", "Corpus", file);
        using var b = basalt.Connect();
        using var r = redis.Connect();
        var mismatches = new List<string>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;
            var args = ConfigFileParser.SplitArgs(trimmed);
            Assert.True(args is not null, $"{file}:{lineNo}: unbalanced quotes");
            var argv = args!.Select(a => (object)Encoding.Latin1.GetBytes(a)).ToArray();
            var rb = b.CallRaw(argv);
            var rr = r.CallRaw(argv);
            bool same = args[0].Equals("hello", StringComparison.OrdinalIgnoreCase) ? rb[0] == rr[0] : rb.AsSpan().SequenceEqual(rr);
            if (!same)
                mismatches.Add($"{file}:{lineNo}: {Trunc(trimmed)}\n  redis:  {Show(rr)}\n  basalt: {Show(rb)}");
        }
        return mismatches;
    }

    private static string Trunc(string s) => s.Length > 120 ? s[..120] + "..." : s;

    private static string Show(byte[] raw) => Trunc(Encoding.Latin1.GetString(raw).Replace("\r\n", "\\r\\n"));

    [Fact]
    public void Hashes_corpus_replies_match_redis_byte_for_byte()
    {
        var m = RunCorpus(_f.Basalt, _f.Redis, "hashes.txt");
        Assert.True(m.Count == 0, string.Join("\n", m));
    }

    [Fact]
    public void Sets_corpus_replies_match_redis_byte_for_byte()
    {
        var m = RunCorpus(_f.Basalt, _f.Redis, "sets.txt");
        Assert.True(m.Count == 0, string.Join("\n", m));
    }
}
