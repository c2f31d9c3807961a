using System.Buffers.Binary;
using System.Text;
using Basalt.Protocol;
using Basalt.Server.Persistence.Rdb;
using Basalt.Tests.Support;

namespace Basalt.Tests.Persistence;

/// <summary>
/// DUMP/RESTORE against redis-server 7.0: payloads from Redis restore on Basalt to identical keys (type,
/// encoding, contents) and the reverse; replies and errors of RESTORE's options match.
/// </summary>
public class DumpRestoreDifferentialTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public DumpRestoreDifferentialTests(DifferentialFixture f) => _f = f;

    private static Func<object[], RespValue> Caller(RespConnection c) => a => c.Call(a);

    private static void Setup(RespConnection c, RdbTestData.Case k)
    {
        c.Call("DEL", k.Key);
        foreach (var cmd in k.Setup)
        {
            var r = c.Call(cmd);
            Assert.False(r.IsError, $"{cmd[0]} {k.Key}: {r}");
        }
    }

    private void RoundTrip(ServerProcess from, ServerProcess to, string prefix)
    {
        using var a = from.Connect();
        using var b = to.Connect();
        var failures = new List<string>();
        foreach (var k in RdbTestData.Cases(prefix))
        {
            Setup(a, k);
            var payload = a.Call("DUMP", k.Key);
            Assert.False(payload.IsNull, k.Key);
            b.Call("DEL", k.Key);
            var r = b.Call("RESTORE", k.Key, "0", payload.Bytes!);
            if (r.Text != "OK") { failures.Add($"{k.Key}: RESTORE -> {r}"); continue; }
            // The source restoring its own payload shows the encoding a load picks (e.g. embstr for an HLL
            // that PFADD made raw); the contents must equal the original's too.
            string copy = k.Key + ":copy";
            a.Call("DEL", copy);
            Assert.Equal("OK", a.Call("RESTORE", copy, "0", payload.Bytes!).Text);
            string orig = RdbTestData.Describe(Caller(a), k.Key);
            string want = RdbTestData.Describe(Caller(a), copy), got = RdbTestData.Describe(Caller(b), k.Key);
            if (want != got) failures.Add($"{k.Key}:\n  source {want}\n  target {got}");
            if (Body(orig) != Body(got)) failures.Add($"{k.Key} contents:\n  original {orig}\n  target {got}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string Body(string description) => description[(description.IndexOf(": ", StringComparison.Ordinal) + 2)..];

    [Fact]
    public void Redis_payloads_of_every_type_restore_identically_on_basalt() => RoundTrip(_f.Redis, _f.Basalt, "dr1:");

    [Fact]
    public void Basalt_payloads_of_every_type_restore_identically_on_redis() => RoundTrip(_f.Basalt, _f.Redis, "dr2:");

    [Fact]
    public void Dump_payloads_of_compact_encodings_are_byte_identical_to_redis()
    {
        using var r = _f.Redis.Connect();
        using var b = _f.Basalt.Connect();
        var diffs = new List<string>();
        foreach (var k in RdbTestData.Cases("dr3:").Where(c => c.DeterministicDump))
        {
            Setup(r, k);
            Setup(b, k);
            var pr = r.Call("DUMP", k.Key).Bytes!;
            var pb = b.Call("DUMP", k.Key).Bytes!;
            if (!pr.AsSpan().SequenceEqual(pb)) diffs.Add($"{k.Key}: redis {Convert.ToHexString(pr)} basalt {Convert.ToHexString(pb)}");
        }
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }

    [Fact]
    public void Dump_of_a_missing_key_is_nil()
    {
        using var b = _f.Basalt.Connect();
        Assert.True(b.Call("DUMP", "dr:missing").IsNull);
    }

    private static byte[] Payload(byte[] body, int version = 10, ulong? crc = null)
    {
        var p = new byte[body.Length + 10];
        body.CopyTo(p, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(body.Length), (ushort)version);
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(body.Length + 2), crc ?? Crc64.Compute(p.AsSpan(0, body.Length + 2)));
        return p;
    }

    [Fact]
    public void Restore_replies_and_errors_match_redis()
    {
        using var r = _f.Redis.Connect();
        using var b = _f.Basalt.Connect();
        var good = Payload([0, 1, (byte)'v']);
        var cases = new List<object[]>
        {
            new object[] { "RESTORE", "de:busy", "0", good },
            new object[] { "RESTORE", "de:busy", "0", good, "REPLACE" },
            new object[] { "RESTORE", "de:n1", "-1", good },
            new object[] { "RESTORE", "de:n1", "abc", good },
            new object[] { "RESTORE", "de:n1", "0", "x" },
            new object[] { "RESTORE", "de:n1", "0", Payload([0, 1, (byte)'v'], version: 11) },
            new object[] { "RESTORE", "de:n2", "0", Payload([0, 1, (byte)'v'], version: 1) },
            new object[] { "RESTORE", "de:n1", "0", Payload([0, 1, (byte)'v'], crc: 0) },
            new object[] { "RESTORE", "de:n3", "0", Payload([0, 1, (byte)'v', 9, 9, 9]) },   // trailing bytes ignored
            new object[] { "RESTORE", "de:n4", "0", Payload([0, 5, (byte)'v']) },            // string runs into the footer
            new object[] { "RESTORE", "de:n1", "0", Payload([2, 0]) },                       // empty set
            new object[] { "RESTORE", "de:n1", "0", Payload([8, 0]) },                       // unassigned type
            new object[] { "RESTORE", "de:n1", "0", Payload([22, 0]) },
            new object[] { "RESTORE", "de:n1", "0", Payload([6, 1, (byte)'v']) },            // module
            new object[] { "RESTORE", "de:n1", "0", Payload([2, 2, 1, (byte)'a', 1, (byte)'a']) }, // duplicate member
            new object[] { "RESTORE", "de:n1", "0", Payload([5, 1, 1, (byte)'a', 0, 0, 0, 0, 0, 0, 0xF8, 0x7F]) }, // NaN score
            new object[] { "RESTORE", "de:n1", "0", good, "IDLETIME", "-1" },
            new object[] { "RESTORE", "de:n1", "0", good, "IDLETIME" },
            new object[] { "RESTORE", "de:n1", "0", good, "IDLETIME", "x" },
            new object[] { "RESTORE", "de:n1", "0", good, "FREQ", "256" },
            new object[] { "RESTORE", "de:n1", "0", good, "FREQ", "-1" },
            new object[] { "RESTORE", "de:n1", "0", good, "IDLETIME", "1", "FREQ", "2" },
            new object[] { "RESTORE", "de:n1", "0", good, "FREQ", "2", "IDLETIME", "1" },
            new object[] { "RESTORE", "de:n1", "0", good, "BOGUS" },
            new object[] { "RESTORE", "de:busy", "-1", good, "IDLETIME", "-5" },
            new object[] { "RESTORE", "de:n5", "0", good, "IDLETIME", "100", "REPLACE", "ABSTTL" },
            new object[] { "RESTORE", "de:n6", "1", good, "ABSTTL" },                         // already expired: not created
            new object[] { "RESTORE", "de:busy", "1", good, "ABSTTL", "REPLACE" },            // replaced and gone
            new object[] { "RESTORE", "de:n7", "100000", good },
            new object[] { "RESTORE", "de:n8", (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 100000).ToString(), good, "ABSTTL" },
            new object[] { "RESTORE" , "de:n1", "0" },
            new object[] { "EXISTS", "de:busy", "de:n1", "de:n2", "de:n3", "de:n4", "de:n5", "de:n6", "de:n7", "de:n8" },
            new object[] { "OBJECT", "IDLETIME", "de:n5" },
            new object[] { "GET", "de:n3" },
            new object[] { "STRLEN", "de:n4" },
        };
        foreach (var c in new[] { r, b })
        {
            c.Call("DEL", "de:busy", "de:n1", "de:n2", "de:n3", "de:n4", "de:n5", "de:n6", "de:n7", "de:n8");
            c.Call("SET", "de:busy", "x");
        }
        var diffs = new List<string>();
        foreach (var cmd in cases)
        {
            string want = Encoding.Latin1.GetString(r.CallRaw(cmd)), got = Encoding.Latin1.GetString(b.CallRaw(cmd));
            if (want != got) diffs.Add($"{string.Join(' ', cmd.Select(a => a is byte[] x ? Convert.ToHexString(x) : a))}: redis {want.Trim()} basalt {got.Trim()}");
        }
        foreach (var k in new[] { "de:n7", "de:n8" })
            Assert.InRange(b.Call("PTTL", k).Integer, 90_000, 100_000);
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
    }

    [Fact]
    public void Restore_with_freq_sets_the_lfu_counter_under_an_lfu_policy()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var good = Payload([0, 1, (byte)'v']);
        foreach (var c in new[] { b, r })
        {
            c.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
            try
            {
                c.Call("DEL", "de:freq");
                Assert.Equal("OK", c.Call("RESTORE", "de:freq", "0", good, "FREQ", "77").Text);
                Assert.Equal(77, c.Call("OBJECT", "FREQ", "de:freq").Integer);
            }
            finally { c.Call("CONFIG", "SET", "maxmemory-policy", "noeviction"); }
        }
    }

    [Fact]
    public void Corrupted_payloads_give_one_of_the_two_errors_and_never_crash()
    {
        using var r = _f.Redis.Connect();
        using var b = _f.Basalt.Connect();
        var rnd = new Random(12345);
        var payloads = new List<byte[]>();
        foreach (var k in RdbTestData.Cases("fz:"))
        {
            Setup(b, k);
            var p = b.Call("DUMP", k.Key).Bytes!;
            if (p.Length < 20000) payloads.Add(p);
        }
        int ok = 0, errors = 0;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int iter = 0; iter < 2000; iter++)
        {
            var src = payloads[rnd.Next(payloads.Count)];
            byte[] p;
            if (rnd.Next(3) == 0) p = src.AsSpan(0, rnd.Next(src.Length)).ToArray(); // truncated
            else
            {
                p = (byte[])src.Clone();
                int flips = 1 + rnd.Next(3);
                int body = Math.Max(1, p.Length - 10);
                for (int f = 0; f < flips; f++) p[rnd.Next(body)] = (byte)rnd.Next(256);
            }
            // Half of them get a valid checksum again, so the value parser itself sees the damage.
            if (p.Length >= 10 && rnd.Next(2) == 0)
                BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(p.Length - 8), Crc64.Compute(p.AsSpan(0, p.Length - 8)));
            var reply = b.Call("RESTORE", "fz:target", "0", p, "REPLACE");
            if (reply.IsError)
            {
                Assert.True(reply.Text is "ERR Bad data format" or "ERR DUMP payload version or checksum are wrong", reply.Text);
                errors++;
            }
            else { Assert.Equal("OK", reply.Text); ok++; }
        }
        Assert.True(errors > 1000, $"only {errors} errors");
        Assert.Equal("PONG", b.Call("PING").Text);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"fuzz took {sw.Elapsed}");
    }
}
