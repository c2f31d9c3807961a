using System.Text;
using Basalt.Protocol;
using Basalt.Server.Types;

namespace Basalt.Tests;

/// <summary>The packed-node list against a plain List model, across node boundaries and fill settings.</summary>
public class ListTypeTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static List<string> Contents(RedisList l)
    {
        var res = new List<string>();
        var c = l.Iterate(reverse: false);
        while (c.Next(out var v)) res.Add(Encoding.UTF8.GetString(v));
        return res;
    }

    private static List<string> ContentsReversed(RedisList l)
    {
        var res = new List<string>();
        var c = l.Iterate(reverse: true);
        while (c.Next(out var v)) res.Add(Encoding.UTF8.GetString(v));
        res.Reverse();
        return res;
    }

    [Theory]
    [InlineData(-2)]
    [InlineData(-1)]
    [InlineData(4)]
    [InlineData(1)]
    public void Random_operations_match_a_reference_list(int fill)
    {
        var rng = new Random(1234 + fill);
        var list = new RedisList();
        var model = new List<string>();
        for (int step = 0; step < 4000; step++)
        {
            int op = rng.Next(10);
            // Mostly short values, sometimes long ones (multi-byte varints, nodes holding one big element).
            string val = rng.Next(20) == 0 ? new string((char)('a' + rng.Next(26)), rng.Next(100, 9000)) : "v" + rng.Next(50);
            switch (op)
            {
                case 0: case 1: list.PushHead(B(val), fill); model.Insert(0, val); break;
                case 2: case 3: list.PushTail(B(val), fill); model.Add(val); break;
                case 4:
                    if (model.Count > 0) { Assert.Equal(model[0], Encoding.UTF8.GetString(list.PopHead())); model.RemoveAt(0); }
                    break;
                case 5:
                    if (model.Count > 0) { Assert.Equal(model[^1], Encoding.UTF8.GetString(list.PopTail())); model.RemoveAt(model.Count - 1); }
                    break;
                case 6:
                    if (model.Count > 0) { int i = rng.Next(model.Count); list.Set(i, B(val), fill); model[i] = val; }
                    break;
                case 7:
                {
                    string pivot = "v" + rng.Next(50);
                    bool after = rng.Next(2) == 0;
                    int at = model.IndexOf(pivot);
                    Assert.Equal(at >= 0, list.Insert(B(pivot), after, B(val), fill));
                    if (at >= 0) model.Insert(after ? at + 1 : at, val);
                    break;
                }
                case 8:
                {
                    string target = "v" + rng.Next(50);
                    int count = rng.Next(-2, 3);
                    long removed = list.Remove(B(target), count);
                    long expect = 0;
                    if (count >= 0)
                    {
                        for (int i = 0; i < model.Count && (count == 0 || expect < count);)
                            if (model[i] == target) { model.RemoveAt(i); expect++; } else i++;
                    }
                    else
                    {
                        for (int i = model.Count - 1; i >= 0 && expect < -count; i--)
                            if (model[i] == target) { model.RemoveAt(i); expect++; }
                    }
                    Assert.Equal(expect, removed);
                    break;
                }
                case 9:
                    if (rng.Next(10) == 0 && model.Count > 2)
                    {
                        int h = rng.Next(model.Count / 2), t = rng.Next(model.Count / 2);
                        list.RemoveHead(h); list.RemoveTail(t);
                        model.RemoveRange(0, h); model.RemoveRange(model.Count - t, t);
                    }
                    else if (model.Count > 0)
                    {
                        int i = rng.Next(model.Count);
                        Assert.Equal(model[i], Encoding.UTF8.GetString(list.Get(i)));
                    }
                    break;
            }
            Assert.Equal(model.Count, list.Count);
            if (step % 200 == 0)
            {
                Assert.Equal(model, Contents(list));
                Assert.Equal(model, ContentsReversed(list));
            }
        }
        Assert.Equal(model, Contents(list));
        var clone = (RedisList)list.Clone();
        Assert.Equal(model, Contents(clone));
    }

    [Fact]
    public void Small_list_is_one_node_and_big_list_splits_by_the_fill_limit()
    {
        var small = new RedisList();
        for (int i = 0; i < 129; i++) small.PushTail(B("item" + i), -2);
        Assert.Equal(1, small.NodeCount);
        Assert.Equal("quicklist", small.Encoding);

        var big = new RedisList();
        for (int i = 0; i < 3000; i++) big.PushTail(B("element-" + i), -2);
        Assert.True(big.NodeCount > 1);

        var counted = new RedisList();
        for (int i = 0; i < 10; i++) counted.PushTail(B("x"), 3);
        Assert.Equal(4, counted.NodeCount);

        var huge = new RedisList();
        huge.PushTail(new byte[10_000], -2);
        huge.PushTail(B("a"), -2);
        Assert.Equal(2, huge.NodeCount);
    }

    [Fact]
    public void Write_range_emits_bulk_strings_across_nodes()
    {
        var list = new RedisList();
        for (int i = 0; i < 500; i++) list.PushTail(B(i.ToString()), 7);
        var w = new RespWriter(1024);
        list.WriteRange(w, 98, 4);
        Assert.Equal("$2\r\n98\r\n$2\r\n99\r\n$3\r\n100\r\n$3\r\n101\r\n", Encoding.ASCII.GetString(w.WrittenSpan));
    }
}
