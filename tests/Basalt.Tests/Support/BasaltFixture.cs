namespace Basalt.Tests.Support;

/// <summary>One Basalt server shared by the tests of a class (xunit IClassFixture).</summary>
public sealed class BasaltFixture : IDisposable
{
    public ServerProcess Server { get; } = ServerProcess.StartBasalt("--enable-debug-command", "yes");
    public void Dispose() => Server.Dispose();
}

/// <summary>A Basalt server and a reference redis-server 7.0 side by side, for differential tests.</summary>
public sealed class DifferentialFixture : IDisposable
{
    public ServerProcess Basalt { get; } = ServerProcess.StartBasalt("--enable-debug-command", "yes");
    public ServerProcess Redis { get; } = ServerProcess.StartRedis("--enable-debug-command", "yes");
    public void Dispose()
    {
        Basalt.Dispose();
        Redis.Dispose();
    }
}
