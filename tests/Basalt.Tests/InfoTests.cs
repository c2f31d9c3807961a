using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

public class InfoTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public InfoTests(DifferentialFixture f) => _f = f;

    /// <summary>Section title → field names in order, from INFO text.</summary>
    internal static List<(string Section, List<string> Fields)> Parse(string text)
    {
        var result = new List<(string, List<string>)>();
        foreach (var line in text.Split("\r\n"))
        {
            if (line.StartsWith("# ")) result.Add((line[2..], new List<string>()));
            else if (line.Length > 0)
            {
                Assert.NotEmpty(result);
                int colon = line.IndexOf(':');
                Assert.True(colon > 0, $"line without a colon: {line}");
                result[^1].Item2.Add(line[..colon]);
            }
        }
        return result;
    }

    internal static Dictionary<string, string> Values(string text) =>
        text.Split("\r\n").Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToDictionary(l => l[..l.IndexOf(':')], l => l[(l.IndexOf(':') + 1)..]);

    private static string Info(ServerProcess s, params object[] args)
    {
        using var c = s.Connect();
        var r = c.Call(["INFO", .. args]);
        Assert.False(r.IsError, r.Text);
        return r.Text!;
    }

    [Theory]
    [InlineData("default")]
    [InlineData("everything")]
    public void Sections_and_field_names_match_redis(string which)
    {
        var basalt = Parse(Info(_f.Basalt, which));
        var redis = Parse(Info(_f.Redis, which));
        Assert.Equal(redis.Select(s => s.Section), basalt.Select(s => s.Section));
        foreach (var (section, fields) in redis)
        {
            if (section is "Keyspace" or "Commandstats" or "Errorstats" or "Latencystats") continue;
            var ours = basalt.Single(s => s.Section == section).Fields;
            // Same fields in the same order; Basalt adds only basalt_version to Server.
            Assert.Equal(fields, ours.Where(f => f != "basalt_version").ToList());
        }
        Assert.Contains("basalt_version", basalt.Single(s => s.Section == "Server").Fields);
    }

    [Fact]
    public void Text_uses_crlf_and_blank_lines_between_sections_only()
    {
        var text = Info(_f.Basalt, "server", "clients");
        Assert.StartsWith("# Server\r\n", text);
        Assert.Contains("\r\n\r\n# Clients\r\n", text);
        Assert.EndsWith("\r\n", text);
        Assert.False(text.EndsWith("\r\n\r\n"), "no blank line after the last section");
        Assert.DoesNotContain("\n", text.Replace("\r\n", ""));
    }

    [Fact]
    public void Selected_sections_come_in_redis_order_and_unknown_ones_are_empty()
    {
        var sections = Parse(Info(_f.Basalt, "CPU", "SERVER")).Select(s => s.Section).ToList();
        Assert.Equal(["Server", "CPU"], sections);
        Assert.Equal("", Info(_f.Basalt, "nosuchsection"));
        Assert.Equal("", Info(_f.Redis, "nosuchsection"));
        var all = Parse(Info(_f.Basalt, "all")).Select(s => s.Section).ToList();
        Assert.Contains("Commandstats", all);
        Assert.DoesNotContain("Commandstats", Parse(Info(_f.Basalt)).Select(s => s.Section));
    }

    [Fact]
    public void Server_fields_have_real_values()
    {
        var v = Values(Info(_f.Basalt, "server"));
        Assert.Equal("7.0.15", v["redis_version"]);
        Assert.Equal(_f.Basalt.Pid.ToString(), v["process_id"]);
        Assert.Equal(_f.Basalt.Port.ToString(), v["tcp_port"]);
        Assert.Matches("^[0-9a-f]{40}$", v["run_id"]);
        Assert.Equal("standalone", v["redis_mode"]);
        long usec = long.Parse(v["server_time_usec"]);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        Assert.InRange(usec, now - 60_000_000, now + 60_000_000);
    }

    [Fact]
    public void Keyspace_counts_keys_and_expires_per_db()
    {
        using var c = _f.Basalt.Connect();
        Assert.Equal("OK", c.Call("SELECT", "7").Text);
        c.Call("FLUSHDB");
        c.Call("SET", "info:a", "1");
        c.Call("SET", "info:b", "2", "EX", "1000");
        c.Call("SET", "info:c", "3");
        var v = Values(c.Call("INFO", "keyspace").Text!);
        Assert.Matches("^keys=3,expires=1,avg_ttl=[0-9]+$", v["db7"]);
        long ttl = long.Parse(v["db7"].Split("avg_ttl=")[1]);
        Assert.InRange(ttl, 900_000, 1_000_000);
    }

    [Fact]
    public void Commandstats_and_errorstats_count_calls_and_errors()
    {
        using var c = _f.Basalt.Connect();
        var before = Values(c.Call("INFO", "commandstats").Text!);
        long calls0 = before.TryGetValue("cmdstat_echo", out var e) ? long.Parse(e.Split(',')[0]["calls=".Length..]) : 0;
        c.Call("ECHO", "x");
        c.Call("ECHO", "y");
        Assert.True(c.Call("ECHO").IsError);
        c.Call("CLIENT", "ID");
        var after = Values(c.Call("INFO", "commandstats").Text!);
        Assert.Matches(@"^calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,failed_calls=\d+$", after["cmdstat_echo"]);
        Assert.StartsWith($"calls={calls0 + 2},", after["cmdstat_echo"]);
        Assert.Contains("rejected_calls=1", after["cmdstat_echo"]);
        Assert.True(after.ContainsKey("cmdstat_client|id"));
        var errors = Values(c.Call("INFO", "errorstats").Text!);
        Assert.Matches(@"^count=[1-9]\d*$", errors["errorstat_ERR"]);
        var stats = Values(c.Call("INFO", "stats").Text!);
        Assert.True(long.Parse(stats["total_error_replies"]) >= 1);
        Assert.True(long.Parse(stats["total_commands_processed"]) >= 3);
        Assert.True(long.Parse(stats["total_net_input_bytes"]) > 0);
    }

    [Fact]
    public void Latencystats_report_percentiles_per_command()
    {
        using var c = _f.Basalt.Connect();
        c.Call("ECHO", "lat");
        var v = Values(c.Call("INFO", "latencystats").Text!);
        Assert.Matches(@"^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$", v["latency_percentiles_usec_echo"]);
    }

    [Fact]
    public void Memory_and_clients_sections_have_sane_values()
    {
        using var c = _f.Basalt.Connect();
        using var other = _f.Basalt.Connect();
        other.Call("PING");
        var v = Values(c.Call("INFO", "memory").Text!);
        Assert.True(long.Parse(v["used_memory"]) > 0);
        Assert.True(long.Parse(v["used_memory_rss"]) > 0);
        Assert.Matches(@"^\d+(\.\d\d[KMGTPE]|B)$", v["used_memory_human"]);
        Assert.Equal("noeviction", v["maxmemory_policy"]);
        var clients = Values(c.Call("INFO", "clients").Text!);
        Assert.True(long.Parse(clients["connected_clients"]) >= 2);
        Assert.Equal("10000", clients["maxclients"]);
        var repl = Values(c.Call("INFO", "replication").Text!);
        Assert.Equal("master", repl["role"]);
        Assert.Matches("^[0-9a-f]{40}$", repl["master_replid"]);
        Assert.Equal(new string('0', 40), repl["master_replid2"]);
    }

    [Fact]
    public void Resp3_reply_is_a_verbatim_string()
    {
        using var c = _f.Basalt.Connect();
        c.Call("HELLO", "3");
        var raw = Encoding.ASCII.GetString(c.CallRaw("INFO", "cpu"));
        Assert.StartsWith("=", raw);
        Assert.Contains("\r\ntxt:# CPU\r\nused_cpu_sys:", raw);
    }
}
