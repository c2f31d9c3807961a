using Basalt.Protocol;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>CONFIG GET/SET/RESETSTAT/REWRITE against Basalt and, where they must agree, real redis-server 7.0.</summary>
public class ConfigTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public ConfigTests(DifferentialFixture f) => _f = f;

    private static Dictionary<string, string> GetMap(RespConnection c, params string[] patterns)
    {
        var r = c.Call(["CONFIG", "GET", .. patterns]);
        var items = r.Items!;
        var map = new Dictionary<string, string>();
        for (int i = 0; i < items.Length; i += 2) map[items[i].Text!] = items[i + 1].Text!;
        return map;
    }

    [Fact]
    public void Config_get_star_lists_the_same_directives_and_defaults_as_redis()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var bm = GetMap(b, "*");
        var rm = GetMap(r, "*");
        Assert.Equal(rm.Keys.Order(), bm.Keys.Order());
        foreach (var (k, v) in rm)
        {
            if (k is "port" or "dir" or "appendonly") continue;   // differ by how the test servers are started
            Assert.True(v == bm[k], $"{k}: redis '{v}' basalt '{bm[k]}'");
        }
    }

    [Fact]
    public void Config_get_with_several_patterns_and_aliases_matches_redis()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        foreach (var pats in new[] { new[] { "hz", "timeout", "nosuch" }, ["*max-*-entries*"], ["SLAVE-read-only"], ["Hz*", "hz"], ["client-output-buffer-limit", "save"] })
            Assert.Equal(GetMap(r, pats).OrderBy(p => p.Key), GetMap(b, pats).OrderBy(p => p.Key));
    }

    [Fact]
    public void Config_get_is_a_map_in_resp3()
    {
        using var b = _f.Basalt.Connect();
        b.Call("HELLO", "3");
        var raw = System.Text.Encoding.ASCII.GetString(b.CallRaw("CONFIG", "GET", "hz"));
        Assert.Equal("%1\r\n$2\r\nhz\r\n$2\r\n10\r\n", raw);
    }

    public static readonly TheoryData<string[]> SetCases = new()
    {
        new[] { "hz", "abc" }, new[] { "hz", "+5" }, new[] { "hz", "1000" }, new[] { "HZ", "x" },
        new[] { "timeout", "-1" }, new[] { "maxmemory", "1.5gb" }, new[] { "maxmemory", "-1" }, new[] { "maxmemory", "1GB" }, new[] { "maxmemory", "18446744073709551616" },
        new[] { "proto-max-bulk-len", "1kb" }, new[] { "activerehashing", "YES" }, new[] { "activerehashing", "1" },
        new[] { "maxmemory-policy", "ALLKEYS-LRU" }, new[] { "appendfsync", "always no" }, new[] { "loglevel", "nothing" },
        new[] { "save", "100 10 20" }, new[] { "save", "  100 10" }, new[] { "save", "100 10 20 5" },
        new[] { "client-output-buffer-limit", "normal 1mb 2mb 3 replica 10 20 30" }, new[] { "client-output-buffer-limit", "foo 1 2 3" },
        new[] { "client-output-buffer-limit", "normal x 2 3" }, new[] { "client-output-buffer-limit", "normal 1 2" },
        new[] { "notify-keyspace-events", "KEA" }, new[] { "notify-keyspace-events", "Ex$" }, new[] { "notify-keyspace-events", "AKEmn" }, new[] { "notify-keyspace-events", "X" },
        new[] { "maxmemory-clients", "10%" }, new[] { "maxmemory-clients", "101%" }, new[] { "oom-score-adj-values", "0 x 800" },
        new[] { "latency-tracking-info-percentiles", "50 99.5" }, new[] { "latency-tracking-info-percentiles", "101" },
        new[] { "tcp-backlog", "5" }, new[] { "databases", "5" }, new[] { "replicaof", "no one" }, new[] { "slaveof", "no one" },
        new[] { "dir", "/tmp" }, new[] { "dbfilename", "x.rdb" }, new[] { "nosuch", "1" },
        new[] { "hz", "11", "hz", "12" }, new[] { "hz", "11", "HZ", "12" }, new[] { "hz", "11", "maxclients" },
        new[] { "hz", "x", "nosuch", "1" }, new[] { "hz", "x", "tcp-backlog", "1" }, new[] { "hz", "13", "timeout", "x" },
        new[] { "slave-read-only", "x" }, new[] { "lua-time-limit", "x" }, new[] { "list-max-ziplist-size", "-1" },
        new[] { "unixsocketperm", "777" }, new[] { "proc-title-template", "{bad}" }, new[] { "cluster-announce-hostname", "a_b" },
    };

    [Theory]
    [MemberData(nameof(SetCases))]
    public void Config_set_replies_and_resulting_values_match_redis(string[] pairs)
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var names = pairs.Where((_, i) => i % 2 == 0).Select(n => n.ToLowerInvariant()).Distinct().ToArray();
        var before = GetMap(r, names);
        try
        {
            var rr = r.Call(["CONFIG", "SET", .. pairs]);
            var br = b.Call(["CONFIG", "SET", .. pairs]);
            Assert.Equal(rr.Text, br.Text);
            Assert.Equal(rr.IsError, br.IsError);
            Assert.Equal(GetMap(r, names).Where(p => p.Key != "dir").OrderBy(p => p.Key), GetMap(b, names).Where(p => p.Key != "dir").OrderBy(p => p.Key));
        }
        finally
        {
            foreach (var (k, v) in before)
            {
                if (k is "dir" or "dbfilename" or "replicaof" or "slaveof" or "tcp-backlog" or "databases" or "unixsocketperm") continue;
                r.Call("CONFIG", "SET", k, v);
                b.Call("CONFIG", "SET", k, v);
            }
        }
    }

    [Fact]
    public void Failed_multi_set_changes_nothing()
    {
        using var b = _f.Basalt.Connect();
        var e = b.Call("CONFIG", "SET", "hz", "13", "maxmemory-policy", "allkeys-lru", "timeout", "x");
        Assert.Equal("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer", e.Text);
        Assert.Equal("10", GetMap(b, "hz")["hz"]);
        Assert.Equal("noeviction", GetMap(b, "maxmemory-policy")["maxmemory-policy"]);
    }

    [Fact]
    public void Requirepass_set_live_applies_to_new_connections()
    {
        using var b = _f.Basalt.Connect();
        try
        {
            Assert.Equal("OK", b.Call("CONFIG", "SET", "requirepass", "cfg-secret").Text);
            using var c2 = _f.Basalt.Connect();
            Assert.StartsWith("NOAUTH", c2.Call("GET", "cfgtest:k").Text);
            Assert.Equal("OK", c2.Call("AUTH", "cfg-secret").Text);
        }
        finally { b.Call("CONFIG", "SET", "requirepass", ""); }
    }

    [Fact]
    public void Resetstat_clears_counters_and_calls_the_hook()
    {
        using var b = _f.Basalt.Connect();
        b.Call("SET", "cfgtest:rs", "1");
        Assert.Equal("OK", b.Call("CONFIG", "RESETSTAT").Text);
        var info = b.Call("INFO", "stats");
        if (!info.IsError) Assert.Contains("total_commands_processed:", info.Text);
        Assert.Equal("ERR wrong number of arguments for 'config|resetstat' command", b.Call("CONFIG", "RESETSTAT", "x").Text);
    }

    [Fact]
    public void Rewrite_without_config_file_and_help_and_unknown_subcommand_match_redis()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        foreach (var cmd in new[] { new[] { "CONFIG", "REWRITE" }, ["CONFIG", "HELP"], ["CONFIG", "NOSUCH"], ["CONFIG", "GET"], ["CONFIG", "SET", "hz"] })
            Assert.Equal(r.CallRaw(cmd), b.CallRaw(cmd));
    }

    [Fact]
    public void Server_started_with_a_file_shows_its_values_and_rewrites_it_in_place()
    {
        string dir = Directory.CreateTempSubdirectory("basalt-cfgfile-").FullName;
        string file = Path.Combine(dir, "basalt.conf");
        string inc = Path.Combine(dir, "inc.conf");
        File.WriteAllText(inc, "hz 25\n");
        File.WriteAllText(file, $"# top comment\nrequirepass \"\"\ninclude {inc}\nmasterauth \"sp ace\"\nnotify-keyspace-events KE$\ntimeout 9\n");
        try
        {
            using var s = ServerProcess.StartBasaltWithConfig(file);
            using var c = s.Connect();
            var m = GetMap(c, "hz", "masterauth", "notify-keyspace-events", "timeout");
            Assert.Equal("25", m["hz"]);
            Assert.Equal("sp ace", m["masterauth"]);
            Assert.Equal("$KE", m["notify-keyspace-events"]);
            Assert.Equal("9", m["timeout"]);
            Assert.Equal("OK", c.Call("CONFIG", "SET", "timeout", "11", "maxmemory", "1mb").Text);
            Assert.Equal("OK", c.Call("CONFIG", "REWRITE").Text);
            var text = File.ReadAllText(file);
            Assert.StartsWith("# top comment\n", text);
            Assert.Contains($"include {inc}\n", text);
            Assert.Contains("\ntimeout 11\n", text);
            Assert.DoesNotContain("timeout 9", text);
            Assert.Contains("# Generated by CONFIG REWRITE\n", text);
            Assert.Contains("\nmaxmemory 1mb\n", text);
        }
        finally { Directory.Delete(dir, true); }
    }
}
