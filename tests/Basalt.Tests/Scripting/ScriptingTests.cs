using System.Diagnostics;
using Basalt.Protocol;
using Basalt.Server.Scripting;
using Basalt.Tests.Support;

namespace Basalt.Tests.Scripting;

/// <summary>Script timeouts (BUSY, SCRIPT KILL, FUNCTION KILL, UNKILLABLE), read-only scripts, the script cache.</summary>
public class ScriptingTests : IClassFixture<BasaltFixture>
{
    private readonly ServerProcess _s;
    public ScriptingTests(BasaltFixture f) => _s = f.Server;

    private const string BusyEval = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    private const string BusyFunction = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

    /// <summary>Polls PING on <paramref name="c"/> until the server answers BUSY.</summary>
    private static void WaitBusy(RespConnection c, string expected)
    {
        Tools.WaitUntil(() =>
        {
            var r = c.Call("PING");
            if (r.IsError) { Assert.Equal(expected, r.Text); return true; }
            return false;
        }, TimeSpan.FromSeconds(10), "the server to report BUSY");
    }

    [Fact]
    public void Script_kill_stops_a_looping_script_and_other_clients_get_busy_meanwhile()
    {
        using var admin = _s.Connect();
        admin.Call("CONFIG", "SET", "busy-reply-threshold", "50");
        using var a = _s.Connect();
        using var b = _s.Connect();
        // Bounded: the loop ends by itself after 20 s if the kill never arrives.
        a.Send("EVAL", "local t = redis.call('time') while true do local n = redis.call('time') if tonumber(n[1]) > tonumber(t[1]) + 20 then return 'not killed' end end", "0");
        WaitBusy(b, BusyEval);
        Assert.Equal(BusyEval, b.Call("FUNCTION", "KILL").Text);
        Assert.Equal("OK", b.Call("SCRIPT", "KILL").Text);
        var reply = a.Read();
        Assert.True(reply.IsError);
        Assert.StartsWith("ERR Script killed by user with SCRIPT KILL... script: ", reply.Text);
        Assert.EndsWith(", on @user_script:1.", reply.Text);
        Assert.Equal("PONG", b.Call("PING").Text);
        Assert.Equal("NOTBUSY No scripts in execution right now.", b.Call("SCRIPT", "KILL").Text);
    }

    [Fact]
    public void Pcall_cannot_swallow_a_script_kill()
    {
        using var admin = _s.Connect();
        admin.Call("CONFIG", "SET", "busy-reply-threshold", "50");
        using var a = _s.Connect();
        using var b = _s.Connect();
        a.Send("EVAL", "local t = redis.call('time') while true do pcall(function() while true do local n = redis.call('time') if tonumber(n[1]) > tonumber(t[1]) + 20 then error('late') end end end) local n = redis.call('time') if tonumber(n[1]) > tonumber(t[1]) + 20 then return 'not killed' end end", "0");
        WaitBusy(b, BusyEval);
        Assert.Equal("OK", b.Call("SCRIPT", "KILL").Text);
        Assert.StartsWith("ERR Script killed by user", a.Read().Text);
        Assert.Equal("PONG", a.Call("PING").Text);
    }

    [Fact]
    public void A_script_that_wrote_is_unkillable_and_finishes()
    {
        using var admin = _s.Connect();
        admin.Call("CONFIG", "SET", "busy-reply-threshold", "50");
        using var a = _s.Connect();
        using var b = _s.Connect();
        a.Send("EVAL", "redis.call('set', KEYS[1], 'x') local t = redis.call('time') while true do local n = redis.call('time') if tonumber(n[1]) > tonumber(t[1]) + 1 then return 'done' end end", "1", "sk:unkillable");
        WaitBusy(b, BusyEval);
        Assert.Equal("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
            b.Call("SCRIPT", "KILL").Text);
        Assert.Equal("done", a.Read().Text);
        Assert.Equal("x", b.Call("GET", "sk:unkillable").Text);
    }

    [Fact]
    public void Function_kill_stops_a_function_and_script_kill_refuses_it()
    {
        using var admin = _s.Connect();
        admin.Call("CONFIG", "SET", "busy-reply-threshold", "50");
        admin.Call("FUNCTION", "LOAD", "REPLACE", "#!lua name=spinlib\nredis.register_function('spin', function() local t = redis.call('time') while true do local n = redis.call('time') if tonumber(n[1]) > tonumber(t[1]) + 20 then return 'not killed' end end end)");
        using var a = _s.Connect();
        using var b = _s.Connect();
        a.Send("FCALL", "spin", "0");
        WaitBusy(b, BusyFunction);
        var stats = b.Call("FUNCTION", "STATS").Items!;
        Assert.Equal("running_script", stats[0].Text);
        var running = stats[1].Items!;
        Assert.Equal("spin", running[1].Text);
        Assert.Equal(["FCALL", "spin", "0"], running[3].Items!.Select(i => i.Text));
        Assert.True(running[5].Integer >= 50);
        Assert.Equal(BusyFunction, b.Call("SCRIPT", "KILL").Text);
        Assert.Equal("OK", b.Call("FUNCTION", "KILL").Text);
        Assert.Equal("ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.", a.Read().Text);
        Assert.Equal("PONG", b.Call("PING").Text);
    }

    [Fact]
    public void Busy_replies_keep_their_order_in_a_pipeline()
    {
        using var admin = _s.Connect();
        admin.Call("CONFIG", "SET", "busy-reply-threshold", "50");
        using var a = _s.Connect();
        using var b = _s.Connect();
        a.Send("EVAL", "local t = redis.call('time') while true do local n = redis.call('time') if tonumber(n[1]) > tonumber(t[1]) + 20 then return 'not killed' end end", "0");
        WaitBusy(b, BusyEval);
        b.SendRaw("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nx\r\n*2\r\n$6\r\nSCRIPT\r\n$4\r\nKILL\r\n");
        Assert.Equal(BusyEval, b.Read().Text);
        Assert.Equal(BusyEval, b.Read().Text);
        Assert.Equal("OK", b.Read().Text);
        Assert.StartsWith("ERR Script killed", a.Read().Text);
    }

    [Fact]
    public void Evalsha_of_an_unknown_script_is_noscript_and_works_after_eval_or_load()
    {
        using var c = _s.Connect();
        const string body = "return 'cached ' .. ARGV[1]";
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(body)));
        c.Call("SCRIPT", "FLUSH");
        Assert.Equal("NOSCRIPT No matching script. Please use EVAL.", c.Call("EVALSHA", sha, "0", "x").Text);
        Assert.Equal("cached a", c.Call("EVAL", body, "0", "a").Text);
        Assert.Equal("cached b", c.Call("EVALSHA", sha, "0", "b").Text);
        Assert.Equal("cached c", c.Call("EVALSHA", sha.ToUpperInvariant(), "0", "c").Text);
        c.Call("SCRIPT", "FLUSH");
        Assert.Equal(0, c.Call("SCRIPT", "EXISTS", sha).Items![0].Integer);
        Assert.Equal(sha, c.Call("SCRIPT", "LOAD", body).Text);
        Assert.Equal("cached d", c.Call("EVALSHA_RO", sha, "0", "d").Text);
    }

    [Fact]
    public void Read_only_variants_refuse_writes_but_run_reads()
    {
        using var c = _s.Connect();
        c.Call("SET", "ro:k", "v");
        var e = c.Call("EVAL_RO", "return redis.call('set', KEYS[1], 'w')", "1", "ro:k");
        Assert.StartsWith("ERR Write commands are not allowed from read-only scripts. script: ", e.Text);
        Assert.Equal("v", c.Call("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "ro:k").Text);
        Assert.Equal("v", c.Call("GET", "ro:k").Text);
        c.Call("FUNCTION", "LOAD", "REPLACE", "#!lua name=rolib\nredis.register_function('rofw', function(k) return redis.call('set', k[1], 'w') end)\nredis.register_function{function_name='ronw', callback=function(k) return redis.call('get', k[1]) end, flags={'no-writes'}}");
        Assert.Equal("ERR Can not execute a script with write flag using *_ro command.", c.Call("FCALL_RO", "rofw", "1", "ro:k").Text);
        Assert.Equal("v", c.Call("FCALL_RO", "ronw", "1", "ro:k").Text);
    }

    [Fact]
    public void Keys_and_argv_tables_are_reset_between_calls()
    {
        using var c = _s.Connect();
        Assert.Equal(3, c.Call("EVAL", "table.insert(KEYS, 'extra'); return #KEYS", "2", "a", "b").Integer);
        Assert.Equal(1, c.Call("EVAL", "table.insert(KEYS, 'extra'); return #KEYS", "0").Integer);
        Assert.Equal(0, c.Call("EVAL", "return #KEYS + #ARGV", "0").Integer);
    }

    [Fact]
    public void Evalsha_of_a_get_is_fast_enough()
    {
        using var c = _s.Connect();
        c.Call("SET", "perf:k", "v");
        string sha = c.Call("SCRIPT", "LOAD", "return redis.call('GET', KEYS[1])").Text!;
        const int n = 2000;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) c.Send("EVALSHA", sha, "1", "perf:k");
        for (int i = 0; i < n; i++) Assert.Equal("v", c.Read().Text);
        // Generous bound (2 shared cores): well under a millisecond per call.
        Assert.True(sw.ElapsedMilliseconds < 5000, $"{n} EVALSHA took {sw.ElapsedMilliseconds} ms");
    }
}

/// <summary>In-process checks of state the lead wires into propagation later.</summary>
public class ScriptingInProcessTests
{
    [Fact]
    public void Set_repl_flags_are_exposed_on_the_run()
    {
        var h = new KeyInProcessHarness();
        Assert.Equal(1, h.Call("EVAL", "redis.set_repl(redis.REPL_AOF) return 1", "0").Integer);
        var state = ScriptingState.For(h.Server);
        Assert.Equal(ReplicationFlags.Aof, state.EvalRun.ReplicationFlags);
        h.Call("EVAL", "return 1", "0");
        Assert.Equal(ReplicationFlags.All, state.EvalRun.ReplicationFlags);
    }

    [Fact]
    public void Function_libraries_expose_name_and_code_and_load_for_rdb()
    {
        var h = new KeyInProcessHarness();
        const string code = "#!lua name=rdblib\nredis.register_function('rdbf', function() return 7 end)";
        var state = ScriptingState.For(h.Server);
        Assert.Equal("rdblib", state.Functions.Load(code, replace: false, out var error));
        Assert.Null(error);
        var all = state.Functions.All.ToList();
        Assert.Equal(code, Assert.Single(all, kv => kv.Key == "rdblib").Value);
        Assert.Null(state.Functions.Load(code, replace: false, out error));
        Assert.Equal("ERR Library 'rdblib' already exists", error);
        Assert.Equal(7, h.Call("FCALL", "rdbf", "0").Integer);
    }

    [Fact]
    public void Function_dump_payload_round_trips_and_checks_its_crc()
    {
        var payload = FunctionDump.Serialize(["#!lua name=a\nx", "#!lua name=b\ny"]);
        Assert.Equal(["#!lua name=a\nx", "#!lua name=b\ny"], FunctionDump.Deserialize(payload, out _));
        payload[3] ^= 1;
        Assert.Null(FunctionDump.Deserialize(payload, out var error));
        Assert.Equal("ERR DUMP payload version or checksum are wrong", error);
    }
}

/// <summary>FUNCTION DUMP from redis-server restores on Basalt and the other way round.</summary>
public class FunctionDumpDifferentialTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public FunctionDumpDifferentialTests(DifferentialFixture f) => _f = f;

    [Fact]
    public void Dump_payloads_are_exchangeable_with_redis()
    {
        // Long enough for redis to LZF-compress it.
        string code = "#!lua name=xlib\nredis.register_function('xfn', function(keys, args) return 'from ' .. args[1] end)\n" + string.Concat(Enumerable.Repeat("-- padding padding\n", 20));
        using var r = _f.Redis.Connect();
        using var b = _f.Basalt.Connect();
        foreach (var c in new[] { r, b })
        {
            c.Call("FUNCTION", "FLUSH");
            Assert.Equal("xlib", c.Call("FUNCTION", "LOAD", code).Text);
        }
        var fromRedis = r.Call("FUNCTION", "DUMP").Bytes!;
        var fromBasalt = b.Call("FUNCTION", "DUMP").Bytes!;
        b.Call("FUNCTION", "FLUSH");
        Assert.Equal("OK", b.Call("FUNCTION", "RESTORE", fromRedis).Text);
        Assert.Equal("from basalt", b.Call("FCALL", "xfn", "0", "basalt").Text);
        Assert.Equal(code, b.Call("FUNCTION", "LIST", "WITHCODE").Items![0].Items![7].Text);
        r.Call("FUNCTION", "FLUSH");
        Assert.Equal("OK", r.Call("FUNCTION", "RESTORE", fromBasalt).Text);
        Assert.Equal("from redis", r.Call("FCALL", "xfn", "0", "redis").Text);
        // Policies: the same error texts on both.
        foreach (var policy in new[] { "APPEND", "REPLACE", "FLUSH", "BOGUS" })
            Assert.Equal(r.CallRaw("FUNCTION", "RESTORE", fromRedis, policy), b.CallRaw("FUNCTION", "RESTORE", fromRedis, policy));
        Assert.Equal(r.CallRaw("FUNCTION", "RESTORE", fromRedis), b.CallRaw("FUNCTION", "RESTORE", fromRedis));
    }
}
