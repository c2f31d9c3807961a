using System.Text;
using Basalt.Server.Commands;
using Basalt.Server.Replication;

namespace Basalt.Tests.Persistence;

/// <summary>RESTORE's propagated form (absolute TTL + ABSTTL; DEL for a replaced key that arrives expired).</summary>
public class DumpRestoreInProcessTests
{
    private sealed class Recorder : IPropagationSink
    {
        public readonly List<string> Ops = new();
        public void Feed(PropagationUnit unit)
        {
            for (int i = 0; i < unit.Count; i++) Ops.Add(Encoding.Latin1.GetString(unit.Command(i)));
        }
    }

    private static string Resp(params string[] args) =>
        $"*{args.Length}\r\n" + string.Concat(args.Select(a => $"${Encoding.Latin1.GetByteCount(a)}\r\n{a}\r\n"));

    [Fact]
    public void Relative_ttl_propagates_as_absolute_with_absttl_and_expired_replace_as_del()
    {
        var s = new RdbInProcessServer();
        var rec = new Recorder();
        s.Server.Propagator.AddSink(rec);
        var payload = DumpRestoreCommands.CreatePayload("v"u8.ToArray(), compress: true);
        string p = Encoding.Latin1.GetString(payload);

        Assert.Equal("OK", s.Call("RESTORE", "k", "100000", payload).Text);
        long at = s.Server.Databases[0].GetExpire("k"u8);
        Assert.Equal([Resp("RESTORE", "k", at.ToString(), p, "ABSTTL")], rec.Ops);

        rec.Ops.Clear();
        Assert.Equal("OK", s.Call("RESTORE", "k2", "0", payload, "IDLETIME", "5").Text);
        Assert.Equal([Resp("RESTORE", "k2", "0", p, "IDLETIME", "5")], rec.Ops);

        rec.Ops.Clear();
        Assert.Equal("OK", s.Call("RESTORE", "k", "1", payload, "ABSTTL", "REPLACE").Text);
        Assert.Equal(0, s.Call("EXISTS", "k").Integer);
        Assert.Equal([Resp("DEL", "k")], rec.Ops);

        rec.Ops.Clear();
        Assert.Equal("OK", s.Call("RESTORE", "k", "1", payload, "ABSTTL").Text);  // nothing created, nothing sent
        Assert.Empty(rec.Ops);
    }

    [Fact]
    public void Dump_then_restore_round_trips_in_process_with_idle_time()
    {
        var s = new RdbInProcessServer();
        s.Call("RPUSH", "l", "a", "b", "c");
        var payload = s.Call("DUMP", "l").Bytes!;
        Assert.Equal("OK", s.Call("RESTORE", "l2", "0", payload, "IDLETIME", "1000").Text);
        Assert.InRange(s.Call("OBJECT", "IDLETIME", "l2").Integer, 1000, 1005);
        Assert.Equal("[a, b, c]", s.Call("LRANGE", "l2", "0", "-1").ToString());
    }
}
