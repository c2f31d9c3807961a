using System.Text;
using Basalt.Server.Config;
using Basalt.Server.Keyspace;
using Basalt.Server.Networking;

namespace Basalt.Server.Commands;

/// <summary>CONFIG GET/SET/RESETSTAT/REWRITE/HELP with Redis 7.0 semantics (several patterns, atomic multi-set).</summary>
public static class ConfigCommands
{
    /// <summary>Raised by CONFIG RESETSTAT after the core counters are cleared; subsystems reset their own stats.</summary>
    public static event Action<RedisServer>? ResetStatRequested;

    private const CommandFlags AdminFlags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;

    public static void Register(CommandTable t)
    {
        var c = t.AddContainer("config", -2);
        CommandTable.AddSub(c, "get", -3, AdminFlags, 0, 0, 0, Get);
        CommandTable.AddSub(c, "set", -4, AdminFlags, 0, 0, 0, Set);
        CommandTable.AddSub(c, "resetstat", 2, AdminFlags, 0, 0, 0, ResetStat);
        CommandTable.AddSub(c, "rewrite", 2, AdminFlags, 0, 0, 0, Rewrite);
        CommandTable.AddSub(c, "help", 2, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Help);
    }

    private static void Get(CommandContext ctx)
    {
        var config = ctx.Server.Config;
        // Name as listed -> directive; insertion order kept (Redis's order is its hash table's, i.e. unspecified).
        var matches = new Dictionary<string, ConfigDirective>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int i = 2; i < ctx.Count; i++)
        {
            string pattern = Encoding.Latin1.GetString(ctx.Arg(i));
            if (pattern.IndexOfAny(['[', '*', '?']) < 0)
            {
                if (matches.ContainsKey(pattern)) continue;
                var d = ConfigDirectives.Find(pattern);
                if (d is not null) { matches[pattern] = d; order.Add(pattern); }
                continue;
            }
            var p = ctx.Arg(i);
            foreach (var (name, d) in ConfigDirectives.Names)
            {
                if (d.Hidden || matches.ContainsKey(name)) continue;
                if (Glob.Match(p, Encoding.Latin1.GetBytes(name), nocase: true)) { matches[name] = d; order.Add(name); }
            }
        }
        ctx.Reply.WriteMapHeader(order.Count);
        foreach (var name in order)
        {
            ctx.Reply.WriteBulk(name);
            ctx.Reply.WriteBulk(config.Display(matches[name].Name));
        }
    }

    private static string SetFailed(string name, string reason) => $"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}";

    private static void Set(CommandContext ctx)
    {
        if ((ctx.Count - 2) % 2 != 0) { ctx.SyntaxError(); return; }
        int n = (ctx.Count - 2) / 2;
        var server = ctx.Server;
        var config = server.Config;
        var names = new string[n];
        var dirs = new ConfigDirective[n];
        for (int i = 0; i < n; i++)
        {
            string name = Encoding.UTF8.GetString(ctx.Arg(2 + 2 * i));
            names[i] = name;
            var d = ConfigDirectives.Find(name);
            if (d is null) { ctx.Reply.WriteError($"ERR Unknown option or number of arguments for CONFIG SET - '{name}'"); return; }
            if (d.Immutable) { ctx.Reply.WriteError(SetFailed(name, "can't set immutable config")); return; }
            if (d.Protected && !ProtectedAllowed(ctx)) { ctx.Reply.WriteError(SetFailed(name, "can't set protected config")); return; }
            for (int j = 0; j < i; j++)
                if (names[j].Equals(name, StringComparison.OrdinalIgnoreCase)) { ctx.Reply.WriteError(SetFailed(name, "duplicate parameter")); return; }
            dirs[i] = d;
        }

        // Validate everything before changing anything.
        var values = new string[n];
        var old = new Dictionary<ConfigDirective, string>();
        for (int i = 0; i < n; i++)
        {
            var d = dirs[i];
            string? err = config.Validate(d, d.SplitValue(Encoding.UTF8.GetString(ctx.Arg(3 + 2 * i))), out values[i]);
            // Redis names the directive as matched in its table: the given name in lower case (aliases stay aliases).
            if (err is not null) { ctx.Reply.WriteError(SetFailed(names[i].ToLowerInvariant(), err)); return; }
        }
        for (int i = 0; i < n; i++)
        {
            old.TryAdd(dirs[i], config.Get(dirs[i].Name));
            config.Store(dirs[i], values[i]);
        }

        // Apply live effects; on failure put every old value back.
        string? failure = null;
        string failedName = "";
        bool rebind = false;
        for (int i = 0; i < n && failure is null; i++)
        {
            var d = dirs[i];
            if (d.Name is "port" or "bind") { rebind |= old[d] != config.Get(d.Name); continue; }
            failure = Apply(server, d);
            failedName = names[i].ToLowerInvariant();
        }
        if (failure is null && rebind)
        {
            failure = Rebind(server);
            failedName = dirs.Any(d => d.Name == "bind") ? "bind" : "port";
            if (failure is not null)
            {
                foreach (var (d, v) in old) config.Store(d, v);
                Rebind(server);
            }
        }
        if (failure is not null)
        {
            foreach (var (d, v) in old) { config.Store(d, v); Apply(server, d); }
            ctx.Reply.WriteError(SetFailed(failedName, failure));
            return;
        }
        ctx.Reply.WriteOk();
    }

    private static bool ProtectedAllowed(CommandContext ctx)
    {
        string mode = ctx.Server.Config.Get("enable-protected-configs");
        if (mode == "yes") return true;
        if (mode != "local") return false;
        var c = ctx.Client;
        return c.Has(ClientFlags.UnixSocket) || c.Address.StartsWith("127.") || c.Address.StartsWith("::1:") || c.Address.StartsWith("[::1]");
    }

    /// <summary>Makes a stored value take effect where the server does not read the config live.</summary>
    private static string? Apply(RedisServer server, ConfigDirective d)
    {
        var config = server.Config;
        switch (d.Name)
        {
            case "loglevel":
                Log.Level = ServerMain.ParseLevel(config.LogLevel);
                return null;
            case "dir":
                try
                {
                    Directory.SetCurrentDirectory(config.Get("dir"));
                    config.SetRaw("dir", Directory.GetCurrentDirectory());
                    return null;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
                {
                    return ex is UnauthorizedAccessException ? "Permission denied" : ex is ArgumentException ? "No such file or directory" : "No such file or directory";
                }
            case "appendonly":
                return server.Aof.ApplyConfig();
            default:
                return null;
        }
    }

    /// <summary>Replaces the listening sockets after a port/bind change; returns Redis's error text on failure.</summary>
    private static string? Rebind(RedisServer server)
    {
        if (server.Listener is null) return null;
        bool portChanged = server.Listener.Sockets.Count > 0 && server.Listener.Sockets[0].LocalEndPoint is System.Net.IPEndPoint ep && ep.Port != server.Config.Port;
        server.Listener.Stop();
        var fresh = new Listener(server);
        try
        {
            fresh.Start();
            server.Listener = fresh;
            return null;
        }
        catch (Exception ex)
        {
            fresh.Stop();
            Log.Warning(ex.Message);
            return portChanged ? "Unable to listen on this port" : "Failed to bind to specified addresses.";
        }
    }

    private static void ResetStat(CommandContext ctx)
    {
        var server = ctx.Server;
        server.Stats.Reset();
        server.Dispatcher.Evictor.ResetStats();
        foreach (var cmd in server.Commands.All)
        {
            Reset(cmd);
            if (cmd.Subcommands is not null) foreach (var sub in cmd.Subcommands.Values) Reset(sub);
        }
        ResetStatRequested?.Invoke(server);
        ctx.Reply.WriteOk();

        static void Reset(CommandDef c) => c.Calls = c.Microseconds = c.RejectedCalls = c.FailedCalls = 0;
    }

    private static void Rewrite(CommandContext ctx)
    {
        var config = ctx.Server.Config;
        if (config.ConfigFile is null) { ctx.Reply.WriteError("ERR The server is running without a config file"); return; }
        try
        {
            ConfigRewrite.Rewrite(config, config.ConfigFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.Warning("CONFIG REWRITE failed: " + ex.Message);
            ctx.Reply.WriteError("ERR Rewriting config file: " + (ex is UnauthorizedAccessException ? "Permission denied" : ex.Message));
            return;
        }
        Log.Notice("CONFIG REWRITE executed with success.");
        ctx.Reply.WriteOk();
    }

    private static readonly string[] HelpLines =
    [
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    ];

    private static void Help(CommandContext ctx)
    {
        ctx.Reply.WriteArrayHeader(HelpLines.Length);
        foreach (var l in HelpLines) ctx.Reply.WriteSimpleString(l);
    }
}
