using System.Text;
using Basalt.Server.Replication;

namespace Basalt.Tests.Replication;

/// <summary>Records the write stream as a sink would emit it (SELECT on db change, MULTI/EXEC around units).</summary>
internal sealed class StreamSink : IPropagationSink
{
    private int _db = -1;
    public readonly StringBuilder Stream = new();
    public PropagateTargets Want = PropagateTargets.All;

    public void Feed(PropagationUnit unit) => PropagationFrames.Emit(unit, Want, ref _db, Append);

    private void Append(ReadOnlySpan<byte> resp) => Stream.Append(Encoding.UTF8.GetString(resp));

    /// <summary>The stream as readable commands: "SET k v|GET ...".</summary>
    public string Commands()
    {
        var parts = new List<string>();
        var bytes = Encoding.UTF8.GetBytes(Stream.ToString());
        int pos = 0;
        while (pos < bytes.Length)
        {
            var v = Basalt.Protocol.RespValue.TryParse(bytes.AsSpan(pos), out int used) ?? throw new InvalidOperationException("partial");
            pos += used;
            parts.Add(string.Join(' ', v.Items!.Select(x => x.Text)));
        }
        return string.Join('|', parts);
    }
}

public class PropagatorTests
{
    private static (KeyInProcessHarness, StreamSink) Start()
    {
        var h = new KeyInProcessHarness();
        var sink = new StreamSink();
        h.Server.Propagator.AddSink(sink);
        return (h, sink);
    }

    [Fact]
    public void Writes_propagate_as_received_with_select_reads_and_noops_do_not()
    {
        var (h, sink) = Start();
        h.Call("SET", "a", "1");
        h.Call("GET", "a");
        h.Call("DEL", "missing");
        h.Call("INCR", "n");
        h.Call("SELECT", "3");
        h.Call("LPUSH", "l", "x", "y");
        Assert.Equal("SELECT 0|SET a 1|INCR n|SELECT 3|LPUSH l x y", sink.Commands());
        Assert.Contains("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n", sink.Stream.ToString());
    }

    [Fact]
    public void Exec_propagates_its_writes_as_one_transaction_and_a_single_write_bare()
    {
        var (h, sink) = Start();
        h.Call("MULTI"); h.Call("SET", "a", "1"); h.Call("GET", "a"); h.Call("INCR", "b"); h.Call("EXEC");
        h.Call("MULTI"); h.Call("SET", "c", "1"); h.Call("GET", "c"); h.Call("EXEC");
        h.Call("MULTI"); h.Call("GET", "c"); h.Call("EXEC");
        Assert.Equal("SELECT 0|MULTI|SET a 1|INCR b|EXEC|SET c 1", sink.Commands());
    }

    [Fact]
    public void Lazily_expired_keys_propagate_a_del_before_the_command()
    {
        var (h, sink) = Start();
        h.Call("SET", "k", "v");
        h.ExpireInPast("k");
        h.Call("GET", "k");
        Assert.Equal("SELECT 0|SET k v|DEL k", sink.Commands());
    }

    [Fact]
    public void Nothing_is_recorded_without_a_sink()
    {
        var h = new KeyInProcessHarness();
        Assert.False(h.Server.Propagator.Active);
        h.Call("SET", "a", "1");
        var sink = new StreamSink();
        h.Server.Propagator.AddSink(sink);
        h.Call("SET", "b", "2");
        Assert.Equal("SELECT 0|SET b 2", sink.Commands());
    }
}
