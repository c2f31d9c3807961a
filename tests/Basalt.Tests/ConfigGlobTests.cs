using System.Text;
using Basalt.Server.Keyspace;

namespace Basalt.Tests;

public class ConfigGlobTests
{
    private static bool M(string p, string s, bool nocase = false) => Glob.Match(Encoding.Latin1.GetBytes(p), Encoding.Latin1.GetBytes(s), nocase);

    [Theory]
    [InlineData("*", "", false)]   // Redis quirk: KEYS special-cases a lone "*", the matcher itself does not match ""
    [InlineData("*", "anything", true)]
    [InlineData("h?llo", "hello", true)]
    [InlineData("h?llo", "hllo", false)]
    [InlineData("h*llo", "heeeello", true)]
    [InlineData("h[ae]llo", "hallo", true)]
    [InlineData("h[ae]llo", "hillo", false)]
    [InlineData("h[^e]llo", "hallo", true)]
    [InlineData("h[^e]llo", "hello", false)]
    [InlineData("h[a-b]llo", "hbllo", true)]
    [InlineData("h[b-a]llo", "hallo", true)]
    [InlineData("h[a-b]llo", "hcllo", false)]
    [InlineData("h\\*llo", "h*llo", true)]
    [InlineData("h\\*llo", "hello", false)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("[abc", "a", true)]
    [InlineData("[\\]]", "]", true)]
    [InlineData("abc", "abcd", false)]
    [InlineData("abc*", "abc", true)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    public void Matches_like_redis_stringmatchlen(string pattern, string s, bool expected) => Assert.Equal(expected, M(pattern, s));

    [Fact]
    public void Nocase_folds_ascii_letters_including_ranges()
    {
        Assert.True(M("HZ*", "hz", nocase: true));
        Assert.False(M("HZ*", "hz"));
        Assert.True(M("[A-C]x", "bX", nocase: true));
    }

    [Fact]
    public void Pathological_star_pattern_finishes_quickly()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(M(string.Concat(Enumerable.Repeat("a*", 30)) + "b", new string('a', 5000)));
        Assert.True(sw.ElapsedMilliseconds < 2000);
    }
}
