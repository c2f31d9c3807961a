using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>
/// Pub/Sub against real Redis 7.0: the same scenario runs on both servers with several connections each, and the
/// transcripts (raw reply bytes and the frames each subscriber received) must be identical.
/// </summary>
public class PubSubDifferentialTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public PubSubDifferentialTests(DifferentialFixture f) => _f = f;

    private static string Esc(byte[] raw) => Encoding.UTF8.GetString(raw).Replace("\r\n", "\\r\\n");

    /// <summary>
    /// Frames a connection received before the reply to a PING sent now: since PING runs after everything already
    /// published, this collects exactly the pending messages, with no timing guesses.
    /// </summary>
    internal static List<byte[]> Pending(RespConnection c)
    {
        c.Send("PING");
        var frames = new List<byte[]>();
        while (true)
        {
            var raw = c.ReadRaw();
            string s = Encoding.UTF8.GetString(raw);
            if (s is "+PONG\r\n" or "*2\r\n$4\r\npong\r\n$0\r\n\r\n") return frames;
            frames.Add(raw);
        }
    }

    /// <summary>A scenario step log: "name cmd... -> reply" lines and "name got frame" lines.</summary>
    private sealed class Transcript(ServerProcess server) : IDisposable
    {
        private readonly Dictionary<string, RespConnection> _conns = new();
        public readonly List<string> Lines = new();

        public RespConnection Conn(string name)
        {
            if (!_conns.TryGetValue(name, out var c)) _conns[name] = c = server.Connect();
            return c;
        }

        /// <summary>Sends a command and logs every frame up to the expected number of replies.</summary>
        public void Do(string who, int frames, params object[] cmd)
        {
            var c = Conn(who);
            c.Send(cmd);
            var sb = new StringBuilder();
            for (int i = 0; i < frames; i++) sb.Append(Esc(c.ReadRaw()));
            Lines.Add($"{who} {string.Join(' ', cmd)} -> {sb}");
        }

        /// <summary>Sends a command whose reply differs between servers (HELLO shows the client id) without logging it.</summary>
        public void Quiet(string who, params object[] cmd) => Conn(who).Call(cmd);

        /// <summary>Logs the messages waiting on a connection.</summary>
        public void Got(string who)
        {
            foreach (var f in Pending(Conn(who))) Lines.Add($"{who} got {Esc(f)}");
            Lines.Add($"{who} (end)");
        }

        public void Dispose()
        {
            foreach (var c in _conns.Values) c.Dispose();
        }
    }

    private static void AssertSame(Action<Transcript> scenario, ServerProcess basalt, ServerProcess redis, Action<List<string>>? check = null)
    {
        List<string> b, r;
        using (var t = new Transcript(basalt)) { scenario(t); b = t.Lines; }
        using (var t = new Transcript(redis)) { scenario(t); r = t.Lines; }
        var diffs = new List<string>();
        for (int i = 0; i < Math.Max(b.Count, r.Count); i++)
        {
            string bl = i < b.Count ? b[i] : "<none>", rl = i < r.Count ? r[i] : "<none>";
            if (bl != rl) diffs.Add($"#{i}\n  redis : {rl}\n  basalt: {bl}");
        }
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
        check?.Invoke(b);
    }

    [Fact]
    public void Subscribe_unsubscribe_replies_and_counts_match_redis()
    {
        AssertSame(t =>
        {
            t.Do("a", 2, "SUBSCRIBE", "d1:c1", "d1:c2");
            t.Do("a", 3, "PSUBSCRIBE", "d1:p*", "d1:p*", "d1:q?");
            t.Do("a", 1, "SUBSCRIBE", "d1:c1");
            t.Do("a", 2, "SSUBSCRIBE", "d1:s1", "d1:s2");
            t.Do("a", 2, "UNSUBSCRIBE", "d1:c1", "d1:never");
            t.Do("a", 1, "PUNSUBSCRIBE", "d1:q?");
            t.Do("a", 1, "SUNSUBSCRIBE", "d1:s1");
            t.Do("a", 1, "UNSUBSCRIBE");          // one channel left
            t.Do("a", 1, "UNSUBSCRIBE");          // none: nil channel, count still has the pattern
            t.Do("a", 1, "PUNSUBSCRIBE");
            t.Do("a", 1, "PUNSUBSCRIBE");
            t.Do("a", 1, "GET", "d1:k");          // still subscribed: the shard channel
            t.Do("a", 1, "SUNSUBSCRIBE");
            t.Do("a", 1, "SUNSUBSCRIBE");
            t.Do("a", 1, "GET", "d1:k");          // subscribed mode is over
            t.Do("a", 1, "SUBSCRIBE");
            t.Do("a", 1, "PSUBSCRIBE");
            t.Do("a", 1, "SSUBSCRIBE");
        }, _f.Basalt, _f.Redis, lines =>
        {
            Assert.Equal("a SUBSCRIBE d1:c1 d1:c2 -> *3\\r\\n$9\\r\\nsubscribe\\r\\n$5\\r\\nd1:c1\\r\\n:1\\r\\n*3\\r\\n$9\\r\\nsubscribe\\r\\n$5\\r\\nd1:c2\\r\\n:2\\r\\n", lines[0]);
            Assert.Equal("a UNSUBSCRIBE -> *3\\r\\n$11\\r\\nunsubscribe\\r\\n$-1\\r\\n:1\\r\\n", lines[8]);
        });
    }

    [Fact]
    public void Subscribed_mode_allows_only_subscription_commands_in_resp2()
    {
        AssertSame(t =>
        {
            t.Do("a", 1, "SUBSCRIBE", "d2:c");
            t.Do("a", 1, "GET", "d2:k");
            t.Do("a", 1, "CONFIG", "GET", "maxmemory");
            t.Do("a", 1, "PUBLISH", "d2:c", "x");
            t.Do("a", 1, "PUBSUB", "NUMPAT");
            t.Do("a", 1, "PUBSUB", "CHANNELS", "a", "b");
            t.Do("a", 1, "GET");                  // arity is checked first
            t.Do("a", 1, "NOSUCH", "x");          // unknown command first
            t.Do("a", 1, "PING");
            t.Do("a", 1, "PING", "hello");
            t.Do("a", 1, "RESET");
            t.Do("a", 1, "GET", "d2:k");
            t.Do("a", 1, "SUBSCRIBE", "d2:c");
            t.Do("a", 1, "QUIT");
        }, _f.Basalt, _f.Redis, lines =>
            Assert.Contains("Can't execute 'config|get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", lines[2]));
    }

    [Fact]
    public void Resp3_subscriptions_and_messages_are_push_frames()
    {
        AssertSame(t =>
        {
            t.Quiet("a", "HELLO", "3");
            t.Do("a", 1, "UNSUBSCRIBE");
            t.Do("a", 1, "PUNSUBSCRIBE");
            t.Do("a", 1, "SUNSUBSCRIBE");
            t.Do("a", 1, "SUBSCRIBE", "d3:c");
            t.Do("a", 1, "PSUBSCRIBE", "d3:*");
            t.Do("a", 1, "SSUBSCRIBE", "d3:s");
            t.Do("a", 1, "GET", "d3:k");          // allowed in RESP3
            t.Do("a", 1, "PING");
            t.Do("a", 3, "PUBLISH", "d3:c", "self"); // own messages come before the reply
            t.Do("p", 1, "PUBLISH", "d3:c", "m1");
            t.Do("p", 1, "SPUBLISH", "d3:s", "m2");
            t.Got("a");
            t.Do("a", 1, "PUBSUB", "NUMSUB", "d3:c", "d3:none");
            t.Do("a", 1, "PUBSUB", "SHARDNUMSUB", "d3:s");
            t.Do("a", 2, "UNSUBSCRIBE", "d3:c", "d3:zz");
            t.Do("a", 1, "PUNSUBSCRIBE");
            t.Do("a", 1, "SUNSUBSCRIBE", "d3:s");
        }, _f.Basalt, _f.Redis, lines =>
        {
            Assert.Equal("a UNSUBSCRIBE -> >3\\r\\n$11\\r\\nunsubscribe\\r\\n_\\r\\n:0\\r\\n", lines[0]);
            Assert.Contains("a got >3\\r\\n$7\\r\\nmessage\\r\\n$4\\r\\nd3:c\\r\\n$2\\r\\nm1\\r\\n", lines);
        });
    }

    [Fact]
    public void Publish_counts_and_delivers_to_channel_and_pattern_subscribers_like_redis()
    {
        AssertSame(t =>
        {
            t.Do("a", 2, "SUBSCRIBE", "d4:ch", "d4:ch2");
            // One matching pattern per client: Redis tries patterns in hash-table order.
            t.Do("b", 2, "PSUBSCRIBE", "d4:c*", "d4:c*");
            t.Do("b", 1, "SUBSCRIBE", "d4:ch");
            t.Do("b2", 1, "PSUBSCRIBE", "d4:ch");
            t.Do("c", 1, "SSUBSCRIBE", "d4:sh");
            t.Do("p", 1, "PUBLISH", "d4:ch", "hello");
            t.Do("p", 1, "PUBLISH", "d4:cx", "m");
            t.Do("p", 1, "PUBLISH", "d4:none", "m");
            t.Do("p", 1, "PUBLISH", "d4:sh", "not-shard");
            t.Do("p", 1, "SPUBLISH", "d4:sh", "x");
            t.Do("p", 1, "SPUBLISH", "d4:ch", "x");
            t.Do("p", 1, "PUBLISH", "d4:ch", "");
            t.Do("p", 1, "PUBLISH", "d4:ch", "bin\r\n\0");
            t.Got("a");
            t.Got("b");
            t.Got("b2");
            t.Got("c");
        }, _f.Basalt, _f.Redis, lines => Assert.Equal("p PUBLISH d4:ch hello -> :4\\r\\n", lines[5]));
    }

    [Fact]
    public void Pubsub_introspection_matches_redis()
    {
        AssertSame(t =>
        {
            t.Do("a", 2, "SUBSCRIBE", "d5:ch", "d5:ch2");
            t.Do("b", 2, "PSUBSCRIBE", "d5:x*", "d5:y*");
            t.Do("b", 1, "SUBSCRIBE", "d5:ch");
            t.Do("c", 1, "SSUBSCRIBE", "d5:sh");
            t.Do("p", 1, "PUBSUB", "CHANNELS", "d5:ch?");
            t.Do("p", 1, "PUBSUB", "CHANNELS", "d5:nomatch*");
            t.Do("p", 1, "PUBSUB", "NUMSUB");
            t.Do("p", 1, "PUBSUB", "NUMSUB", "d5:ch", "d5:none", "d5:ch", "d5:x*");
            t.Do("p", 1, "PUBSUB", "SHARDCHANNELS", "d5:*");
            t.Do("p", 1, "PUBSUB", "SHARDNUMSUB", "d5:sh", "d5:ch");
            t.Do("p", 1, "PUBSUB", "SHARDNUMSUB");
            t.Do("p", 1, "PUBSUB", "HELP");
            t.Do("p", 1, "PUBSUB", "help", "x");
            t.Do("p", 1, "PUBSUB", "NOPE");
            t.Do("p", 1, "PUBSUB");
            t.Do("p", 1, "PUBSUB", "NUMPAT", "x");
            t.Do("p", 1, "PUBSUB", "Channels", "a", "b");
            t.Do("p", 1, "PUBSUB", "SHARDCHANNELS", "a", "b");
            t.Do("p", 1, "SUBSCRIBE");
            t.Do("p", 1, "PUBLISH", "x");
            t.Do("p", 1, "SPUBLISH", "x", "y", "z");
            t.Quiet("p", "HELLO", "3");
            t.Do("p", 1, "PUBSUB", "NUMSUB", "d5:ch");
            t.Do("p", 1, "PUBSUB", "CHANNELS", "d5:ch2");
        }, _f.Basalt, _f.Redis);
    }

    [Fact]
    public void Numpat_counts_distinct_patterns()
    {
        // Other tests may hold patterns; compare the change instead of the absolute number.
        foreach (var s in new[] { _f.Basalt, _f.Redis })
        {
            using var p = s.Connect();
            long before = p.Call("PUBSUB", "NUMPAT").Integer;
            using var a = s.Connect();
            using var b = s.Connect();
            a.Send("PSUBSCRIBE", "d6:*", "d6:?"); a.Read(); a.Read();
            b.Send("PSUBSCRIBE", "d6:*"); b.Read();
            Assert.Equal(before + 2, p.Call("PUBSUB", "NUMPAT").Integer);
            Assert.Equal(before + 2, InfoField(p, "pubsub_patterns"));
        }
    }

    internal static long InfoField(RespConnection c, string field)
    {
        foreach (var line in c.Call("INFO", "stats").Text!.Split("\r\n"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal)) return long.Parse(line[(field.Length + 1)..]);
        throw new InvalidOperationException(field + " missing from INFO");
    }

    [Fact]
    public void Unsubscribe_all_reports_every_channel_with_decreasing_counts()
    {
        // Redis walks a hash table here, so only the set of names and the count sequence are comparable.
        foreach (var s in new[] { _f.Basalt, _f.Redis })
        {
            using var a = s.Connect();
            a.Send("SUBSCRIBE", "d7:a", "d7:b", "d7:c");
            for (int i = 0; i < 3; i++) a.Read();
            a.Send("PSUBSCRIBE", "d7:*"); a.Read();
            a.Send("UNSUBSCRIBE");
            var names = new List<string>();
            var counts = new List<long>();
            for (int i = 0; i < 3; i++)
            {
                var v = a.Read();
                Assert.Equal("unsubscribe", v.Items![0].Text);
                names.Add(v.Items[1].Text!);
                counts.Add(v.Items[2].Integer);
            }
            names.Sort(StringComparer.Ordinal);
            Assert.Equal(["d7:a", "d7:b", "d7:c"], names);
            Assert.Equal([3L, 2L, 1L], counts);
        }
    }

    [Fact]
    public void Pattern_matching_follows_redis_glob_rules()
    {
        string[] patterns = ["d8:h?llo", "d8:h*llo", "d8:h[ae]llo", "d8:h[^e]llo", "d8:h[a-b]llo", "d8:h[b-a]llo", @"d8:h\*llo", "D8:*", "d8:[", "d8:*[0-9]"];
        string[] channels = ["d8:hello", "d8:hallo", "d8:hbllo", "d8:hllo", "d8:heeeello", "d8:h*llo", "D8:HELLO", "d8:[", "d8:x7", "d8:x"];
        AssertSame(t =>
        {
            t.Do("s", patterns.Length, ["PSUBSCRIBE", .. patterns]);
            foreach (var ch in channels) t.Do("p", 1, "PUBLISH", ch, "m");
            // Which pattern matched which channel; the order across patterns is Redis's hash order, so sort.
            var got = Pending(t.Conn("s")).Select(Esc).Order(StringComparer.Ordinal).ToList();
            t.Lines.AddRange(got);
        }, _f.Basalt, _f.Redis, lines => Assert.Equal("p PUBLISH d8:hello m -> :3\\r\\n", lines[1]));
    }
}
