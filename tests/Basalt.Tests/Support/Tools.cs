using System.Diagnostics;

namespace Basalt.Tests.Support;

/// <summary>Runs external tools (redis-cli, python3, node) with a deadline.</summary>
public static class Tools
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static Result Run(string file, string[] args, string? stdin = null, int timeoutMs = 120_000, string? workDir = null,
        IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (stdin is not null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} timed out");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, so.Result, se.Result);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return;
            Thread.Sleep(20);
        }
        throw new TimeoutException("timed out waiting for " + what);
    }

    /// <summary>
    /// Runs a client test suite (tests/python/*.py with Debian's /usr/bin/python3, or tests/node/*.js with node) against
    /// the server on <paramref name="port"/> (passed as BASALT_PORT). The suites print "N passed, M failed".
    /// </summary>
    public static Result RunClientSuite(string script, int port)
    {
        var root = ServerProcess.RepoRoot;
        bool node = script.EndsWith(".js");
        string dir = Path.Combine(root, "tests", node ? "node" : "python");
        return Run(node ? "node" : "/usr/bin/python3", [Path.Combine(dir, script)], workDir: dir,
            env: new Dictionary<string, string> { ["BASALT_PORT"] = port.ToString() });
    }
}
