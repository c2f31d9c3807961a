using System.Diagnostics;

namespace Basalt.Server.SentinelMode;

/// <summary>
/// notification-script / client-reconfig-script: queued (at most 256), at most 16 running, killed after 60 s,
/// retried with a growing delay when they exit with 1 or are killed (at most 10 times), as Redis does.
/// </summary>
public sealed partial class Sentinel
{
    public const int ScriptMaxQueue = 256, ScriptMaxRunning = 16, ScriptMaxRetry = 10;
    public const long ScriptMaxRuntime = 60_000, ScriptRetryDelay = 30_000;

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
                    int code = p.ExitCode;
                    p.Dispose();
                    job.Process = null;
                    if ((code == 1 || code > 128) && job.Retry < ScriptMaxRetry)
                    {
                        job.Retry++;
                        job.StartTime = now + ScriptRetryDelay * (1L << Math.Min(job.Retry - 1, 10));
                    }
                    else
                    {
                        if (code != 0) Event(LogLevel.Warning, "-script-error", null, $"{job.Path} 0 {code}");
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
            }
            catch (Exception ex)
            {
                Event(LogLevel.Warning, "-script-error", null, $"{job.Path} {ex.Message}");
                Scripts.Remove(job);
            }
        }
    }
}
