using System.Globalization;
using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>After heavy writing the server gives the load's garbage back once it goes quiet, without MEMORY PURGE.</summary>
public class IdleMemoryTrimTests
{
    private static long RssKb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        throw new InvalidOperationException("no VmRSS");
    }

    [Fact]
    public void Quiet_server_returns_the_garbage_of_a_load()
    {
        using var s = ServerProcess.StartBasalt("--loglevel", "verbose");
        using var c = s.Connect();
        // 300k small hashes, five fields each in one HSET: every field grows the listpack, leaving garbage behind.
        const int keys = 300_000, batch = 2000;
        for (int start = 0; start < keys; start += batch)
        {
            var sb = new StringBuilder();
            for (int i = start; i < start + batch; i++)
            {
                string k = "h:" + i;
                sb.Append("*12\r\n$4\r\nHSET\r\n$").Append(k.Length).Append("\r\n").Append(k).Append("\r\n");
                foreach (var (f, v) in new[] { ("f1", "v" + i % 1000), ("f2", "abc"), ("f3", (i % 97).ToString(CultureInfo.InvariantCulture)), ("f4", "x"), ("f5", "hello") })
                    sb.Append("$2\r\n").Append(f).Append("\r\n$").Append(v.Length).Append("\r\n").Append(v).Append("\r\n");
            }
            c.SendRaw(sb.ToString());
            for (int i = 0; i < batch; i++) Assert.Equal(":5\r\n", Encoding.UTF8.GetString(c.ReadRaw()));
        }
        long rssAfterLoad = RssKb(s.Pid);
        // No command for two seconds: the cron trims once (polled: the log line says it ran).
        Tools.WaitUntil(() => s.Output.Contains("Idle memory trim: GC heap committed"), TimeSpan.FromSeconds(30), "the trim's log line\n" + s.Output);
        long rssAfterTrim = RssKb(s.Pid);
        Assert.True(rssAfterTrim < rssAfterLoad, $"RSS {rssAfterLoad} kB after the load, {rssAfterTrim} kB after the trim");
        // The data is intact, and the trim ran once: no new writes, no second trim.
        Assert.Equal(keys, c.Call("DBSIZE").Integer);
        Assert.Equal("v999", c.Call("HGET", "h:999", "f1").Text);
        Thread.Sleep(2500); // a further quiet period; the assertion below is about absence, so it cannot be polled
        Assert.Equal(1, s.Output.Split("Idle memory trim:").Length - 1);
    }
}
