using Basalt.Server.Config;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Config file syntax, command-line overrides, fatal errors and CONFIG REWRITE.</summary>
public class ConfigFileTests
{
    private static ServerConfig Load(string text)
    {
        var c = new ServerConfig();
        new ConfigFileParser(c).LoadText(text);
        return c;
    }

    [Fact]
    public void Repeated_save_lines_accumulate_and_empty_save_clears()
    {
        Assert.Equal("900 1 300 10", Load("save 900 1\nsave 300 10\n").Get("save"));
        Assert.Equal("", Load("save 900 1\nsave \"\"\n").Get("save"));
        Assert.Equal("60 5", Load("save \"\"\nsave 60 5\n").Get("save"));
        Assert.Equal("3600 1 300 100 60 10000", Load("port 1\n").Get("save"));
    }

    [Fact]
    public void Quoted_strings_escapes_and_aliases_are_understood()
    {
        var c = Load("requirepass \"a b\\x41\\n\"\nmasterauth 'it\\'s'\nslave-read-only no\nhash-max-ziplist-entries 7\nmaxmemory 2mb\n");
        Assert.Equal("a bA\n", c.Get("requirepass"));
        Assert.Equal("it's", c.Get("masterauth"));
        Assert.Equal("no", c.Get("replica-read-only"));
        Assert.False(c.ReplicaReadOnly);
        Assert.Equal(7, c.HashMaxListpackEntries);
        Assert.Equal("2097152", c.Get("maxmemory"));
        Assert.Equal(2097152, c.MaxMemory);
    }

    [Fact]
    public void Typed_accessors_parse_output_buffer_limits_and_save_points()
    {
        var c = Load("client-output-buffer-limit replica 1mb 2mb 3 pubsub 1k 2k 4\nsave 10 2 20 4\nnotify-keyspace-events KEA\n");
        Assert.Equal(new OutputBufferLimit(1 << 20, 2 << 20, 3), c.OutputBufferLimits.Replica);
        Assert.Equal(new OutputBufferLimit(1000, 2000, 4), c.OutputBufferLimits.PubSub);
        Assert.Equal(new OutputBufferLimit(0, 0, 0), c.OutputBufferLimits.Normal);
        Assert.Equal([new SavePoint(10, 2), new SavePoint(20, 4)], c.SavePoints);
        Assert.Equal("AKE", c.NotifyKeyspaceEvents);
    }

    [Fact]
    public void Include_reads_another_file()
    {
        string dir = Directory.CreateTempSubdirectory("basalt-cfg-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "inc.conf"), "hz 42\nsave 5 5\n");
            var c = Load($"include {Path.Combine(dir, "inc.conf")}\nsave 6 6\n");
            Assert.Equal("42", c.Get("hz"));
            Assert.Equal("5 5 6 6", c.Get("save"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("port 6380\nfoo bar\n", 2, "foo bar", "Bad directive or wrong number of arguments")]
    [InlineData("port abc\n", 1, "port abc", "argument couldn't be parsed into an integer")]
    [InlineData("port 1 2\n", 1, "port 1 2", "wrong number of arguments")]
    [InlineData("requirepass \"abc\n", 1, "requirepass \"abc", "Unbalanced quotes in configuration line")]
    [InlineData("# x\n\nsave 100\n", 3, "save 100", "Invalid save parameters")]
    [InlineData("loglevel loud\n", 1, "loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning")]
    public void Bad_lines_are_reported_with_line_number_and_reason(string text, int line, string shown, string reason)
    {
        var ex = Assert.Throws<ConfigException>(() => Load(text));
        Assert.Equal($"\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {line}\n>>> '{shown}'\n{reason}", ex.Message);
    }

    [Fact]
    public void Bad_config_file_makes_the_server_exit_1_with_the_line_and_reason()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "# comment\nport abc\n");
            var r = Tools.Run(Path.Combine(ServerProcess.RepoRoot, "bin", "basalt-server"), [file], timeoutMs: 60_000);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'port abc'\nargument couldn't be parsed into an integer", r.StdErr);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Command_line_options_override_the_file_and_count_lines_after_it()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "hz 20\ntimeout 7\n");
            var ok = CommandLine.Parse([file, "--hz", "30", "--save", ""]);
            Assert.Equal("30", ok.Config!.Get("hz"));
            Assert.Equal("7", ok.Config.Get("timeout"));
            Assert.Equal("", ok.Config.Get("save"));
            Assert.Equal(Path.GetFullPath(file), ok.Config.ConfigFile);
            var bad = CommandLine.Parse([file, "--port", "abc"]);
            Assert.Equal(1, bad.ExitCode);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Rewrite_keeps_comments_replaces_values_and_appends_new_ones()
    {
        var c = Load("port 7000\nhz 20\nsave 100 1\nsave 200 2\n");
        c.Set("hz", "10", startup: false);            // back at default: stays in place
        c.Set("save", "300 3", startup: false);       // one point: the second save line goes
        c.Set("maxmemory", "3mb", startup: false);    // new: appended
        c.Set("requirepass", "a b", startup: false);
        c.SetRaw("dir", "/tmp");
        string old = "# my comment\nport 7000\nhz 20\nsave 100 1\nsave 200 2\nunknown-line kept\n  # indented\n";
        string text = ConfigRewrite.Build(c, old);
        Assert.Equal(
            "# my comment\nport 7000\nhz 10\nsave 300 3\n\nunknown-line kept\n# indented\n\n# Generated by CONFIG REWRITE\n" +
            "requirepass \"a b\"\ndir \"/tmp\"\nmaxmemory 3mb\n", text);
        // Idempotent apart from the growing blank line Redis also produces.
        var again = Load(text.Replace("unknown-line kept\n", ""));
        Assert.Equal("3145728", again.Get("maxmemory"));
        Assert.Equal("a b", again.Get("requirepass"));
    }
}
