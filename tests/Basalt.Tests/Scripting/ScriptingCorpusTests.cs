using Basalt.Tests.Support;

namespace Basalt.Tests.Scripting;

/// <summary>The scripting corpus alone (CorpusTests runs it too), for quick runs with --filter ScriptingCorpus.</summary>
public class ScriptingCorpusTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public ScriptingCorpusTests(DifferentialFixture f) => _f = f;

    [Fact]
    public void Scripting_corpus_replies_match_redis_byte_for_byte()
    {
        var diffs = CorpusRunner.Run("scripting.txt", _f.Basalt, _f.Redis);
        Assert.True(diffs.Count == 0, $"{diffs.Count} differing line(s):\n" + string.Join("\n", diffs));
    }
}
