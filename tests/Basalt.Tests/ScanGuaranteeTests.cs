using Basalt.Tests.Support;

namespace Basalt.Tests;

public class ScanGuaranteeTests : IClassFixture<BasaltFixture>
{
    private readonly ServerProcess _server;
    public ScanGuaranteeTests(BasaltFixture f) => _server = f.Server;

    /// <summary>Sends many commands before reading the replies (fast setup without one round trip each).</summary>
    private static void Pipeline(RespConnection c, IEnumerable<object[]> commands)
    {
        int n = 0;
        foreach (var cmd in commands) { c.Send(cmd); n++; }
        for (int i = 0; i < n; i++) Assert.False(c.Read().IsError);
    }

    [Fact]
    public void Every_key_present_throughout_is_returned_while_others_are_added_and_deleted()
    {
        using var c = _server.Connect();
        c.Call("SELECT", "4");
        c.Call("FLUSHDB");
        // Interleave stable and transient keys so deleting transients frees slots between stable ones.
        var stable = new HashSet<string>();
        var transient = new Queue<string>();
        Pipeline(c, Enumerable.Range(0, 3000).Select(i =>
        {
            string k = i % 2 == 0 ? "sg:stable:" + i : "sg:tmp:" + i;
            if (i % 2 == 0) stable.Add(k); else transient.Enqueue(k);
            return new object[] { "SET", k, "v" };
        }));

        var seen = new HashSet<string>();
        string cursor = "0";
        int calls = 0, added = 0;
        do
        {
            var reply = c.Call("SCAN", cursor, "COUNT", "40");
            cursor = reply.Items![0].Text!;
            foreach (var k in reply.Items[1].Items!) seen.Add(k.Text!);
            // Churn between calls: delete old transients (their slots get reused) and add new keys.
            var churn = new List<object[]>();
            for (int d = 0; d < 25 && transient.Count > 0; d++) churn.Add(["DEL", transient.Dequeue()]);
            for (int a = 0; a < 30; a++)
            {
                string k = "sg:new:" + added++;
                transient.Enqueue(k);
                churn.Add(["SET", k, "v"]);
            }
            Pipeline(c, churn);
            Assert.True(++calls < 5000, "scan did not terminate");
        } while (cursor != "0");

        var missing = stable.Where(k => !seen.Contains(k)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} stable keys never returned, e.g. {missing.FirstOrDefault()}");
        Assert.Equal(1500, c.Call(["EXISTS", .. stable.Take(1500)]).Integer);
        c.Call("FLUSHDB");
    }

    [Fact]
    public void Scan_without_changes_returns_each_key_exactly_once()
    {
        using var c = _server.Connect();
        c.Call("SELECT", "5");
        c.Call("FLUSHDB");
        Pipeline(c, Enumerable.Range(0, 500).Select(i => new object[] { "SET", "once:" + i, "v" }));
        var all = new List<string>();
        string cursor = "0";
        do
        {
            var reply = c.Call("SCAN", cursor, "COUNT", "33");
            cursor = reply.Items![0].Text!;
            Assert.True(reply.Items[1].Items!.Length <= 33);
            all.AddRange(reply.Items[1].Items!.Select(i => i.Text!));
        } while (cursor != "0");
        Assert.Equal(500, all.Count);
        Assert.Equal(500, all.Distinct().Count());
        c.Call("FLUSHDB");
    }

    [Fact]
    public void Cursor_past_the_end_finishes_the_scan()
    {
        using var c = _server.Connect();
        c.Call("SELECT", "3");
        c.Call("SET", "pe:k", "v");
        var reply = c.Call("SCAN", "99999999");
        Assert.Equal("0", reply.Items![0].Text);
        Assert.Empty(reply.Items[1].Items!);
        Assert.Equal("ERR invalid cursor", c.Call("SCAN", "-x").Text);
    }
}
