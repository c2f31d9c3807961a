using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Every tests/Basalt.Tests/Corpus/*.txt file replayed against Basalt and redis-server: replies must match byte for byte.</summary>
public class CorpusTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public CorpusTests(DifferentialFixture f) => _f = f;

    public static IEnumerable<object[]> CorpusFiles() => CorpusRunner.Files().Select(f => new object[] { f });

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_file_replies_match_redis_byte_for_byte(string file)
    {
        var diffs = CorpusRunner.Run(file, _f.Basalt, _f.Redis);
        Assert.True(diffs.Count == 0, $"{diffs.Count} differing line(s):\n" + string.Join("\n", diffs));
    }

    [Fact]
    public void Corpus_folder_is_found_and_not_empty()
    {
        Assert.Contains("connection.txt", CorpusRunner.Files());
    }

    [Fact]
    public void Runner_reports_a_differing_line_with_both_replies()
    {
        // INFO server differs between any two servers (run_id, tcp_port): the runner must flag it and show both replies.
        var tmp = Path.Combine(Path.GetTempPath(), $"corpus-selftest-{Guid.NewGuid():N}.txt");
        File.WriteAllText(tmp, "# self test\nPING\nINFO server\n");
        try
        {
            var diffs = CorpusRunner.Run(tmp, _f.Basalt, _f.Redis);
            Assert.DoesNotContain(diffs, d => d.Line == 2);
            var d3 = Assert.Single(diffs, d => d.Line == 3);
            Assert.Contains("redis_version", d3.Redis);
            Assert.NotEqual(d3.Basalt, d3.Redis);
        }
        finally { File.Delete(tmp); }
    }
}
