using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Random ranges over random binary strings for the bit and range commands, compared with redis-server 7.0.</summary>
public class BitRandomDifferentialTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public BitRandomDifferentialTests(DifferentialFixture f) => _f = f;

    private static string Show(byte[] raw) => Encoding.Latin1.GetString(raw).Replace("\r\n", "\\r\\n");

    [Fact]
    public void Random_ranges_match_redis()
    {
        using var basalt = _f.Basalt.Connect();
        using var redis = _f.Redis.Connect();
        var rng = new Random(42);
        var failures = new List<string>();
        int checks = 0;
        void Check(params object[] cmd)
        {
            checks++;
            var expected = redis.CallRaw(cmd);
            var actual = basalt.CallRaw(cmd);
            if (!expected.AsSpan().SequenceEqual(actual))
                failures.Add($"{string.Join(' ', cmd.Select(c => c is byte[] b ? "<" + b.Length + " bytes>" : c.ToString()))}: redis {Show(expected)} basalt {Show(actual)}");
        }

        for (int round = 0; round < 6; round++)
        {
            // Mostly-0x00 or mostly-0xFF strings make BITPOS scan far; a few random bytes land in them.
            var data = new byte[rng.Next(1, 300)];
            byte fill = round % 2 == 0 ? (byte)0 : (byte)0xFF;
            Array.Fill(data, fill);
            for (int i = rng.Next(0, 6); i > 0; i--) data[rng.Next(data.Length)] = (byte)rng.Next(256);
            if (round == 5) rng.NextBytes(data);
            string key = "rb:" + round;
            Check("SET", key, data);
            long bits = data.Length * 8L;
            for (int i = 0; i < 60; i++)
            {
                long s = rng.Next(-(int)bits - 10, (int)bits + 10), e = rng.Next(-(int)bits - 10, (int)bits + 10);
                long sb = s / 8, eb = e / 8;
                Check("BITCOUNT", key, sb, eb);
                Check("BITCOUNT", key, s, e, "BIT");
                Check("BITPOS", key, i % 2, sb);
                Check("BITPOS", key, i % 2, sb, eb);
                Check("BITPOS", key, i % 2, s, e, "BIT");
                Check("GETRANGE", key, sb, eb);
                int width = rng.Next(1, 65);
                Check("BITFIELD_RO", key, "GET", (width == 64 || rng.Next(2) == 0 ? "i" : "u") + width, Math.Abs(s));
            }
        }

        var a = new byte[120];
        var b = new byte[90];
        for (int i = 0; i < a.Length; i++) a[i] = (byte)"abcd"[rng.Next(4)];
        for (int i = 0; i < b.Length; i++) b[i] = (byte)"abcd"[rng.Next(4)];
        Check("SET", "rl:a", a);
        Check("SET", "rl:b", b);
        Check("LCS", "rl:a", "rl:b");
        Check("LCS", "rl:a", "rl:b", "IDX", "WITHMATCHLEN");
        Check("LCS", "rl:a", "rl:b", "IDX", "MINMATCHLEN", "3");
        Check("BITOP", "XOR", "rl:x", "rl:a", "rl:b", "rb:5");
        Check("GET", "rl:x");

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.True(checks > 2000, $"only {checks} commands compared");
    }
}
