using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Basalt.Tests.Support;

/// <summary>
/// A real server process on a free loopback port: Basalt through bin/basalt-server, or Debian's redis-server
/// as the reference. Waits for PING with a deadline; stops by PID when disposed.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public int Port { get; }
    public string Dir { get; }
    public bool IsRedis { get; }
    public int Pid => _process.Id;
    /// <summary>The --unixsocket path given in the arguments, if any.</summary>
    public string? UnixSocket { get; }
    /// <summary>Started with --port 0: readiness and <see cref="Connect"/> go through the Unix socket.</summary>
    public bool TcpDisabled { get; }

    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "bin", "basalt-server"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private readonly bool _readyWhileLoading;

    private ServerProcess(bool redis, string[] extraArgs, string? configFile, int port = 0, string? sentinelConf = null, bool readyWhileLoading = false)
    {
        _readyWhileLoading = readyWhileLoading;
        IsRedis = redis;
        Port = port != 0 ? port : FreePort();
        Dir = Directory.CreateTempSubdirectory(redis ? "redis-" : "basalt-").FullName;
        if (sentinelConf is not null)
        {
            // Sentinel mode: a writable sentinel.conf in the temp dir; the sentinel rewrites it.
            configFile = Path.Combine(Dir, "sentinel.conf");
            File.WriteAllText(configFile, $"port {Port}\nbind 127.0.0.1\ndir \"{Dir}\"\n" + sentinelConf);
            extraArgs = [.. extraArgs, "--sentinel"];
        }
        var psi = new ProcessStartInfo
        {
            FileName = redis ? "redis-server" : Path.Combine(RepoRoot, "bin", "basalt-server"),
            WorkingDirectory = Dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (configFile is not null) psi.ArgumentList.Add(configFile);
        if (sentinelConf is null)
        {
            foreach (var a in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--dir", Dir }) psi.ArgumentList.Add(a);
            if (redis) { psi.ArgumentList.Add("--appendonly"); psi.ArgumentList.Add("no"); }
        }
        foreach (var a in extraArgs) psi.ArgumentList.Add(a);
        for (int i = 0; i + 1 < extraArgs.Length; i++)
        {
            if (extraArgs[i] == "--unixsocket") UnixSocket = extraArgs[i + 1];
            if (extraArgs[i] == "--port" && extraArgs[i + 1] == "0") TcpDisabled = true;
        }
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitReady(TimeSpan.FromSeconds(60));
    }

    public static ServerProcess StartBasalt(params string[] args) => new(false, args, null);
    public static ServerProcess StartBasaltWithConfig(string configFile, params string[] args) => new(false, args, configFile);
    public static ServerProcess StartRedis(params string[] args) => new(true, args, null);
    /// <summary>Returns as soon as the server answers, even -LOADING (startup loading tests).</summary>
    public static ServerProcess StartWhileLoading(bool redis, params string[] args) => new(redis, args, null, readyWhileLoading: true);
    /// <summary>A server on a given port (restarting an instance at its old address).</summary>
    public static ServerProcess StartOnPort(bool redis, int port, params string[] args) => new(redis, args, null, port);
    /// <summary>A sentinel (Basalt or redis-server --sentinel) with <paramref name="conf"/> after its port/bind/dir lines.</summary>
    public static ServerProcess StartSentinel(bool redis, string conf, int port = 0) => new(redis, [], null, port, conf);
    /// <summary>A sentinel started from an existing config file (a restart), on a given port.</summary>
    public static ServerProcess StartSentinelFromFile(bool redis, string configFile, int port) => new(redis, ["--sentinel"], configFile, port);
    /// <summary>The sentinel's config file (sentinel mode).</summary>
    public string ConfigPath => Path.Combine(Dir, "sentinel.conf");

    public string Output { get { lock (_output) return _output.ToString(); } }

    public bool HasExited => _process.HasExited;

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) throw new TimeoutException("server did not exit");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    private void WaitReady(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"server exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var c = Connect();
                var r = c.Call("PING");
                // -LOADING: the dataset is still being loaded; any other error (NOAUTH...) means the server is up.
                if (r.Text == "PONG" || r.IsError && (_readyWhileLoading || r.Text?.StartsWith("LOADING", StringComparison.Ordinal) != true)) return;
            }
            catch (Exception ex) { last = ex; }
            Thread.Sleep(50);
        }
        throw new TimeoutException($"server not ready: {last?.Message}\n{Output}");
    }

    public RespConnection Connect() => TcpDisabled ? ConnectUnix() : new("127.0.0.1", Port);

    public RespConnection ConnectUnix() => RespConnection.ConnectUnix(UnixSocket ?? throw new InvalidOperationException("no --unixsocket"));

    /// <summary>Sends a POSIX signal (TERM, INT, ...) to the server process.</summary>
    public void Signal(string name)
    {
        var r = Tools.Run("kill", ["-" + name, Pid.ToString()]);
        if (r.ExitCode != 0) throw new InvalidOperationException("kill failed: " + r.StdErr);
    }

    /// <summary>Runs redis-cli against this server and returns its standard output.</summary>
    public string Cli(params string[] args) => Tools.Run("redis-cli", ["-p", Port.ToString(), .. args]).StdOut;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch { }
        _process.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch { }
    }
}
