using System.Text;
using Basalt.Server.Keyspace;

namespace Basalt.Tests;

public class KeyGlobTests
{
    [Theory]
    [InlineData("*", "", false)]          // Redis quirk: the loop never runs on an empty subject
    [InlineData("*", "anything", true)]
    [InlineData("a*", "abc", true)]
    [InlineData("a*c", "abbbc", true)]
    [InlineData("a*c", "abbbd", false)]
    [InlineData("a**c", "ac", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("a[bc]d", "acd", true)]
    [InlineData("a[bc]d", "aed", false)]
    [InlineData("a[^bc]d", "aed", true)]
    [InlineData("a[^bc]d", "abd", false)]
    [InlineData("a[a-c]d", "abd", true)]
    [InlineData("a[c-a]d", "abd", true)]  // reversed ranges are swapped
    [InlineData("a[a-c]d", "add", false)]
    [InlineData("a\\*b", "a*b", true)]
    [InlineData("a\\*b", "axb", false)]
    [InlineData("a[\\]]b", "a]b", true)]
    [InlineData("a[b", "ab", true)]         // unterminated set ends the pattern
    [InlineData("a[b", "abc", false)]
    [InlineData("ab\\", "ab\\", true)]      // trailing backslash matches itself
    [InlineData("h*llo*", "hello", true)]
    [InlineData("*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    public void Glob_follows_redis_rules(string pattern, string s, bool expected)
    {
        Assert.Equal(expected, Glob.Match(Encoding.UTF8.GetBytes(pattern), Encoding.UTF8.GetBytes(s), nocase: false));
    }

    [Fact]
    public void Glob_nocase_folds_ascii_only()
    {
        Assert.True(Glob.Match("HeLLo"u8, "hello"u8, nocase: true));
        Assert.True(Glob.Match("[A-C]x"u8, "bX"u8, nocase: true));
        Assert.False(Glob.Match("HeLLo"u8, "hello"u8, nocase: false));
    }

    [Fact]
    public void Pathological_star_pattern_finishes_quickly()
    {
        var s = Encoding.ASCII.GetBytes(new string('a', 5000));
        var p = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("*a", 40)) + "b");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(Glob.Match(p, s, nocase: false));
        Assert.True(sw.ElapsedMilliseconds < 2000, $"took {sw.ElapsedMilliseconds} ms");
    }
}
