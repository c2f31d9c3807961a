using System.Text;

namespace Basalt.Server.Config;

/// <summary>
/// redis-server's command line: <c>[config-file] [--directive value ...]</c>. The options become
/// config lines appended after the file's, so they override it. --version, --help, -v, -h as Redis.
/// </summary>
public static class CommandLine
{
    public sealed record Result(ServerConfig? Config, string? ConfigFile, int? ExitCode);

    public static Result Parse(string[] args, bool sentinel = false)
    {
        if (args.Length == 1 && (args[0] is "-v" or "--version"))
        {
            Console.WriteLine($"Redis server v={ServerMain.RedisVersion} sha=00000000:0 malloc=libc bits=64 build=basalt-{ServerMain.BasaltVersion}");
            return new(null, null, 0);
        }
        if (args.Length == 1 && (args[0] is "-h" or "--help"))
        {
            Console.WriteLine(Usage);
            return new(null, null, 0);
        }
        if (args.Length >= 1 && args[0] == "--test-memory")
        {
            Console.Error.WriteLine("--test-memory is not supported by Basalt: managed memory cannot be tested this way; use memtester.");
            return new(null, null, 1);
        }

        // As redis-server: an optional config file first, then "--name value..." options that become
        // config lines appended after the file's text (so they override it and errors count lines the same way).
        int i = 0;
        string? file = null;
        bool fromStdin = false;
        if (args.Length > 0 && !args[0].StartsWith('-'))
        {
            file = args[0];
            i = 1;
        }
        var options = new StringBuilder();
        for (int j = i; j < args.Length; j++)
        {
            var a = args[j];
            if (a == "-" && (j == 0 || j == args.Length - 1)) { fromStdin = true; continue; }
            if (a.StartsWith("--") && a.Length > 2)
            {
                if (options.Length > 0) options.Append('\n');
                options.Append(a[2..]).Append(' ');
            }
            else
            {
                options.Append(ConfigFileParser.Repr(a)).Append(' ');
            }
        }

        var config = new ServerConfig();
        if (sentinel)
        {
            // Sentinel defaults, before the file so it can override them.
            config.SentinelMode = true;
            config.SetRaw("port", "26379");
            config.SetRaw("protected-mode", "no");
        }
        try
        {
            var text = new StringBuilder();
            if (file is not null)
            {
                string full = Path.GetFullPath(file);
                try { text.Append(File.ReadAllText(full)); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"Fatal error, can't open config file '{full}': " +
                        (ex is UnauthorizedAccessException ? "Permission denied" : "No such file or directory"));
                    return new(null, file, 1);
                }
                config.ConfigFile = full;
            }
            if (fromStdin) text.Append(Console.In.ReadToEnd());
            if (options.Length > 0) text.Append('\n').Append(options);
            new ConfigFileParser(config).LoadText(text.ToString());
        }
        catch (ConfigException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return new(null, file, 1);
        }
        return new(config, file, null);
    }

    public const string Usage = """
Usage: ./basalt-server [/path/to/redis.conf] [options] [-]
       ./basalt-server - (read config from stdin)
       ./basalt-server -v or --version
       ./basalt-server -h or --help

Examples:
       ./basalt-server (run the server with default conf)
       ./basalt-server /etc/redis/6379.conf
       ./basalt-server --port 7777
       ./basalt-server /etc/myredis.conf --loglevel verbose -
       ./basalt-server /etc/myredis.conf --loglevel verbose
""";
}

public sealed class ConfigException(string message) : Exception(message);
