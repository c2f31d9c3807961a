using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>
/// Small string sets are held packed (one array) but must behave as Redis 7.0's hashtable sets: same members, counts,
/// encoding name, through the packed limits (128 members, 64-byte members) and back from an RDB reload.
/// </summary>
public class SetSmallStringTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public SetSmallStringTests(DifferentialFixture f) => _f = f;

    private static string Sorted(RespValue v) => string.Join(",", v.Items!.Select(i => i.Text!).OrderBy(x => x, StringComparer.Ordinal));

    private static void Same(RespConnection b, RespConnection r, string key)
    {
        Assert.Equal(Sorted(r.Call("SMEMBERS", key)), Sorted(b.Call("SMEMBERS", key)));
        Assert.Equal(r.Call("SCARD", key).Integer, b.Call("SCARD", key).Integer);
        Assert.Equal(r.Call("OBJECT", "ENCODING", key).Text, b.Call("OBJECT", "ENCODING", key).Text);
    }

    private static void Both(RespConnection b, RespConnection r, params object[] cmd) =>
        Assert.Equal(r.Call(cmd).ToString(), b.Call(cmd).ToString());

    [Fact]
    public void Small_string_sets_match_redis_through_the_packed_limits()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        const string k = "sss:grow";
        foreach (var c in new[] { b, r }) c.Call("DEL", k, "sss:other", "sss:dst");
        Both(b, r, "SADD", k, "1", "2", "3");
        Same(b, r, k); // intset
        Both(b, r, "SADD", k, "a", "2", "007", "b");
        Same(b, r, k); // a string member: hashtable
        Both(b, r, "SISMEMBER", k, "2");
        Both(b, r, "SISMEMBER", k, "7");
        Both(b, r, "SISMEMBER", k, "007");
        Both(b, r, "SMISMEMBER", k, "a", "zz", "3", new string('x', 70));
        Both(b, r, "SREM", k, "a", "zz", "1");
        Same(b, r, k);
        for (int i = 0; i < 130; i++)
        {
            Both(b, r, "SADD", k, $"m{i}");
            if (i is 0 or 120 or 123 or 124 or 125 or 129) Same(b, r, k);
        }
        Both(b, r, "SREM", k, "m5", "m6", "nope");
        Same(b, r, k);
        Both(b, r, "SADD", "sss:other", "x", "y", new string('L', 64));
        Same(b, r, "sss:other");
        Both(b, r, "SADD", "sss:other", new string('L', 65), "x");
        Same(b, r, "sss:other");
        Both(b, r, "SADD", "sss:dst", "p", "q");
        Both(b, r, "SMOVE", "sss:dst", "sss:other", "p");
        Both(b, r, "SMOVE", "sss:dst", "sss:other", "p");
        Same(b, r, "sss:dst");
        Same(b, r, "sss:other");
        Both(b, r, "SINTERCARD", "2", k, "sss:other");
        Both(b, r, "SUNIONSTORE", "sss:dst", "sss:dst", "sss:other");
        Same(b, r, "sss:dst");
        Both(b, r, "SREM", "sss:dst", "q", "x", "y", new string('L', 64), new string('L', 65), "p");
        Both(b, r, "EXISTS", "sss:dst");
    }

    [Fact]
    public void Packed_set_pops_scans_and_survives_a_reload()
    {
        using var b = _f.Basalt.Connect();
        const string k = "sss:pop";
        b.Call("DEL", k);
        var members = Enumerable.Range(0, 20).Select(i => $"e{i}").ToArray();
        b.Call(new object[] { "SADD", k }.Concat(members).ToArray());
        var scan = b.Call("SSCAN", k, "0", "COUNT", "5");
        Assert.Equal("0", scan.Items![0].Text);
        Assert.Equal(string.Join(",", members.Order(StringComparer.Ordinal)), Sorted(scan.Items[1]));
        var popped = b.Call("SPOP", k, "5").Items!.Select(i => i.Text!).ToList();
        popped.Add(b.Call("SPOP", k).Text!);
        Assert.Equal(6, popped.Distinct().Count());
        Assert.All(popped, m => Assert.Contains(m, members));
        Assert.Equal(14, b.Call("SCARD", k).Integer);
        Assert.All(popped, m => Assert.Equal(0, b.Call("SISMEMBER", k, m).Integer));
        var left = members.Except(popped).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(string.Join(",", left), Sorted(b.Call("SMEMBERS", k)));
        Assert.Contains(b.Call("SRANDMEMBER", k).Text, left);
        Assert.Equal("OK", b.Call("DEBUG", "RELOAD").Text);
        Assert.Equal(string.Join(",", left), Sorted(b.Call("SMEMBERS", k)));
        Assert.Equal("hashtable", b.Call("OBJECT", "ENCODING", k).Text);
        Assert.Equal(1, b.Call("SISMEMBER", k, left[3]).Integer);
    }
}
