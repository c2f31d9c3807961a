namespace Basalt.Server;

/// <summary>The orderly stop: close listeners and clients, let persistence flush, remove the pid file, log "bye bye".</summary>
public static class Shutdown
{
    /// <summary>Hooks run before exit (persistence registers its final save here).</summary>
    public static event Func<RedisServer, bool>? BeforeExit;

    public static void Finish(RedisServer server, ServerCron cron)
    {
        Log.Warning("User requested shutdown...");
        cron.Stop();
        server.Listener?.Stop();
        BeforeExit?.Invoke(server);
        lock (server.ExecLock)
        {
            foreach (var c in server.Clients.All.ToList()) c.Connection?.Shutdown();
        }
        if (!string.IsNullOrEmpty(server.Config.PidFile))
        {
            Log.Notice("Removing the pid file.");
            try { File.Delete(server.Config.PidFile); } catch { }
        }
        Log.Warning("Basalt is now ready to exit, bye bye...");
    }
}
