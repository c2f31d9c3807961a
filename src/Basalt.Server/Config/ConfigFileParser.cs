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

    public void LoadFile(string path)
    {
        string text = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
        LoadText(text, path);
    }

    public void LoadText(string text, string source)
    {
        var lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var argv = SplitArgs(line);
            if (argv is null) Fail(source, n + 1, line, "Unbalanced quotes in configuration line");
            if (argv!.Count == 0) continue;
            string name = argv[0].ToLowerInvariant();
            var values = argv.Skip(1).ToArray();
            string? err = Apply(name, values);
            if (err is not null) Fail(source, n + 1, line, err);
        }
    }

    private string? Apply(string name, string[] values)
    {
        if (name == "include")
        {
            if (values.Length != 1) return "Bad directive or wrong number of arguments";
            if (++_includeDepth > 16) return "Too many nested includes";
            try { LoadFile(values[0]); }
            catch (IOException ex) { return $"Can't open include file '{values[0]}': {ex.Message}"; }
            finally { _includeDepth--; }
            return null;
        }
        if (ConfigDirectives.Find(name) is null) return "Bad directive or wrong number of arguments";
        if (values.Length == 0) return "wrong number of arguments";
        return _config.Set(name, string.Join(' ', values), startup: true);
    }

    private static void Fail(string source, int lineNo, string line, string reason)
    {
        throw new ConfigException($"""

*** FATAL CONFIG FILE ERROR (Basalt {ServerMain.BasaltVersion}) ***
Reading the configuration file, at line {lineNo}
>>> '{line}'
{reason}
""" + (source == "(command line)" ? "" : $"\n(in {source})"));
    }

    /// <summary>Quotes a command-line value so it survives the line splitter ("" for the empty string).</summary>
    public static string Quote(string s)
    {
        if (s.Length > 0 && s.All(c => c > ' ' && c != '"' && c != '\'' && c != '\\')) return s;
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            if (c == '"' || c == '\\') sb.Append('\\').Append(c);
            else if (c == '\n') sb.Append("\\n");
            else sb.Append(c);
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
