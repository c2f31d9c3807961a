using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

public class ObjectCommandTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public ObjectCommandTests(DifferentialFixture f) => _f = f;

    private void AssertSameRaw(params object[] args)
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        Assert.Equal(Encoding.UTF8.GetString(r.CallRaw(args)), Encoding.UTF8.GetString(b.CallRaw(args)));
    }

    [Theory]
    [InlineData("123")]
    [InlineData("-5")]
    [InlineData("007")]
    [InlineData("9223372036854775807")]
    [InlineData("12345678901234567890")]
    [InlineData("abc")]
    [InlineData(" 1")]
    [InlineData("")]
    public void Encoding_and_refcount_match_redis(string value)
    {
        AssertSameRaw("SET", "obj:k", value);
        AssertSameRaw("OBJECT", "ENCODING", "obj:k");
        AssertSameRaw("OBJECT", "REFCOUNT", "obj:k");
    }

    [Theory]
    [InlineData(44)]
    [InlineData(45)]
    [InlineData(200)]
    public void Embstr_and_raw_boundary_matches_redis(int length)
    {
        AssertSameRaw("SET", "obj:len", new string('a', length));
        AssertSameRaw("OBJECT", "ENCODING", "obj:len");
    }

    [Fact]
    public void Shared_small_integers_report_redis_refcount()
    {
        using var b = _f.Basalt.Connect();
        b.Call("SET", "obj:shared", "100");
        Assert.Equal(2147483647, b.Call("OBJECT", "REFCOUNT", "obj:shared").Integer);
        b.Call("SET", "obj:shared", "100000");
        Assert.Equal(1, b.Call("OBJECT", "REFCOUNT", "obj:shared").Integer);
    }

    [Fact]
    public void Freq_errors_without_lfu_policy_and_missing_keys_are_null()
    {
        AssertSameRaw("SET", "obj:f", "v");
        AssertSameRaw("OBJECT", "FREQ", "obj:f");
        foreach (var sub in new[] { "ENCODING", "FREQ", "IDLETIME", "REFCOUNT" }) AssertSameRaw("OBJECT", sub, "obj:missing");
        AssertSameRaw("OBJECT");
        AssertSameRaw("OBJECT", "nosuch", "x");
        AssertSameRaw("OBJECT", "ENCODING");
    }

    [Fact]
    public void Idletime_counts_seconds_since_last_access_and_object_does_not_touch()
    {
        using var b = _f.Basalt.Connect();
        b.Call("SET", "obj:idle", "v");
        Assert.Equal(0, b.Call("OBJECT", "IDLETIME", "obj:idle").Integer);
        Tools.WaitUntil(() => b.Call("OBJECT", "IDLETIME", "obj:idle").Integer >= 1, TimeSpan.FromSeconds(5), "idle time to grow");
        b.Call("GET", "obj:idle");
        Assert.Equal(0, b.Call("OBJECT", "IDLETIME", "obj:idle").Integer);
    }

    [Fact]
    public void Help_has_redis_layout()
    {
        using var b = _f.Basalt.Connect();
        var help = b.Call("OBJECT", "HELP");
        Assert.Equal("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", help.Items![0].Text);
        Assert.Contains(help.Items, i => i.Text!.StartsWith("ENCODING"));
        Assert.Equal("    Print this help.", help.Items[^1].Text);
    }
}
