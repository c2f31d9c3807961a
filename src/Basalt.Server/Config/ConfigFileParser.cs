using System.Text;

namespace Basalt.Server.Config;

/// <summary>
/// Reads redis.conf syntax: one directive per line, arguments split like redis-cli input
/// ("double quotes" with escapes, 'single quotes'), # comments, include, repeated directives.
/// Errors are reported as Redis does: the line number, the line and the reason, then exit 1.
/// </summary>
public sealed class ConfigFileParser
{
    private readonly ServerConfig _config;
    private int _includeDepth;

    public ConfigFileParser(ServerConfig config) => _config = config;

    private bool _saveSeen;

    public void LoadFile(string path)
    {
        string text;
        try { text = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"Fatal error, can't open config file '{path}': {Describe(ex)}");
        }
        LoadText(text);
    }

    private static string Describe(Exception ex) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException => "No such file or directory",
        UnauthorizedAccessException => "Permission denied",
        _ => ex.Message,
    };

    /// <summary>Applies configuration text; errors carry the line number within this text.</summary>
    public void LoadText(string text)
    {
        var lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0 || line[0] == '#') continue;
            var argv = SplitArgs(line);
            if (argv is null) Fail(n + 1, line, "Unbalanced quotes in configuration line");
            if (argv!.Count == 0) continue;
            if (_config.SentinelMode && argv[0].Equals("sentinel", StringComparison.OrdinalIgnoreCase)) { _config.SentinelDirectives.Add((n + 1, line, argv.Skip(1).ToArray())); continue; }
            string? err = Apply(argv[0].ToLowerInvariant(), argv.Skip(1).ToArray());
            if (err is not null) Fail(n + 1, line, err);
        }
    }

    private string? Apply(string name, string[] args)
    {
        var d = ConfigDirectives.Find(name);
        if (d is not null)
        {
            if (d.MultiArg && args.Length == 1) args = d.SplitValue(args[0]);
            else if (!d.MultiArg && d.Kind != ConfigKind.Special && args.Length != 1) return "wrong number of arguments";
            if (d.Name == "save")
            {
                // The first save line of the configuration replaces the default; later ones add points.
                string? err = _config.Validate(d, args, out string normalized);
                if (err is not null) return err;
                string cur = _config.Get("save");
                if (_saveSeen && normalized.Length > 0 && cur.Length > 0) normalized = cur + " " + normalized;
                _saveSeen = true;
                _config.Store(d, normalized);
                return null;
            }
            return _config.SetArgs(d, args, startup: true);
        }
        switch (name)
        {
            case "include" when args.Length == 1:
                if (++_includeDepth > 16) { _includeDepth--; return "Too many nested includes"; }
                try { LoadFile(args[0]); }
                finally { _includeDepth--; }
                return null;
            case "rename-command" when args.Length == 2:
                _config.RenamedCommands.Add((args[0], args[1]));
                return null;
            case "user" when args.Length >= 1:
                _config.UserDirectives.Add(args);
                return null;
            case "loadmodule" when args.Length >= 1:
                return "Module loading is not supported by Basalt";
            case "sentinel":
                return "sentinel directive while not in sentinel mode";
        }
        if (ConfigDirectives.Deprecated.Contains(name)) return null;
        return "Bad directive or wrong number of arguments";
    }

    private static void Fail(int lineNo, string line, string reason)
    {
        throw new ConfigException(
            $"\n*** FATAL CONFIG FILE ERROR (Redis {ServerMain.RedisVersion}) ***\n" +
            $"Reading the configuration file, at line {lineNo}\n>>> '{line}'\n{reason}");
    }

    /// <summary>Quotes a value as Redis's sdscatrepr does: always in double quotes, escapes for the rest.</summary>
    public static string Repr(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                default:
                    if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2"));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Splits a line as sdssplitargs does; null when quotes are unbalanced.</summary>
    public static List<string>? SplitArgs(string line)
    {
        var result = new List<string>();
        int p = 0;
        while (true)
        {
            while (p < line.Length && char.IsWhiteSpace(line[p])) p++;
            if (p >= line.Length) return result;
            var cur = new StringBuilder();
            bool inDq = false, inSq = false;
            while (true)
            {
                if (inDq)
                {
                    if (p >= line.Length) return null;
                    char c = line[p];
                    if (c == '\\' && p + 3 < line.Length && line[p + 1] == 'x' && Uri.IsHexDigit(line[p + 2]) && Uri.IsHexDigit(line[p + 3]))
                    {
                        cur.Append((char)Convert.ToInt32(line.Substring(p + 2, 2), 16));
                        p += 4;
                    }
                    else if (c == '\\' && p + 1 < line.Length)
                    {
                        p++;
                        cur.Append(line[p] switch { 'n' => '\n', 'r' => '\r', 't' => '\t', 'b' => '\b', 'a' => '\a', var o => o });
                        p++;
                    }
                    else if (c == '"')
                    {
                        if (p + 1 < line.Length && !char.IsWhiteSpace(line[p + 1])) return null;
                        p++;
                        break;
                    }
                    else { cur.Append(c); p++; }
                }
                else if (inSq)
                {
                    if (p >= line.Length) return null;
                    char c = line[p];
                    if (c == '\\' && p + 1 < line.Length && line[p + 1] == '\'') { cur.Append('\''); p += 2; }
                    else if (c == '\'')
                    {
                        if (p + 1 < line.Length && !char.IsWhiteSpace(line[p + 1])) return null;
                        p++;
                        break;
                    }
                    else { cur.Append(c); p++; }
                }
                else
                {
                    if (p >= line.Length) break;
                    char c = line[p];
                    if (char.IsWhiteSpace(c)) break;
                    if (c == '"') { inDq = true; p++; }
                    else if (c == '\'') { inSq = true; p++; }
                    else { cur.Append(c); p++; }
                }
            }
            result.Add(cur.ToString());
        }
    }
}
