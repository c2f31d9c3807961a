using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>
/// Client-side caching, run as the same script on Basalt and on redis-server 7.0 and compared byte for byte.
/// Pushes are collected by sending PING after a change: anything pending arrives before the PONG.
/// </summary>
public class TrackingTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public TrackingTests(DifferentialFixture f) => _f = f;

    private static string S(byte[] raw) => Encoding.UTF8.GetString(raw);

    /// <summary>Sends PING and returns everything received up to and including its reply.</summary>
    private static string Drain(RespConnection c)
    {
        c.Send("PING");
        var sb = new StringBuilder();
        while (true)
        {
            string frame = S(c.ReadRaw());
            sb.Append(frame);
            if (frame == "+PONG\r\n" || frame == "*2\r\n$4\r\npong\r\n$0\r\n\r\n") return sb.ToString();
        }
    }

    private static RespConnection Resp3(ServerProcess s)
    {
        var c = s.Connect();
        c.Call("HELLO", "3");
        return c;
    }

    /// <summary>Runs a script on both servers and compares the transcripts.</summary>
    private void Both(Func<ServerProcess, List<string>> script)
    {
        var expected = script(_f.Redis);
        var actual = script(_f.Basalt);
        Assert.Equal(string.Join("\n", expected), string.Join("\n", actual));
    }

    [Fact]
    public void Default_mode_pushes_invalidation_once_before_the_next_reply()
    {
        Both(s =>
        {
            using var a = Resp3(s);
            using var b = s.Connect();
            var t = new List<string>
            {
                S(a.CallRaw("CLIENT", "TRACKING", "on")),
                S(a.CallRaw("GET", "tr1:k")),
                S(a.CallRaw("MGET", "tr1:m1", "tr1:m2")),
                S(b.CallRaw("SET", "tr1:k", "1")),
                Drain(a),
                // The key was forgotten after its invalidation: a second change sends nothing.
                S(b.CallRaw("SET", "tr1:k", "2")),
                Drain(a),
                S(b.CallRaw("DEL", "tr1:m2")),
                S(b.CallRaw("MSET", "tr1:m1", "x", "tr1:m2", "y")),
                Drain(a),
                // Keys are tracked across databases by name.
                S(a.CallRaw("GET", "tr1:k")),
                S(b.CallRaw("SELECT", "1")),
                S(b.CallRaw("SET", "tr1:k", "3")),
                Drain(a),
            };
            return t;
        });
    }

    [Fact]
    public void Own_write_gets_its_reply_before_its_invalidation_unless_noloop()
    {
        Both(s =>
        {
            using var a = Resp3(s);
            var t = new List<string>
            {
                S(a.CallRaw("CLIENT", "TRACKING", "on")),
                S(a.CallRaw("GET", "tr2:k")),
                S(a.CallRaw("SET", "tr2:k", "1")),
                Drain(a),
                S(a.CallRaw("CLIENT", "TRACKING", "on", "NOLOOP")),
                S(a.CallRaw("GET", "tr2:k")),
                S(a.CallRaw("SET", "tr2:k", "2")),
                Drain(a),
                S(a.CallRaw("CLIENT", "TRACKINGINFO")),
                // Inside EXEC the own invalidation follows the whole EXEC reply.
                S(a.CallRaw("CLIENT", "TRACKING", "off")),
                S(a.CallRaw("CLIENT", "TRACKING", "on")),
                S(a.CallRaw("GET", "tr2:x1")),
                S(a.CallRaw("MULTI")),
                S(a.CallRaw("SET", "tr2:x1", "1")),
                S(a.CallRaw("GET", "tr2:x2")),
                S(a.CallRaw("EXEC")),
                Drain(a),
            };
            return t;
        });
    }

    [Fact]
    public void Redirect_to_resp2_subscriber_sends_pubsub_message_and_resp3_redirect_gets_push()
    {
        Both(s =>
        {
            using var a = Resp3(s);
            using var r = s.Connect();
            using var p = Resp3(s);
            using var w = s.Connect();
            long rid = r.Call("CLIENT", "ID").Integer;
            long pid = p.Call("CLIENT", "ID").Integer;
            var t = new List<string>
            {
                S(r.CallRaw("SUBSCRIBE", "__redis__:invalidate")),
                S(a.CallRaw("CLIENT", "TRACKING", "on", "REDIRECT", rid.ToString())),
                (a.Call("CLIENT", "GETREDIR").Integer == rid).ToString(),
                S(a.CallRaw("GET", "tr3:k")),
                S(w.CallRaw("SET", "tr3:k", "1")),
                Drain(r),
                Drain(a),
                S(a.CallRaw("CLIENT", "TRACKING", "off")),
                S(a.CallRaw("CLIENT", "TRACKING", "on", "REDIRECT", pid.ToString())),
                S(a.CallRaw("GET", "tr3:k")),
                S(w.CallRaw("SET", "tr3:k", "2")),
                Drain(p),
                Drain(a),
            };
            return t;
        });
    }

    [Fact]
    public void Resp2_client_without_redirect_receives_nothing()
    {
        Both(s =>
        {
            using var a = s.Connect();
            using var w = s.Connect();
            return
            [
                S(a.CallRaw("CLIENT", "TRACKING", "on")),
                S(a.CallRaw("GET", "tr4:k")),
                S(w.CallRaw("SET", "tr4:k", "1")),
                Drain(a),
            ];
        });
    }

    [Fact]
    public void Broken_redirect_is_reported_once_with_a_push_and_flag()
    {
        Both(s =>
        {
            using var a = Resp3(s);
            using var w = s.Connect();
            var r = s.Connect();
            long rid = r.Call("CLIENT", "ID").Integer;
            var t = new List<string> { S(a.CallRaw("CLIENT", "TRACKING", "on", "REDIRECT", rid.ToString())) };
            r.Dispose();
            Tools.WaitUntil(() => !a.Call("CLIENT", "LIST").Text!.Contains($"id={rid} "), TimeSpan.FromSeconds(5), "redirect client gone");
            t.Add(S(a.CallRaw("GET", "tr5:k")));
            t.Add(S(w.CallRaw("SET", "tr5:k", "1")));
            t.Add(Drain(a).Replace($":{rid}\r\n", ":RID\r\n"));
            t.Add(S(a.CallRaw("CLIENT", "TRACKINGINFO")).Replace($":{rid}\r\n", ":RID\r\n"));
            var line = a.Call("CLIENT", "INFO").Text!;
            t.Add(line.Split(' ').First(f => f.StartsWith("flags=")));
            return t;
        });
    }

    [Fact]
    public void Bcast_sends_sorted_batches_per_prefix_after_the_command_and_honours_noloop()
    {
        Both(s =>
        {
            using var a = Resp3(s);
            using var b = s.Connect();
            return
            [
                S(a.CallRaw("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "tr6:p:", "PREFIX", "tr6:q:", "NOLOOP")),
                S(a.CallRaw("CLIENT", "TRACKINGINFO")),
                a.Call("CLIENT", "INFO").Text!.Split(' ').First(f => f.StartsWith("flags=")),
                S(b.CallRaw("MSET", "tr6:p:2", "1", "tr6:p:1", "1", "tr6:q:1", "1", "tr6:z", "1")),
                Drain(a),
                S(a.CallRaw("SET", "tr6:p:3", "1")),
                Drain(a),
                S(b.CallRaw("MULTI")),
                S(b.CallRaw("SET", "tr6:p:9", "1")),
                S(b.CallRaw("SET", "tr6:p:8", "1")),
                S(b.CallRaw("EXEC")),
                Drain(a),
                // Prefixes accumulate over repeated ON calls.
                S(a.CallRaw("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "tr6:r:")),
                S(a.CallRaw("CLIENT", "TRACKINGINFO")),
            ];
        });
    }

    [Fact]
    public void Optin_tracks_only_after_caching_yes_and_optout_skips_after_caching_no()
    {
        Both(s =>
        {
            using var a = Resp3(s);
            using var b = s.Connect();
            return
            [
                S(a.CallRaw("CLIENT", "TRACKING", "on", "OPTIN")),
                S(a.CallRaw("GET", "tr7:o1")),
                S(a.CallRaw("CLIENT", "CACHING", "yes")),
                S(a.CallRaw("CLIENT", "TRACKINGINFO")),
                S(a.CallRaw("GET", "tr7:o2")),
                S(a.CallRaw("GET", "tr7:o3")),
                S(a.CallRaw("CLIENT", "TRACKINGINFO")),
                S(b.CallRaw("MSET", "tr7:o1", "1", "tr7:o2", "1", "tr7:o3", "1")),
                Drain(a),
                // A rejected command ends the CACHING window; inside MULTI it lasts until EXEC.
                S(a.CallRaw("CLIENT", "CACHING", "yes")),
                S(a.CallRaw("GET")),
                S(a.CallRaw("GET", "tr7:o4")),
                S(a.CallRaw("CLIENT", "CACHING", "yes")),
                S(a.CallRaw("MULTI")),
                S(a.CallRaw("GET", "tr7:o5")),
                S(a.CallRaw("GET", "tr7:o6")),
                S(a.CallRaw("EXEC")),
                S(b.CallRaw("MSET", "tr7:o4", "1", "tr7:o5", "1", "tr7:o6", "1")),
                Drain(a),
                S(a.CallRaw("CLIENT", "TRACKING", "off")),
                S(a.CallRaw("CLIENT", "TRACKING", "on", "OPTOUT")),
                S(a.CallRaw("CLIENT", "CACHING", "no")),
                S(a.CallRaw("CLIENT", "TRACKINGINFO")),
                S(a.CallRaw("GET", "tr7:o1")),
                S(a.CallRaw("MGET", "tr7:o2", "tr7:o3")),
                S(b.CallRaw("MSET", "tr7:o1", "2", "tr7:o2", "2", "tr7:o3", "2")),
                Drain(a),
            ];
        });
    }

    [Fact]
    public void Flushall_and_flushdb_send_a_null_invalidation_to_every_tracking_client()
    {
        Both(s =>
        {
            using var a = Resp3(s);
            using var c = Resp3(s);
            using var r = s.Connect();
            using var w = s.Connect();
            long rid = r.Call("CLIENT", "ID").Integer;
            return
            [
                S(r.CallRaw("SUBSCRIBE", "__redis__:invalidate")),
                S(a.CallRaw("CLIENT", "TRACKING", "on", "NOLOOP")),
                S(c.CallRaw("CLIENT", "TRACKING", "on", "REDIRECT", rid.ToString())),
                S(a.CallRaw("FLUSHALL")),
                Drain(a),
                Drain(r),
                S(w.CallRaw("SELECT", "2")),
                S(w.CallRaw("FLUSHDB")),
                Drain(a),
                Drain(r),
            ];
        });
    }

    [Fact]
    public void Errors_match_redis()
    {
        Both(s =>
        {
            using var a = Resp3(s);
            object[][] cmds =
            [
                ["CLIENT", "CACHING", "yes"],
                ["CLIENT", "TRACKING", "maybe"],
                ["CLIENT", "TRACKING", "on", "foo"],
                ["CLIENT", "TRACKING", "on", "PREFIX"],
                ["CLIENT", "TRACKING", "on", "PREFIX", "x"],
                ["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
                ["CLIENT", "TRACKING", "on", "BCAST", "OPTIN", "OPTOUT"],
                ["CLIENT", "TRACKING", "on", "REDIRECT", "99999"],
                ["CLIENT", "TRACKING", "on", "REDIRECT", "x"],
                ["CLIENT", "TRACKING", "off", "REDIRECT", "99999"],
                ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"],
                ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab"],
                ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "abc"],
                ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x", "PREFIX", "a"],
                ["CLIENT", "TRACKING", "on", "OPTIN"],
                ["CLIENT", "TRACKING", "off"],
                ["CLIENT", "TRACKING", "on", "OPTIN"],
                ["CLIENT", "CACHING", "no"],
                ["CLIENT", "CACHING", "maybe"],
                ["CLIENT", "TRACKING", "on", "OPTOUT"],
                ["CLIENT", "TRACKING", "on", "BCAST"],
                ["CLIENT", "CACHING"],
                ["CLIENT", "CACHING", "yes", "x"],
                ["CLIENT", "TRACKING"],
                ["CLIENT", "TRACKING", "off"],
                ["CLIENT", "TRACKING", "on", "BCAST"],
                ["CLIENT", "TRACKINGINFO"],
                ["CLIENT", "GETREDIR"],
                ["CLIENT", "TRACKING", "off"],
                ["CLIENT", "TRACKINGINFO"],
                ["CLIENT", "GETREDIR"],
            ];
            var t = cmds.Select(c => S(a.CallRaw(c))).ToList();
            // Two REDIRECT options naming existing clients.
            using var other = s.Connect();
            string id = other.Call("CLIENT", "ID").Integer.ToString();
            t.Add(S(a.CallRaw("CLIENT", "TRACKING", "on", "REDIRECT", id, "REDIRECT", id)));
            return t;
        });
    }

    [Fact]
    public void Reset_and_disconnect_turn_tracking_off()
    {
        var s = _f.Basalt;
        using var a = Resp3(s);
        using var probe = s.Connect();
        long Clients() => long.Parse(probe.Call("INFO", "clients").Text!.Split("\r\n").First(l => l.StartsWith("tracking_clients:"))[17..]);
        long before = Clients();
        Assert.Equal("OK", a.Call("CLIENT", "TRACKING", "on").Text);
        Assert.Equal(before + 1, Clients());
        a.Call("RESET");
        Assert.Equal(-1, a.Call("CLIENT", "GETREDIR").Integer);
        Assert.Equal(before, Clients());
        var b = Resp3(s);
        Assert.Equal("OK", b.Call("CLIENT", "TRACKING", "on", "BCAST").Text);
        Assert.Equal(before + 1, Clients());
        b.Dispose();
        Tools.WaitUntil(() => Clients() == before, TimeSpan.FromSeconds(5), "tracking client cleaned up on disconnect");
    }
}
