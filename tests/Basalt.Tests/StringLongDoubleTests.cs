using System.Text;
using Basalt.Server.Types;

namespace Basalt.Tests;

/// <summary>The long double emulation behind INCRBYFLOAT (values checked against redis-server 7.0 on x86-64).</summary>
public class StringLongDoubleTests
{
    private static string Sum(string a, string b)
    {
        Assert.True(LongDouble.TryParse(Encoding.ASCII.GetBytes(a), out var x), a);
        Assert.True(LongDouble.TryParse(Encoding.ASCII.GetBytes(b), out var y), b);
        return LongDouble.Add(x, y).ToHumanString();
    }

    [Theory]
    [InlineData("10.5", "0.1", "10.6")]
    [InlineData("0.1", "0.2", "0.3")]
    [InlineData("0", "3.0e3", "3000")]
    [InlineData("-0.1", "0.1", "0")]
    [InlineData("0", "-0.000000000000000001", "0")]
    [InlineData("0", "0x10", "16")]
    [InlineData("5", "1e17", "100000000000000005")]
    [InlineData("0", "1.23456789012345678", "1.23456789012345678")]
    public void Sums_format_like_redis(string a, string b, string expected) => Assert.Equal(expected, Sum(a, b));

    [Theory]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("nan")]
    [InlineData("1e")]
    [InlineData("0x")]
    [InlineData("1e5000")]
    [InlineData("1e-5000")]
    [InlineData("abc")]
    public void Invalid_inputs_are_refused(string text) => Assert.False(LongDouble.TryParse(Encoding.ASCII.GetBytes(text), out _));

    [Fact]
    public void Infinity_parses_but_sums_are_flagged()
    {
        Assert.True(LongDouble.TryParse("inf"u8, out var inf));
        Assert.True(LongDouble.Add(inf, LongDouble.Zero).IsInfinityOrNaN);
        Assert.True(LongDouble.TryParse("1.1e4932"u8, out var big));
        Assert.True(LongDouble.Add(big, big).IsInfinityOrNaN);
        Assert.False(LongDouble.Add(big, LongDouble.Zero).IsInfinityOrNaN);
    }
}
