using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Connection lifecycle and process lifecycle: maxclients, QUIT, idle timeout, Unix sockets, shutdown paths, pid/log files.</summary>
public class NetworkingTests
{
    private static string TempSocketPath() => Path.Combine(Path.GetTempPath(), $"basalt-{Guid.NewGuid():N}.sock");

    [Fact]
    public void Third_connection_beyond_maxclients_2_is_refused()
    {
        using var server = ServerProcess.StartBasalt("--maxclients", "2");
        // The readiness probe's connection may still be closing: retry until a second slot is free, and keep it.
        using var a = server.Connect();
        Assert.Equal("PONG", a.Call("PING").Text);
        RespConnection? kept = null;
        Tools.WaitUntil(() =>
        {
            var c = server.Connect();
            if (c.Call("PING").Text == "PONG") { kept = c; return true; }
            c.Dispose();
            return false;
        }, TimeSpan.FromSeconds(10), "a second client slot");
        using var second = kept!;
        using var third = server.Connect();
        Assert.Equal("-ERR max number of clients reached\r\n", Encoding.ASCII.GetString(third.ReadUntilClosed()));
        Assert.Equal("PONG", a.Call("PING").Text);
        second.Dispose();
        Tools.WaitUntil(() =>
        {
            try { using var again = server.Connect(); return again.Call("PING").Text == "PONG"; }
            catch (IOException) { return false; }
        }, TimeSpan.FromSeconds(10), "a freed client slot");
    }

    [Fact]
    public void Quit_replies_ok_and_closes()
    {
        using var server = ServerProcess.StartBasalt();
        using var c = server.Connect();
        c.SendRaw("*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n");
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(c.ReadUntilClosed()));
    }

    [Fact]
    public void Idle_client_is_closed_after_timeout()
    {
        using var server = ServerProcess.StartBasalt("--timeout", "1");
        using var idle = server.Connect();
        Assert.Equal("PONG", idle.Call("PING").Text);
        idle.ReceiveTimeoutMs = 10_000;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(idle.WaitClosed(), "idle client was not closed");
        Assert.InRange(sw.ElapsedMilliseconds, 500, 9_000);
    }

    [Fact]
    public void Unix_socket_works_with_redis_cli_and_tcp_together()
    {
        string sock = TempSocketPath();
        using var server = ServerProcess.StartBasalt("--unixsocket", sock);
        using var cleanup = new DeleteOnDispose(sock);
        var set = Tools.Run("redis-cli", ["-s", sock, "set", "net:unix", "via-unix"]);
        Assert.Equal("OK", set.StdOut.Trim());
        Assert.Equal("via-unix", server.Cli("get", "net:unix").Trim());
        using var u = server.ConnectUnix();
        Assert.Equal("via-unix", u.Call("GET", "net:unix").Text);
    }

    [Fact]
    public void Port_0_with_unixsocket_disables_tcp()
    {
        string sock = TempSocketPath();
        using var server = ServerProcess.StartBasalt("--port", "0", "--unixsocket", sock);
        Assert.Equal("PONG", Tools.Run("redis-cli", ["-s", sock, "ping"]).StdOut.Trim());
        Assert.ThrowsAny<System.Net.Sockets.SocketException>(() => new RespConnection("127.0.0.1", server.Port, 2000));
        using (var c = server.ConnectUnix()) c.Send("SHUTDOWN");
        Assert.Equal(0, server.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.False(File.Exists(sock), "unix socket file left behind after shutdown");
    }

    [Fact]
    public void Shutdown_command_exits_0_and_removes_pidfile()
    {
        string pid = Path.Combine(Path.GetTempPath(), $"basalt-{Guid.NewGuid():N}.pid");
        using var server = ServerProcess.StartBasalt("--pidfile", pid);
        Assert.Equal(server.Pid.ToString(), File.ReadAllText(pid).Trim());
        using var c = server.Connect();
        c.Send("SHUTDOWN", "NOSAVE");
        Assert.Equal(0, server.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.Contains("ready to exit, bye bye", server.Output);
        Assert.False(File.Exists(pid), "pidfile not removed");
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public void Signal_stops_the_server_with_exit_code_0(string signal)
    {
        using var server = ServerProcess.StartBasalt();
        using (var c = server.Connect()) Assert.Equal("OK", c.Call("SET", "net:sig", "1").Text);
        server.Signal(signal);
        Assert.Equal(0, server.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.Contains("ready to exit, bye bye", server.Output);
    }

    [Fact]
    public void Logfile_receives_the_log_instead_of_stdout()
    {
        string log = Path.Combine(Path.GetTempPath(), $"basalt-{Guid.NewGuid():N}.log");
        try
        {
            using var server = ServerProcess.StartBasalt("--logfile", log);
            Tools.WaitUntil(() => File.Exists(log) && File.ReadAllText(log).Contains("Ready to accept connections"), TimeSpan.FromSeconds(10), "log file content");
            server.Signal("TERM");
            Assert.Equal(0, server.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Contains("ready to exit, bye bye", File.ReadAllText(log));
            Assert.DoesNotContain("Ready to accept connections", server.Output);
        }
        finally { File.Delete(log); }
    }

    private sealed class DeleteOnDispose(string path) : IDisposable
    {
        public void Dispose() { try { File.Delete(path); } catch { } }
    }
}
