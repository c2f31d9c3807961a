using System.Buffers.Binary;
using System.Text;
using Basalt.Protocol;
using Basalt.Server.Persistence.Rdb;
using Basalt.Tests.Support;

namespace Basalt.Tests.Persistence;

/// <summary>
/// RESTORE of value types Redis 7.0 no longer writes but still loads (plain list/zset with text scores,
/// zipmap, ziplists, quicklist of ziplists, plain quicklist nodes), crafted here and given to both servers;
/// and loading under small encoding thresholds, where both must pick the same encodings.
/// </summary>
public class DumpRestoreLegacyTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public DumpRestoreLegacyTests(DifferentialFixture f) => _f = f;

    private static byte[] Payload(IEnumerable<byte> body)
    {
        var b = body.ToList();
        b.AddRange([10, 0]);
        var crc = Crc64.Compute(b.ToArray());
        var p = new byte[b.Count + 8];
        b.CopyTo(p);
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(b.Count), crc);
        return p;
    }

    private static byte[] Str(string s) => RdbStr(Encoding.ASCII.GetBytes(s));

    private static byte[] RdbStr(byte[] s)
    {
        var ms = new MemoryStream();
        var o = new RdbOutput(ms, false);
        o.WriteLength((ulong)s.Length);
        o.WriteRaw(s);
        o.Flush();
        return ms.ToArray();
    }

    private static byte[] Len(int n) => n < 64 ? [(byte)n] : [(byte)(0x40 | (n >> 8)), (byte)n];

    /// <summary>A ziplist of strings and integers (Redis's pre-7.0 compact encoding).</summary>
    private static byte[] Ziplist(params object[] entries)
    {
        var body = new List<byte>();
        int prev = 0, tail = 10;
        foreach (var e in entries)
        {
            var entry = new List<byte>();
            if (prev < 254) entry.Add((byte)prev);
            else { entry.Add(0xFE); entry.AddRange(BitConverter.GetBytes(prev)); }
            if (e is long v)
            {
                if (v is >= 0 and <= 12) entry.Add((byte)(0xF1 + v));
                else if (v is >= sbyte.MinValue and <= sbyte.MaxValue) { entry.Add(0xFE); entry.Add((byte)(sbyte)v); }
                else if (v is >= short.MinValue and <= short.MaxValue) { entry.Add(0xC0); entry.AddRange(BitConverter.GetBytes((short)v)); }
                else if (v is >= int.MinValue and <= int.MaxValue) { entry.Add(0xD0); entry.AddRange(BitConverter.GetBytes((int)v)); }
                else { entry.Add(0xE0); entry.AddRange(BitConverter.GetBytes(v)); }
            }
            else
            {
                var s = Encoding.ASCII.GetBytes((string)e);
                if (s.Length < 64) entry.Add((byte)s.Length);
                else { entry.Add((byte)(0x40 | (s.Length >> 8))); entry.Add((byte)s.Length); }
                entry.AddRange(s);
            }
            tail = 10 + body.Count;
            body.AddRange(entry);
            prev = entry.Count;
        }
        var zl = new byte[10 + body.Count + 1];
        BinaryPrimitives.WriteUInt32LittleEndian(zl, (uint)zl.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(zl.AsSpan(4), (uint)tail);
        BinaryPrimitives.WriteUInt16LittleEndian(zl.AsSpan(8), (ushort)entries.Length);
        body.CopyTo(zl, 10);
        zl[^1] = 0xFF;
        return zl;
    }

    private static byte[] Zipmap(params string[] kv)
    {
        var b = new List<byte> { (byte)(kv.Length / 2) };
        for (int i = 0; i < kv.Length; i += 2)
        {
            b.Add((byte)kv[i].Length); b.AddRange(Encoding.ASCII.GetBytes(kv[i]));
            b.Add((byte)kv[i + 1].Length); b.Add(0); b.AddRange(Encoding.ASCII.GetBytes(kv[i + 1]));
        }
        b.Add(0xFF);
        return b.ToArray();
    }

    private static IEnumerable<(string Name, byte[] Payload)> LegacyPayloads()
    {
        yield return ("list1", Payload([1, 3, .. Str("a"), .. Str("b"), 0xC0, 7]));
        yield return ("zset3", Payload([3, 3, .. Str("a"), 3, .. "1.5"u8, .. Str("b"), 253, .. Str("c"), 254]));   // NaN: refused
        yield return ("zset3ok", Payload([3, 3, .. Str("a"), 3, .. "1.5"u8, .. Str("b"), 255, .. Str("c"), 254]));
        yield return ("hash4", Payload([4, 2, .. Str("f"), .. Str("v"), .. Str("g"), .. Str("w")]));
        yield return ("zipmap", Payload([9, .. RdbStr(Zipmap("f1", "v1", "f2", "v2"))]));
        yield return ("zipmapdup", Payload([9, .. RdbStr(Zipmap("f1", "v1", "f1", "v2"))]));
        yield return ("zllist", Payload([10, .. RdbStr(Ziplist("a", 5L, -300L, 70000L, 5_000_000_000L, new string('q', 100)))]));
        yield return ("zlzset", Payload([12, .. RdbStr(Ziplist("c", "-inf", "a", 1L, "b", "2.5"))]));
        yield return ("zlhash", Payload([13, .. RdbStr(Ziplist("f", "v", "n", 12L))]));
        yield return ("zlhashodd", Payload([13, .. RdbStr(Ziplist("f", "v", "n"))]));
        yield return ("zlempty", Payload([10, .. RdbStr(Ziplist())]));
        yield return ("quicklist", Payload([14, 2, .. RdbStr(Ziplist("a", "b")), .. RdbStr(Ziplist(1L, 2L, 3L))]));
        yield return ("quicklist2plain", Payload([18, 2, 1, .. Str("plain"), 2, .. RdbStr(ListpackOf("x", "y"))]));
        yield return ("quicklist2bad", Payload([18, 1, 3, .. Str("plain")]));
        yield return ("setlistpack", Payload([20, .. RdbStr(ListpackOf("a", "b"))]));            // RDB 11: not in 7.0
    }

    private static byte[] ListpackOf(params string[] items)
    {
        var b = new Basalt.Server.Persistence.Rdb.Encodings.ListpackBuilder();
        foreach (var s in items) b.Append(Encoding.ASCII.GetBytes(s));
        return b.ToArray();
    }

    [Fact]
    public void Legacy_and_crafted_payloads_restore_like_redis()
    {
        using var r = _f.Redis.Connect();
        using var b = _f.Basalt.Connect();
        var diffs = new List<string>();
        foreach (var (name, payload) in LegacyPayloads())
        {
            string key = "lg:" + name;
            string want = Encoding.Latin1.GetString(r.CallRaw("RESTORE", key, "0", payload, "REPLACE")).Trim();
            string got = Encoding.Latin1.GetString(b.CallRaw("RESTORE", key, "0", payload, "REPLACE")).Trim();
            if (want != got) { diffs.Add($"{name}: RESTORE redis {want} basalt {got}"); continue; }
            string dw = RdbTestData.Describe(a => r.Call(a), key), dg = RdbTestData.Describe(a => b.Call(a), key);
            if (dw != dg) diffs.Add($"{name}:\n  redis  {dw}\n  basalt {dg}");
        }
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }

    [Fact]
    public void Unsorted_or_duplicate_intsets_are_refused_where_redis_only_checks_with_deep_sanitization()
    {
        using var b = _f.Basalt.Connect();
        foreach (byte[] blob in new byte[][] { [2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0], [2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0] })
            Assert.Equal("ERR Bad data format", b.Call("RESTORE", "lg:badintset", "0", Payload([11, .. RdbStr(blob)]), "REPLACE").Text);
        Assert.Equal(0, b.Call("EXISTS", "lg:badintset").Integer);
        Assert.Equal("OK", b.Call("RESTORE", "lg:badintset", "0", Payload([11, .. RdbStr([2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0])])).Text);
        Assert.Equal("intset", b.Call("OBJECT", "ENCODING", "lg:badintset").Text);
    }

    [Fact]
    public void Loads_under_small_thresholds_pick_the_same_encodings_as_redis()
    {
        using var r = _f.Redis.Connect();
        using var b = _f.Basalt.Connect();
        var settings = new (string Name, string Small)[]
        {
            ("hash-max-listpack-entries", "2"), ("hash-max-listpack-value", "4"),
            ("zset-max-listpack-entries", "2"), ("zset-max-listpack-value", "4"),
            ("set-max-intset-entries", "2"), ("list-max-listpack-size", "2"),
        };
        var saved = settings.Select(s => r.Call("CONFIG", "GET", s.Name).Items![1].Text!).ToArray();
        // Payloads made under the default thresholds (compact encodings), then loaded under small ones.
        var payloads = new List<(string Key, byte[] P)>();
        foreach (var k in RdbTestData.Cases("th:"))
        {
            r.Call("DEL", k.Key);
            foreach (var cmd in k.Setup) r.Call(cmd);
            payloads.Add((k.Key, r.Call("DUMP", k.Key).Bytes!));
        }
        payloads.Add(("th:hashlong", Payload([16, .. RdbStr(ListpackOf("f", "a-long-value"))])));
        payloads.Add(("th:zsetlong", Payload([17, .. RdbStr(ListpackOf("a-long-member", "1"))])));
        payloads.Add(("th:zlhashlong", Payload([13, .. RdbStr(Ziplist("f", "a-long-value"))])));
        payloads.Add(("th:zlzsetlong", Payload([12, .. RdbStr(Ziplist("a-long-member", 1L))])));
        payloads.Add(("th:zipmaplong", Payload([9, .. RdbStr(Zipmap("f", "a-long-value"))])));
        payloads.Add(("th:hash4long", Payload([4, 1, .. Str("f"), .. Str("a-long-value")])));
        payloads.Add(("th:zset2long", Payload([5, 1, .. Str("a-long-member"), 0, 0, 0, 0, 0, 0, 0xF0, 0x3F])));
        var diffs = new List<string>();
        try
        {
            foreach (var s in settings) { r.Call("CONFIG", "SET", s.Name, s.Small); b.Call("CONFIG", "SET", s.Name, s.Small); }
            foreach (var (key, p) in payloads)
            {
                string want = r.Call("RESTORE", key + ":r", "0", p, "REPLACE").ToString(), got = b.Call("RESTORE", key + ":r", "0", p, "REPLACE").ToString();
                if (want != got) { diffs.Add($"{key}: RESTORE redis {want} basalt {got}"); continue; }
                string dw = RdbTestData.Describe(a => r.Call(a), key + ":r"), dg = RdbTestData.Describe(a => b.Call(a), key + ":r");
                if (dw != dg) diffs.Add($"{key}:\n  redis  {dw}\n  basalt {dg}");
            }
        }
        finally
        {
            for (int i = 0; i < settings.Length; i++) { r.Call("CONFIG", "SET", settings[i].Name, saved[i]); b.Call("CONFIG", "SET", settings[i].Name, saved[i]); }
        }
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }
}
