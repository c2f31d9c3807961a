using System.Text;
using Basalt.Server.Persistence.Rdb;
using Basalt.Server.Persistence.Rdb.Encodings;
using Basalt.Tests.Support;
using static Basalt.Tests.Persistence.EncodingTestUtil;

namespace Basalt.Tests.Persistence;

/// <summary>A reference redis-server 7.0 that never LZF-compresses DUMP strings, so listpacks can be read out directly.</summary>
public sealed class UncompressedRedisFixture : IDisposable
{
    public ServerProcess Redis { get; } = ServerProcess.StartRedis("--rdbcompression", "no",
        "--hash-max-listpack-value", "100000", "--hash-max-listpack-entries", "1000");
    public void Dispose() => Redis.Dispose();
}

public class EncodingListpackTests : IClassFixture<UncompressedRedisFixture>
{
    private readonly UncompressedRedisFixture _f;
    public EncodingListpackTests(UncompressedRedisFixture f) => _f = f;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Build(params string[] items)
    {
        var b = new ListpackBuilder();
        foreach (var s in items) b.Append(B(s));
        return b.ToArray();
    }

    // Captured from redis-server 7.0.15: DUMP of small hashes and a list.
    private const string DumpH1 = "100c0c00000002008161020101ff0a0084a693e8aa17e4db";
    private const string DumpH2 = "104072720000001800826631038276310382663203dffb0282663303c0c80282663403d0000282663503cfff0282663603f2409c000482663703f2c063ff0482663803f200127a0482663903f300943577058366313004f4001a71180200000009836631310483303037048366313204822d3003ff0a003177b28f64781ba4";
    private static readonly string[] H2Items = ["f1", "v1", "f2", "-5", "f3", "200", "f4", "-4096", "f5", "4095", "f6", "40000", "f7", "-40000", "f8", "8000000", "f9", "2000000000", "f10", "9000000000", "f11", "007", "f12", "-0"];

    [Fact]
    public void Builder_matches_redis_bytes_for_a_tiny_hash()
    {
        var (type, blob) = DumpBlob(Hex(DumpH1));
        Assert.Equal(16, type);
        Assert.Equal(blob, Build("a", "1"));
    }

    [Fact]
    public void Builder_uses_every_integer_width_like_redis()
    {
        var (_, blob) = DumpBlob(Hex(DumpH2));
        Assert.Equal(Convert.ToHexString(blob), Convert.ToHexString(Build(H2Items)));
    }

    [Fact]
    public void Decode_returns_integers_as_decimal_text()
    {
        var (_, blob) = DumpBlob(Hex(DumpH2));
        var items = Listpack.Decode(blob).Select(Encoding.UTF8.GetString).ToArray();
        Assert.Equal(H2Items, items);
        var typed = Listpack.Read(blob);
        Assert.False(typed[1].IsInt);
        Assert.True(typed[3].IsInt);
        Assert.Equal(-5, typed[3].Int);
        Assert.Equal(9000000000, typed[19].Int);
    }

    [Fact]
    public void List_node_listpack_matches_redis()
    {
        // type 18 (quicklist 2): node count 1, container 2 (packed), then the listpack string.
        var (type, blob) = DumpBlob(Hex("1201021717000000060081610281620201017f01c08002dfff02ff0a00bf543b9e1fe6d5f7"), skipLengths: 2);
        Assert.Equal(18, type);
        Assert.Equal(blob, Build("a", "b", "1", "127", "128", "-1"));
    }

    [Theory]
    [InlineData("9223372036854775807", true)]
    [InlineData("-9223372036854775808", true)]
    [InlineData("9223372036854775808", false)]
    [InlineData("+1", false)]
    [InlineData(" 1", false)]
    [InlineData("-0", false)]
    [InlineData("01", false)]
    [InlineData("0", true)]
    public void Only_canonical_integers_are_stored_as_integers(string s, bool asInt)
    {
        var e = Listpack.Read(Build(s))[0];
        Assert.Equal(asInt, e.IsInt);
        Assert.Equal(s, Encoding.UTF8.GetString(e.ToBytes()));
    }

    [Theory]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(16380)]
    [InlineData(70000)]
    public void Long_strings_round_trip_with_multi_byte_back_lengths(int len)
    {
        var s = new string('x', len);
        var blob = Build("a", s, "b");
        var back = Listpack.Decode(blob);
        Assert.Equal(3, back.Count);
        Assert.Equal(len, back[1].Length);
        Assert.Equal("b", Encoding.UTF8.GetString(back[2]));
    }

    [Fact]
    public void Random_hashes_encode_byte_for_byte_like_redis()
    {
        using var c = _f.Redis.Connect();
        var rnd = new Random(1234);
        string[] special = ["-0", "007", "+5", "9223372036854775808", "-9223372036854775808", "9223372036854775807", "", " ", "1e3", "-", "0"];
        for (int round = 0; round < 12; round++)
        {
            string key = "lpenc:h" + round;
            c.Call("DEL", key);
            var items = new List<string>();
            int n = 1 + rnd.Next(12);
            for (int i = 0; i < n; i++)
            {
                items.Add("f" + i);
                items.Add(rnd.Next(6) switch
                {
                    0 => rnd.NextInt64(long.MinValue, long.MaxValue).ToString(),
                    1 => (rnd.Next(1 << 20) - (1 << 19)).ToString(),
                    2 => special[rnd.Next(special.Length)],
                    3 => new string('v', rnd.Next(0, 5000)),
                    4 => (rnd.Next(300) - 150).ToString(),
                    _ => "s" + rnd.Next(),
                });
            }
            var args = new List<object> { "HSET", key };
            args.AddRange(items);
            c.Call(args.ToArray());
            var dump = c.Call("DUMP", key).Bytes!;
            var (type, blob) = DumpBlob(dump);
            Assert.Equal(16, type);
            Assert.Equal(Convert.ToHexString(blob), Convert.ToHexString(Build(items.ToArray())));
            Assert.Equal(items, Listpack.Decode(blob).Select(Encoding.UTF8.GetString));
        }
    }

    [Fact]
    public void Header_count_saturates_at_65535()
    {
        var b = new ListpackBuilder();
        for (int i = 0; i < 70000; i++) b.Append(i % 100);
        var blob = b.ToArray();
        Assert.Equal(0xFF, blob[4]);
        Assert.Equal(0xFF, blob[5]);
        Assert.Equal(70000, Listpack.Read(blob).Count);
    }

    [Theory]
    [InlineData("0c000000020081610201")]           // no end marker
    [InlineData("0d000000020081610201ffff")]       // total bytes too large
    [InlineData("0c00000003008161020101ff")]       // count says 3
    [InlineData("0c00000002008161030101ff")]       // wrong back-length
    [InlineData("0c0000000200ff61020101ff")]       // end marker where an entry should start
    [InlineData("0c0000000200f9610201ff")]         // unknown encoding
    [InlineData("0c00000002008561020101ff")]       // string length past the entry
    public void Malformed_listpacks_throw_format_errors(string hex)
    {
        var blob = Hex(hex);
        Assert.Throws<RdbFormatException>(() => Listpack.Read(blob));
    }

    [Fact]
    public void Fuzzed_listpacks_only_ever_throw_format_errors()
    {
        var (_, blob) = DumpBlob(Hex(DumpH2));
        var big = Build("a", new string('z', 300), "-123456", "x");
        var r1 = Fuzz(blob, b => Listpack.Read(b), 3000, 7);
        var r2 = Fuzz(big, b => Listpack.Read(b), 3000, 8);
        Assert.True(r1.Rejected > 1000 && r2.Rejected > 1000, $"{r1} {r2}");
    }
}
