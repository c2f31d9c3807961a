using System.Globalization;

namespace Basalt.Server;

public enum LogLevel { Debug = 0, Verbose = 1, Notice = 2, Warning = 3, Nothing = 4 }

/// <summary>
/// Log lines in Redis's shape: "pid:role dd Mon yyyy HH:mm:ss.fff level message", where role is
/// M (master), S (replica), C (child) or X (sentinel) and level is . - * # for debug..warning.
/// </summary>
public static class Log
{
    private static readonly object Gate = new();
    private static TextWriter _out = Console.Out;
    private static string? _path;

    public static LogLevel Level { get; set; } = LogLevel.Notice;

    /// <summary>Role letter shown after the PID.</summary>
    public static char Role { get; set; } = 'M';

    public static readonly int Pid = Environment.ProcessId;

    /// <summary>Sends log lines to a file ("" means stdout), appending as Redis does.</summary>
    public static void SetFile(string path)
    {
        lock (Gate)
        {
            if (_path == path) return;
            if (_out != Console.Out) _out.Dispose();
            _path = path;
            _out = string.IsNullOrEmpty(path)
                ? Console.Out
                : new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }
    }

    public static void Debug(string message) => Write(LogLevel.Debug, message);
    public static void Verbose(string message) => Write(LogLevel.Verbose, message);
    public static void Notice(string message) => Write(LogLevel.Notice, message);
    public static void Warning(string message) => Write(LogLevel.Warning, message);

    public static void Write(LogLevel level, string message)
    {
        if (level < Level) return;
        char mark = level switch { LogLevel.Debug => '.', LogLevel.Verbose => '-', LogLevel.Notice => '*', _ => '#' };
        var now = DateTime.Now;
        string line = string.Create(CultureInfo.InvariantCulture, $"{Pid}:{Role} {now:dd MMM yyyy HH:mm:ss.fff} {mark} {message}");
        lock (Gate)
        {
            _out.WriteLine(line);
            _out.Flush();
        }
    }

    /// <summary>Writes text without the line prefix (the start-up logo).</summary>
    public static void Raw(string text)
    {
        lock (Gate) { _out.Write(text); _out.Flush(); }
    }
}
