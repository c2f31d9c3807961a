using System.Diagnostics;

namespace Basalt.Server.SentinelMode;

/// <summary>
/// notification-script / client-reconfig-script: queued (at most 256), at most 16 running, killed after 60 s,
/// retried with a doubling delay when they exit with 1 or die by a signal (at most 10 runs), as Redis does.
/// </summary>
public sealed partial class Sentinel
{
    public const int ScriptMaxQueue = 256, ScriptMaxRunning = 16, ScriptMaxRetry = 10;
    public static long ScriptMaxRuntime = 60_000, ScriptRetryDelay = 30_000;

    public sealed class ScriptJob
    {
        public required string Path;
        public required string[] Args;
        public int Retry;
        public long StartTime;
        public Process? Process;
    }

    public readonly List<ScriptJob> Scripts = new();
    public int RunningScripts => Scripts.Count(j => j.Process is not null);

    private void ScheduleScript(string path, string[] args)
    {
        Scripts.Add(new ScriptJob { Path = path, Args = args });
        if (Scripts.Count > ScriptMaxQueue)
        {
            // Drop the oldest job that is not running.
            int i = Scripts.FindIndex(j => j.Process is null);
            if (i >= 0) Scripts.RemoveAt(i);
        }
    }

    private void CallClientReconfScript(SentinelInstance master, string role, string state, string fromIp, int fromPort, string toIp, int toPort)
    {
        if (master.ClientReconfigScript is null) return;
        ScheduleScript(master.ClientReconfigScript,
            [master.Name, role, state, fromIp, fromPort.ToString(), toIp, toPort.ToString()]);
    }

    private void RunScripts()
    {
        long now = Now;
        foreach (var job in Scripts.ToList())
        {
            if (job.Process is { } p)
            {
                if (p.HasExited)
                {
                    // .NET reports a death by signal N as 128+N; Redis's event names the signal and exit code 0.
                    int code = p.ExitCode, signal = 0;
                    if (code > 128) { signal = code - 128; code = 0; }
                    p.Dispose();
                    job.Process = null;
                    if ((signal != 0 || code == 1) && job.Retry != ScriptMaxRetry)
                    {
                        // Retry = runs so far: the n-th retry waits delay * 2^(n-1).
                        job.StartTime = now + ScriptRetryDelay * (1L << Math.Min(job.Retry - 1, 20));
                    }
                    else
                    {
                        if (signal != 0 || code != 0) Event(LogLevel.Warning, "-script-error", null, $"{job.Path} {signal} {code}");
                        Scripts.Remove(job);
                    }
                }
                else if (now - job.StartTime > ScriptMaxRuntime)
                {
                    Event(LogLevel.Warning, "-script-timeout", null, $"{job.Path} {p.Id}");
                    try { p.Kill(); } catch { }
                }
                continue;
            }
            if (RunningScripts >= ScriptMaxRunning) break;
            if (job.StartTime > now) continue;
            try
            {
                var psi = new ProcessStartInfo(job.Path) { UseShellExecute = false };
                foreach (var a in job.Args) psi.ArgumentList.Add(a);
                job.Process = Process.Start(psi);
                job.StartTime = now;
                job.Retry++;
            }
            catch (Exception)
            {
                // Redis's child exits with 2 when exec fails.
                Event(LogLevel.Warning, "-script-error", null, $"{job.Path} 0 2");
                Scripts.Remove(job);
            }
        }
    }
}
