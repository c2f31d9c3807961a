using System.Text;
using Basalt.Server.Config;

namespace Basalt.Tests.Support;

/// <summary>
/// Differential corpus runner: each non-comment line of a corpus file is one command in redis-cli quoting
/// (split with <see cref="ConfigFileParser.SplitArgs"/>), sent to Basalt and to the real redis-server;
/// the raw replies must be identical byte for byte.
///
/// File format (tests/Basalt.Tests/Corpus/*.txt):
///   # comment                      — ignored, as are blank lines
///   SET k "a b\x00c"               — a command; the file is read byte-per-char (Latin-1) so non-ASCII bytes pass
///                                    through unchanged and "\xNN" inside double quotes gives any byte
///   ~ HELLO 3                      — "~ " prefix: integer replies (":123") are compared as ":#"
///                                    (for values that legitimately differ, like client ids)
///   !HELLO 2                       — "!" prefix: sent to both servers, replies not compared (set-up lines)
/// Each file starts on fresh connections after FLUSHALL, in db 0, with RESP2.
/// </summary>
public static class CorpusRunner
{
    public static string CorpusDir { get; } = Path.Combine(ServerProcess.RepoRoot, "tests", "Basalt.Tests", "Corpus");

    public sealed record Difference(string File, int Line, string Command, string Basalt, string Redis)
    {
        public override string ToString() =>
            $"{File}:{Line}: {Command}\n    basalt: {Basalt}\n    redis:  {Redis}";
    }

    /// <summary>Corpus file names (without directory), sorted.</summary>
    public static IEnumerable<string> Files() =>
        Directory.Exists(CorpusDir)
            ? Directory.GetFiles(CorpusDir, "*.txt").Select(Path.GetFileName).Order(StringComparer.Ordinal)!
            : [];

    /// <summary>Runs one file (a name inside <see cref="CorpusDir"/> or a path) and returns every differing line.</summary>
    public static List<Difference> Run(string file, ServerProcess basalt, ServerProcess redis)
    {
        string path = Path.IsPathRooted(file) ? file : Path.Combine(CorpusDir, file);
        string name = Path.GetFileName(path);
        var lines = File.ReadAllLines(path, Encoding.Latin1);
        var diffs = new List<Difference>();
        var b = basalt.Connect();
        var r = redis.Connect();
        try
        {
            b.Call("FLUSHALL");
            r.Call("FLUSHALL");
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                bool maskInts = false, compare = true;
                if (line.StartsWith("~ ", StringComparison.Ordinal)) { maskInts = true; line = line[2..]; }
                else if (line[0] == '!') { compare = false; line = line[1..]; }
                var argv = ConfigFileParser.SplitArgs(line);
                if (argv is null) throw new FormatException($"{name}:{i + 1}: unbalanced quotes: {line}");
                if (argv.Count == 0) continue;
                var args = argv.Select(a => (object)Encoding.Latin1.GetBytes(a)).ToArray();
                string br = Exchange(ref b, basalt, args), rr = Exchange(ref r, redis, args);
                if (!compare) continue;
                if (maskInts) { br = MaskIntegers(br); rr = MaskIntegers(rr); }
                if (br != rr) diffs.Add(new Difference(name, i + 1, line, br, rr));
            }
        }
        finally
        {
            b.Dispose();
            r.Dispose();
        }
        return diffs;
    }

    /// <summary>Sends one command and returns the raw reply, escaped for display; reconnects after a close.</summary>
    private static string Exchange(ref RespConnection c, ServerProcess server, object[] args)
    {
        try
        {
            return Escape(c.CallRaw(args));
        }
        catch (IOException)
        {
            c.Dispose();
            c = server.Connect();
            return "<connection closed>";
        }
    }

    private static string MaskIntegers(string escaped) =>
        System.Text.RegularExpressions.Regex.Replace(escaped, @"(^|\\n):-?\d+\\r", "$1:#\\r");

    /// <summary>Raw bytes as a one-line C-like string: \r, \n, \\, \" and \xNN for other non-printables.</summary>
    public static string Escape(byte[] raw)
    {
        var sb = new StringBuilder(raw.Length + 8);
        foreach (byte x in raw)
        {
            switch (x)
            {
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\\': sb.Append("\\\\"); break;
                default:
                    if (x < 0x20 || x >= 0x7f) sb.Append($"\\x{x:x2}");
                    else sb.Append((char)x);
                    break;
            }
        }
        return sb.ToString();
    }
}
