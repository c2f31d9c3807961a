using System.Text;
using Basalt.Protocol;

namespace Basalt.Tests.Persistence;

/// <summary>
/// Keys of every type and encoding (small and large) for the RDB/DUMP tests, and a canonical description of
/// a key (type, encoding, full contents, TTL presence) to compare two servers with.
/// </summary>
internal static class RdbTestData
{
    public sealed record Case(string Key, object[][] Setup, bool DeterministicDump);

    private static object[] Cmd(params object[] a) => a;

    private static object[] Many(string cmd, string key, int n, Func<int, IEnumerable<object>> args)
    {
        var l = new List<object> { cmd, key };
        for (int i = 0; i < n; i++) l.AddRange(args(i));
        return l.ToArray();
    }

    public static IReadOnlyList<Case> Cases(string p)
    {
        var rnd = new Random(7);
        var binary = new byte[3000];
        rnd.NextBytes(binary);
        return
        [
            new($"{p}str", [Cmd("SET", $"{p}str", "hello world")], true),
            new($"{p}int", [Cmd("SET", $"{p}int", "12345")], true),
            new($"{p}negint", [Cmd("SET", $"{p}negint", "-7")], true),
            new($"{p}int64", [Cmd("SET", $"{p}int64", "123456789012345")], true),
            new($"{p}notint", [Cmd("SET", $"{p}notint", "0012")], true),
            new($"{p}empty", [Cmd("SET", $"{p}empty", "")], true),
            new($"{p}bigstr", [Cmd("SET", $"{p}bigstr", string.Concat(Enumerable.Repeat("abcdefgh", 2000)))], false),
            new($"{p}binary", [Cmd("SET", $"{p}binary", binary)], true),
            new($"{p}hll", [Cmd("PFADD", $"{p}hll", "a", "b", "c", "d")], false),
            new($"{p}list", [Cmd("RPUSH", $"{p}list", "a", "b", "1", "-3", "4294967296", "")], true),
            new($"{p}biglist", [Many("RPUSH", $"{p}biglist", 10000, i => [$"element-{i}"])], false),
            new($"{p}hash", [Cmd("HSET", $"{p}hash", "f1", "v1", "f2", "2", "f3", "-33")], true),
            new($"{p}bighash", [Many("HSET", $"{p}bighash", 1000, i => [$"field{i}", $"value{i}"])], false),
            new($"{p}longhash", [Cmd("HSET", $"{p}longhash", "f", new string('x', 100))], false),
            new($"{p}intset", [Cmd("SADD", $"{p}intset", "3", "1", "2", "-100000", "70000")], true),
            new($"{p}intset64", [Cmd("SADD", $"{p}intset64", "1", "9223372036854775807", "-9223372036854775808")], false),
            new($"{p}bigintset", [Many("SADD", $"{p}bigintset", 1000, i => [(i * 7).ToString()])], false),
            new($"{p}strset", [Cmd("SADD", $"{p}strset", "a", "b", "c", "1")], false),
            new($"{p}zset", [Cmd("ZADD", $"{p}zset", "1", "one", "2.5", "two", "-3", "three", "inf", "top", "-inf", "bottom", "1e20", "huge", "0", "zero")], true),
            new($"{p}bigzset", [Many("ZADD", $"{p}bigzset", 300, i => [(i * 0.5).ToString(System.Globalization.CultureInfo.InvariantCulture), $"m{i}"])], false),
            new($"{p}longzset", [Cmd("ZADD", $"{p}longzset", "1", new string('y', 100))], false),
            new($"{p}stream",
            [
                Cmd("XADD", $"{p}stream", "1-1", "f", "v", "g", "w"),
                Cmd("XADD", $"{p}stream", "1-2", "f", "v2", "g", "w2"),
                Cmd("XADD", $"{p}stream", "2-0", "other", "x"),
                Cmd("XADD", $"{p}stream", "3-0", "f", "v3"),
                Cmd("XDEL", $"{p}stream", "1-2"),
                Cmd("XGROUP", "CREATE", $"{p}stream", "grp", "0"),
                Cmd("XGROUP", "CREATE", $"{p}stream", "grp2", "$"),
                Cmd("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "2", "STREAMS", $"{p}stream", ">"),
                Cmd("XGROUP", "CREATECONSUMER", $"{p}stream", "grp", "bob"),
            ], false),
            new($"{p}emptystream", [Cmd("XADD", $"{p}emptystream", "5-5", "f", "v"), Cmd("XDEL", $"{p}emptystream", "5-5")], false),
            new($"{p}bigstream", [.. Enumerable.Range(1, 300).Select(i => Cmd("XADD", $"{p}bigstream", $"{i}-0", "field", $"value{i}", "n", i.ToString()))], false),
        ];
    }

    /// <summary>Type, encoding, TTL presence and the whole contents, in a form that is equal on equal keys.</summary>
    public static string Describe(Func<object[], RespValue> call, string key)
    {
        string type = call(["TYPE", key]).Text!;
        if (type == "none") return "none";
        string enc = call(["OBJECT", "ENCODING", key]).Text!;
        long pttl = call(["PTTL", key]).Integer;
        string body = type switch
        {
            "string" => Hex(call(["GET", key]).Bytes!),
            "list" => call(["LRANGE", key, "0", "-1"]).ToString(),
            "hash" => Pairs(call(["HGETALL", key]), sort: enc != "listpack"),
            "set" => string.Join(",", call(["SMEMBERS", key]).Items!.Select(i => i.Text).Order(StringComparer.Ordinal)),
            "zset" => call(["ZRANGE", key, "0", "-1", "WITHSCORES"]).ToString(),
            "stream" => call(["XRANGE", key, "-", "+"]) + " " + StreamInfo(call, key),
            _ => "?",
        };
        return $"{type}/{enc}/{(pttl > 0 ? "ttl" : pttl.ToString())}: {body}";
    }

    private static string StreamInfo(Func<object[], RespValue> call, string key)
    {
        var full = call(["XINFO", "STREAM", key, "FULL"]);
        return full.ToString();
    }

    private static string Pairs(RespValue v, bool sort)
    {
        var items = v.Items!;
        var pairs = new List<string>();
        for (int i = 0; i + 1 < items.Length; i += 2) pairs.Add(items[i].Text + "=" + items[i + 1].Text);
        if (sort) pairs.Sort(StringComparer.Ordinal);
        return string.Join(",", pairs);
    }

    private static string Hex(byte[] b) => b.Length <= 64 ? Encoding.Latin1.GetString(b) : $"{b.Length}:{Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(b))}";
}
