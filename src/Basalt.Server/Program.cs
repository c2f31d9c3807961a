using System.Runtime.InteropServices;
using Basalt.Server;
using Basalt.Server.Config;
using Basalt.Server.Networking;

// Run socket continuations on the socket engine's thread: measured to remove most thread hops
// (see docs/ARCHITECTURE.md). Must be set before the first socket is created.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

return ServerMain.Run(args);

namespace Basalt.Server
{
    public static class ServerMain
    {
        public const string BasaltVersion = "0.1.0";
        /// <summary>The Redis version whose behaviour Basalt matches (INFO redis_version).</summary>
        public const string RedisVersion = "7.0.15";

        public static int Run(string[] args)
        {
            // Sentinel mode as redis-server: --sentinel anywhere, or started as basalt-sentinel.
            bool sentinelMode = args.Contains("--sentinel") || Environment.GetEnvironmentVariable("BASALT_SENTINEL") == "1";
            if (sentinelMode) args = args.Where(a => a != "--sentinel").ToArray();
            var parsed = CommandLine.Parse(args, sentinelMode);
            if (parsed.ExitCode is int code) return code;
            var config = parsed.Config!;

            Log.Level = ParseLevel(config.LogLevel);
            if (!string.IsNullOrEmpty(config.LogFile)) Log.SetFile(config.LogFile);
            if (!string.IsNullOrEmpty(config.Dir))
            {
                try { Directory.SetCurrentDirectory(config.Dir); }
                catch (Exception ex)
                {
                    Log.Warning($"Can't chdir to '{config.Dir}': {ex.Message}");
                    return 1;
                }
            }
            config.SetRaw("dir", Directory.GetCurrentDirectory());

            Log.Role = 'C';
            Log.Warning("oO0OoO0OoO0Oo Basalt is starting oO0OoO0OoO0Oo");
            Log.Warning($"Basalt version={BasaltVersion}, redis_version={RedisVersion}, bits=64, pid={Log.Pid}, just started");
            Log.Warning(parsed.ConfigFile is null
                ? "Warning: no config file specified, using the default config. In order to specify a config file use basalt-server /path/to/redis.conf"
                : "Configuration loaded");

            Log.Role = 'M';
            var server = new RedisServer(config);
            // Handlers and the pid file come before the first accepted client, so a client that sees the server
            // up can rely on both (a signal sent right after the first PONG must still shut down cleanly).
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => OnSignal(ctx, server, "SIGTERM"));
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => OnSignal(ctx, server, "SIGINT"));
            if (sentinelMode)
            {
                Log.Role = 'X';
                Commands.SentinelCommands.Install(server.Commands);
                if (!SentinelMode.Sentinel.Start(server)) return 1;
            }
            else
            {
                // The dataset loads after the listener opens, as in Redis: clients connecting meanwhile get -LOADING
                // (a Sentinel sees a live master that is loading) rather than a refused connection.
                lock (server.ExecLock) server.Loading.Begin(0, async: false);
            }
            Shutdown.BeforeExit += s =>
            {
                // SIGTERM/SIGINT: the final save when save points are configured (SHUTDOWN decided already otherwise).
                // Never while loading: it would overwrite the file with part of its data.
                if (sentinelMode || s.ShutdownSaveHandled || s.Config.SavePoints.Count == 0 || s.Loading.Loading) return true;
                lock (s.ExecLock)
                {
                    if (s.Rdb.BgsaveInProgress) s.Snapshot.Cancel();
                    Log.Notice("Saving the final RDB snapshot before exiting.");
                    return s.Rdb.SaveBlocking();
                }
            };
            var listener = new Listener(server);
            server.Listener = listener;
            WritePidFile(config);
            try
            {
                listener.Start();
            }
            catch (Exception ex)
            {
                Log.Warning(ex.Message);
                Log.Warning("Failed listening on port " + config.Port + " (TCP), aborting.");
                if (!string.IsNullOrEmpty(config.PidFile)) try { File.Delete(config.PidFile); } catch { }
                return 1;
            }
            Log.Notice($"Running mode={(sentinelMode ? "sentinel" : "standalone")}, port={config.Port}.");
            Log.Warning("Server initialized");
            var cron = new ServerCron(server);
            if (!sentinelMode)
            {
                // Loading runs on its own thread so a SHUTDOWN or a signal meanwhile is served (without a final save).
                var load = Task.Factory.StartNew(() => LoadDataset(server), TaskCreationOptions.LongRunning);
                if (Task.WaitAny(load, server.ShutdownRequested.Task) == 1)
                {
                    int shutdownExit = server.ShutdownRequested.Task.Result;
                    Shutdown.Finish(server, cron);
                    return shutdownExit;
                }
                if (!load.Result)
                {
                    listener.Stop();
                    if (!string.IsNullOrEmpty(config.PidFile)) try { File.Delete(config.PidFile); } catch { }
                    return 1;
                }
            }
            cron.Tick += s => s.Dispatcher.Introspection.CronTick();
            cron.Tick += s => { lock (s.ExecLock) s.Rdb.Cron(); };
            cron.Tick += s => s.Aof.Cron();
            if (!sentinelMode)
            {
                var trim = new Introspection.IdleMemoryTrim(server);
                cron.Tick += _ => trim.Tick();
            }
            cron.Start();
            if (!sentinelMode)
            {
                // Clients are let in once the replication history is restored (INFO must not show it missing).
                server.Replicator.Start(cron, letClientsIn: () => server.Loading.End());
            }
            Log.Notice("Ready to accept connections");

            int exit = server.ShutdownRequested.Task.GetAwaiter().GetResult();
            Shutdown.Finish(server, cron);
            return exit;
        }

        /// <summary>
        /// On the loading thread: the AOF when appendonly is yes (the RDB file is ignored then, as in Redis), else the
        /// RDB file; then the AOF opens for appending (clients are let in by the caller). False when the server must exit.
        /// </summary>
        private static bool LoadDataset(RedisServer server)
        {
            try
            {
                if (!Persistence.Aof.AofLoader.TryLoad(server) && !server.Rdb.LoadAtStartup()) return false;
                lock (server.ExecLock)
                {
                    // Before the first client write, so the AOF misses none.
                    server.Aof.OpenOnStartup();
                }
                return true;
            }
            catch (Persistence.Aof.AofFatalException) { return false; }
        }

        private static void OnSignal(PosixSignalContext ctx, RedisServer server, string name)
        {
            ctx.Cancel = true;
            if (server.Loading.Loading)
            {
                Log.Warning("Received shutdown signal during loading, scheduling shutdown.");
                server.ShutdownRequested.TrySetResult(0);
                return;
            }
            Log.Warning($"Received {name} scheduling shutdown...");
            server.ShutdownRequested.TrySetResult(0);
        }

        private static void WritePidFile(ServerConfig config)
        {
            if (string.IsNullOrEmpty(config.PidFile)) return;
            try { File.WriteAllText(config.PidFile, Log.Pid + "\n"); }
            catch (Exception ex) { Log.Warning($"Failed to write PID file: {ex.Message}"); }
        }

        public static LogLevel ParseLevel(string s) => s switch
        {
            "debug" => LogLevel.Debug,
            "verbose" => LogLevel.Verbose,
            "warning" => LogLevel.Warning,
            "nothing" => LogLevel.Nothing,
            _ => LogLevel.Notice,
        };
    }
}
