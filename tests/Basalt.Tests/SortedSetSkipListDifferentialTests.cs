using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>
/// Random writes and reads on skiplist-encoded sorted sets (hundreds of members, many tied scores, moves,
/// removals by rank and score), compared reply by reply with redis-server 7.0.
/// </summary>
public class SortedSetSkipListDifferentialTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public SortedSetSkipListDifferentialTests(DifferentialFixture f) => _f = f;

    private static string Show(byte[] raw) => Encoding.Latin1.GetString(raw).Replace("\r\n", "\\r\\n");

    [Fact]
    public void Random_operations_on_big_sorted_sets_match_redis()
    {
        using var basalt = _f.Basalt.Connect();
        using var redis = _f.Redis.Connect();
        var rng = new Random(7);
        var failures = new List<string>();
        int checks = 0;
        void Check(params object[] cmd)
        {
            checks++;
            var expected = redis.CallRaw(cmd);
            var actual = basalt.CallRaw(cmd);
            if (!expected.AsSpan().SequenceEqual(actual))
                failures.Add($"{string.Join(' ', cmd)}: redis {Show(expected)} basalt {Show(actual)}");
        }
        string Member() => "m" + rng.Next(600);
        string Score() => rng.Next(20) switch
        {
            0 => "-inf",
            1 => "+inf",
            2 => (rng.NextDouble() * 100 - 50).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            _ => rng.Next(-30, 30).ToString(),
        };

        for (int round = 0; round < 3; round++)
        {
            string key = "zsl:" + round;
            string lex = "zsl:lex:" + round;
            for (int i = 0; i < 300; i++) Check("ZADD", key, rng.Next(-30, 30), Member());
            for (int i = 0; i < 200; i++) Check("ZADD", lex, 0, Member());
            Check("OBJECT", "ENCODING", key);
            for (int step = 0; step < 900; step++)
            {
                int a = rng.Next(-50, 350), b = rng.Next(-50, 350);
                switch (rng.Next(22))
                {
                    case 0: case 1: case 2: Check("ZADD", key, Score(), Member(), Score(), Member()); break;
                    case 3: Check("ZADD", key, "CH", rng.Next(2) == 0 ? "GT" : "LT", Score(), Member()); break;
                    case 4: Check("ZADD", key, rng.Next(2) == 0 ? "NX" : "XX", "CH", Score(), Member()); break;
                    case 5: Check("ZINCRBY", key, rng.Next(-5, 6), Member()); break;
                    case 6: Check("ZREM", key, Member(), Member()); break;
                    case 7: Check("ZSCORE", key, Member()); break;
                    case 8: Check("ZRANK", key, Member()); Check("ZREVRANK", key, Member()); break;
                    case 9: Check("ZRANGE", key, a, b, "WITHSCORES"); break;
                    case 10: Check("ZREVRANGE", key, a, b); break;
                    case 11: Check("ZRANGEBYSCORE", key, "(" + rng.Next(-30, 30), rng.Next(-30, 30), "WITHSCORES", "LIMIT", rng.Next(5), rng.Next(-1, 20)); break;
                    case 12: Check("ZREVRANGEBYSCORE", key, rng.Next(-30, 30), "-inf", "LIMIT", rng.Next(5), rng.Next(1, 20)); break;
                    case 13: Check("ZCOUNT", key, Score(), Score()); break;
                    case 14: Check("ZREMRANGEBYRANK", key, a % 20, a % 20 + rng.Next(3)); break;
                    case 15: Check("ZREMRANGEBYSCORE", key, "(" + rng.Next(-30, 30), "(" + rng.Next(-30, 30)); break;
                    case 16: Check(rng.Next(2) == 0 ? "ZPOPMIN" : "ZPOPMAX", key, rng.Next(1, 3)); break;
                    case 17: Check("ZMSCORE", key, Member(), Member(), Member()); break;
                    case 18: Check("ZRANGEBYLEX", lex, "[" + Member(), "(" + Member(), "LIMIT", 0, 10); Check("ZLEXCOUNT", lex, "-", "[" + Member()); break;
                    case 19: Check("ZADD", lex, 0, Member()); Check("ZREM", lex, Member()); Check("ZREMRANGEBYLEX", lex, "[" + Member(), "[" + Member()); break;
                    case 20: Check("ZRANK", lex, Member()); Check("ZRANGE", lex, a, a + 5); break;
                    default: Check("ZCARD", key); break;
                }
                if (step % 150 == 0) { Check("ZRANGE", key, 0, -1, "WITHSCORES"); Check("ZRANGE", lex, 0, -1); }
            }
            Check("ZRANGE", key, 0, -1, "WITHSCORES");
            Check("ZRANGE", lex, 0, -1);
            Check("ZUNIONSTORE", key + ":u", 2, key, lex, "WEIGHTS", 2, 1);
            Check("ZRANGE", key + ":u", 0, -1, "WITHSCORES");
        }

        // Score spellings (the integer fast path and the general parser must agree with strtod).
        string[] spellings = ["-0", "+0", "0", "+12", "-12", "007", "-007", "123456789012345", "-999999999999999", "1234567890123456",
            "99999999999999999999", "-", "+", "", "1e2", " 1", "1 ", "1.", ".5", "0x1p3", "12a", "--1", "+-1", "1_0"];
        foreach (var sp in spellings)
        {
            Check("ZADD", "zsl:spell", sp, "m");
            Check("ZINCRBY", "zsl:spell", sp, "m");
            Check("ZSCORE", "zsl:spell", "m");
            Check("ZRANGE", "zsl:spell", 0, -1, "WITHSCORES");
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.True(checks > 3000, $"only {checks} commands compared");
    }
}
