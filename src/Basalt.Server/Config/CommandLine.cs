using System.Text;

namespace Basalt.Server.Config;

/// <summary>
/// redis-server's command line: <c>[config-file] [--directive value ...]</c>. The options become
/// config lines appended after the file's, so they override it. --version, --help, -v, -h as Redis.
/// </summary>
public static class CommandLine
{
    public sealed record Result(ServerConfig? Config, string? ConfigFile, int? ExitCode);

    public static Result Parse(string[] args)
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

        int i = 0;
        string? file = null;
        if (args.Length > 0 && !args[0].StartsWith("--"))
        {
            file = args[0];
            i = 1;
        }
        var options = new StringBuilder();
        bool first = true;
        for (; i < args.Length; i++)
        {
            var a = args[i];
            if (a.StartsWith("--") && a.Length > 2)
            {
                if (!first) options.Append('\n');
                options.Append(a[2..]).Append(' ');
                first = false;
            }
            else
            {
                options.Append(ConfigFileParser.Quote(a)).Append(' ');
            }
        }

        var config = new ServerConfig();
        try
        {
            var parser = new ConfigFileParser(config);
            if (file is not null)
            {
                string full = file == "-" ? file : Path.GetFullPath(file);
                if (file != "-" && !File.Exists(full))
                {
                    Console.Error.WriteLine($"Fatal error, can't open config file '{full}': No such file or directory");
                    return new(null, file, 1);
                }
                parser.LoadFile(full);
                if (file != "-") config.ConfigFile = full;
            }
            if (options.Length > 0) parser.LoadText(options.ToString(), "(command line)");
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
