using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests.Persistence;

/// <summary>Temp directories and server start-ups shared by the AOF tests (each server gets its own --dir).</summary>
internal sealed class AofDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("aof-").FullName;
    public string AofPath => System.IO.Path.Combine(Path, "appendonlydir");
    public string File(string name) => System.IO.Path.Combine(AofPath, name);
    public byte[] Read(string name) => System.IO.File.ReadAllBytes(File(name));
    public string Manifest => System.IO.File.ReadAllText(File("appendonly.aof.manifest"));

    public void Write(string name, string content)
    {
        Directory.CreateDirectory(AofPath);
        System.IO.File.WriteAllBytes(File(name), Encoding.Latin1.GetBytes(content));
    }

    public ServerProcess StartBasalt(params string[] extra) =>
        Loaded(ServerProcess.StartBasalt(["--dir", Path, "--appendonly", "yes", "--enable-debug-command", "yes", .. extra]));

    public ServerProcess StartRedis(params string[] extra) =>
        Loaded(ServerProcess.StartRedis(["--dir", Path, "--appendonly", "yes", "--enable-debug-command", "yes", .. extra]));

    /// <summary>ServerProcess counts a -LOADING reply as up; the tests need the data loaded (PING answers PONG).</summary>
    public static ServerProcess Loaded(ServerProcess s)
    {
        Tools.WaitUntil(() => { using var c = s.Connect(); return c.Call("PING").Text == "PONG"; }, TimeSpan.FromSeconds(30), "loading to finish");
        return s;
    }

    /// <summary>Runs Basalt in the foreground expecting it to refuse to start; returns its exit code and log.</summary>
    public (int Exit, string Log) RunBasaltExpectingFailure(params string[] extra)
    {
        var r = Tools.Run(System.IO.Path.Combine(ServerProcess.RepoRoot, "bin", "basalt-server"),
            ["--port", ServerProcess.FreePort().ToString(), "--bind", "127.0.0.1", "--save", "", "--dir", Path, "--appendonly", "yes", .. extra],
            timeoutMs: 60_000);
        return (r.ExitCode, r.StdOut + r.StdErr);
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch { }
    }

    public static string Cmd(params string[] args)
    {
        var sb = new StringBuilder();
        sb.Append('*').Append(args.Length).Append("\r\n");
        foreach (var a in args) sb.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        return sb.ToString();
    }

    /// <summary>SHUTDOWN (the AOF gets its final flush) and wait for the process to go.</summary>
    public static void Shutdown(ServerProcess s)
    {
        using (var c = s.Connect())
        {
            try { c.Send("SHUTDOWN"); c.WaitClosed(); } catch { }
        }
        s.WaitForExit(TimeSpan.FromSeconds(20));
        s.Dispose();
    }

    /// <summary>Waits for a log line (the process output is read asynchronously).</summary>
    public static void WaitLog(ServerProcess s, string text) =>
        Tools.WaitUntil(() => s.Output.Contains(text), TimeSpan.FromSeconds(10), "log line: " + text + "\n" + s.Output);

    public static string Digest(ServerProcess s)
    {
        using var c = s.Connect();
        return c.Call("DEBUG", "DIGEST").Text!;
    }

    /// <summary>Per-key digests ("db:key" → DEBUG DIGEST-VALUE), to name the keys that differ when whole digests do.</summary>
    public static SortedDictionary<string, string> KeyDigests(ServerProcess s)
    {
        using var c = s.Connect();
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int db = 0; db < 16; db++)
        {
            c.Call("SELECT", db.ToString());
            foreach (var k in c.Call("KEYS", "*").Items!)
                d[db + ":" + k.Text] = c.Call("DEBUG", "DIGEST-VALUE", k.Text!).Items![0].Text!;
        }
        return d;
    }

    public static Dictionary<string, string> Info(ServerProcess s, string section)
    {
        using var c = s.Connect();
        var d = new Dictionary<string, string>();
        foreach (var line in c.Call("INFO", section).Text!.Split("\r\n"))
        {
            int i = line.IndexOf(':');
            if (i > 0) d[line[..i]] = line[(i + 1)..];
        }
        return d;
    }

    /// <summary>Waits until no rewrite is running and at least <paramref name="rewrites"/> completed.</summary>
    public static void WaitRewrites(ServerProcess s, int rewrites)
    {
        Tools.WaitUntil(() =>
        {
            var i = Info(s, "persistence");
            return i["aof_rewrite_in_progress"] == "0" && long.Parse(i["aof_rewrites"]) >= rewrites;
        }, TimeSpan.FromSeconds(20), "AOF rewrite to finish");
    }
}
