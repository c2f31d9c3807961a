using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Set behaviour the corpus cannot pin down: random replies, hashtable order, SSCAN cursors, benchmark.</summary>
public class SetTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public SetTests(DifferentialFixture f) => _f = f;

    private static string[] Texts(RespValue v) => v.Items!.Select(i => i.Text!).ToArray();

    private static void Fill(RespConnection c, string key, IEnumerable<string> members) =>
        c.Call(new object[] { "SADD", key }.Concat(members).ToArray());

    public static TheoryData<string, string> Kinds => new()
    {
        { "ints", "intset" },
        { "strs", "hashtable" },
    };

    private static string[] MembersOf(string kind, int n) =>
        Enumerable.Range(0, n).Select(i => kind == "ints" ? (i * 3).ToString() : $"m{i}").ToArray();

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Srandmember_positive_count_gives_distinct_members(string kind, string encoding)
    {
        using var c = _f.Basalt.Connect();
        string key = $"sr:{kind}";
        var members = MembersOf(kind, 40);
        Fill(c, key, members);
        Assert.Equal(encoding, c.Call("OBJECT", "ENCODING", key).Text);
        foreach (int count in new[] { 1, 5, 13, 39, 40, 100 })
        {
            var got = Texts(c.Call("SRANDMEMBER", key, count));
            Assert.Equal(Math.Min(count, 40), got.Length);
            Assert.Equal(got.Length, got.Distinct().Count());
            Assert.All(got, m => Assert.Contains(m, members));
        }
        Assert.Contains(c.Call("SRANDMEMBER", key).Text, members);
        var repeats = Texts(c.Call("SRANDMEMBER", key, -200));
        Assert.Equal(200, repeats.Length);
        Assert.All(repeats, m => Assert.Contains(m, members));
        Assert.True(repeats.Distinct().Count() < 200);
        Assert.Equal(40, c.Call("SCARD", key).Integer);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Spop_removes_what_it_returns(string kind, string encoding)
    {
        using var c = _f.Basalt.Connect();
        string key = $"sp:{kind}";
        var members = MembersOf(kind, 30);
        Fill(c, key, members);
        Assert.Equal(encoding, c.Call("OBJECT", "ENCODING", key).Text);
        var popped = new List<string> { c.Call("SPOP", key).Text! };
        popped.AddRange(Texts(c.Call("SPOP", key, 10)));
        Assert.Equal(11, popped.Distinct().Count());
        Assert.All(popped, m => Assert.Contains(m, members));
        Assert.Equal(19, c.Call("SCARD", key).Integer);
        foreach (var m in popped) Assert.Equal(0, c.Call("SISMEMBER", key, m).Integer);
        var rest = Texts(c.Call("SPOP", key, 19));
        Assert.Equal(members.Order(), popped.Concat(rest).Order());
        Assert.Equal(0, c.Call("EXISTS", key).Integer);
    }

    [Fact]
    public void Spop_with_count_replies_a_resp3_set()
    {
        using var c = _f.Basalt.Connect();
        Fill(c, "sp:r3", ["a", "b", "c"]);
        c.Call("HELLO", "3");
        var r = c.Call("SPOP", "sp:r3", 2);
        Assert.Equal(RespType.Set, r.Type);
        Assert.Equal(2, r.Items!.Length);
        c.Call("HELLO", "2");
    }

    [Fact]
    public void Set_algebra_on_hashtables_has_the_same_content_as_redis()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        foreach (var c in new[] { b, r })
        {
            Fill(c, "sa:a", Enumerable.Range(0, 120).Select(i => $"x{i}"));
            Fill(c, "sa:b", Enumerable.Range(60, 120).Select(i => $"x{i}"));
            Fill(c, "sa:c", Enumerable.Range(0, 1000).Where(i => i % 3 == 0).Select(i => $"x{i}"));
            Fill(c, "sa:i", Enumerable.Range(0, 50).Select(i => i.ToString()));
        }
        string[][] commands =
        [
            ["SMEMBERS", "sa:a"],
            ["SINTER", "sa:a", "sa:b"],
            ["SINTER", "sa:a", "sa:b", "sa:c"],
            ["SUNION", "sa:a", "sa:b", "sa:i"],
            ["SDIFF", "sa:a", "sa:b"],
            ["SDIFF", "sa:c", "sa:a", "sa:b"],
        ];
        foreach (var cmd in commands)
        {
            var expected = Texts(r.Call(cmd)).Order().ToArray();
            var actual = Texts(b.Call(cmd)).Order().ToArray();
            Assert.True(expected.SequenceEqual(actual), string.Join(' ', cmd));
        }
        Assert.Equal(r.Call("SINTERCARD", 3, "sa:a", "sa:b", "sa:c").Integer, b.Call("SINTERCARD", 3, "sa:a", "sa:b", "sa:c").Integer);
        Assert.Equal(5, b.Call("SINTERCARD", 2, "sa:a", "sa:b", "LIMIT", 5).Integer);
    }

    [Fact]
    public void Sscan_on_a_hashtable_visits_every_member_once_across_cursors()
    {
        using var c = _f.Basalt.Connect();
        Fill(c, "ss:big", Enumerable.Range(0, 700).Select(i => $"m{i}"));
        var seen = new List<string>();
        string cursor = "0";
        int calls = 0;
        do
        {
            var reply = c.Call("SSCAN", "ss:big", cursor, "COUNT", 50);
            cursor = reply.Items![0].Text!;
            seen.AddRange(Texts(reply.Items[1]));
            calls++;
        } while (cursor != "0" && calls < 1000);
        Assert.True(calls > 1);
        Assert.Equal(700, seen.Count);
        Assert.Equal(700, seen.Distinct().Count());
        var matched = Texts(c.Call("SSCAN", "ss:big", "0", "MATCH", "m69?", "COUNT", 10000).Items![1]);
        Assert.Equal(Enumerable.Range(690, 10).Select(i => $"m{i}").Order(), matched.Order());
    }

    [Fact]
    public void Redis_benchmark_sadd_hset_spop_completes()
    {
        var run = Tools.Run("redis-benchmark", ["-p", _f.Basalt.Port.ToString(), "-t", "sadd,hset,spop", "-n", "2000", "-q"]);
        Assert.Equal(0, run.ExitCode);
        foreach (var test in new[] { "SADD", "HSET", "SPOP" })
            Assert.Matches($"{test}: [0-9.]+ requests per second", run.StdOut);
        using var c = _f.Basalt.Connect();
        Assert.Equal("hash", c.Call("TYPE", "myhash").Text);
    }
}
