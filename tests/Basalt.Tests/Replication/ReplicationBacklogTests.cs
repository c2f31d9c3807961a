using Basalt.Server.Replication;

namespace Basalt.Tests.Replication;

public class ReplicationBacklogTests
{
    private static byte[] Read(ReplicationBacklog b, long from)
    {
        var ms = new MemoryStream();
        b.CopyFrom(from, m => ms.Write(m.Span));
        return ms.ToArray();
    }

    [Fact]
    public void Backlog_keeps_the_newest_bytes_addressed_by_stream_offset()
    {
        var b = new ReplicationBacklog(16 * 1024, 100);
        Assert.Equal(101, b.FirstByteOffset);
        Assert.True(b.CanServe(101));
        Assert.False(b.CanServe(102));
        var data = new byte[40_000];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 7);
        b.Append(data.AsSpan(0, 10_000));
        b.Append(data.AsSpan(10_000, 30_000)); // wraps and drops the oldest bytes
        Assert.Equal(40_100, b.Offset);
        Assert.Equal(16 * 1024, b.HistLen);
        long first = b.FirstByteOffset;
        Assert.Equal(40_100 - 16 * 1024 + 1, first);
        Assert.False(b.CanServe(first - 1));
        Assert.True(b.CanServe(first));
        Assert.True(b.CanServe(b.Offset + 1));
        Assert.False(b.CanServe(b.Offset + 2));
        Assert.Equal(data.AsSpan((int)(first - 101)).ToArray(), Read(b, first));
        Assert.Equal(data.AsSpan(40_000 - 5).ToArray(), Read(b, b.Offset - 4));
        Assert.Empty(Read(b, b.Offset + 1));

        b.Resize(20_000); // grows: keeps everything it had
        Assert.Equal(16 * 1024, b.HistLen);
        Assert.Equal(data.AsSpan((int)(first - 101)).ToArray(), Read(b, first));
        b.Append(data.AsSpan(0, 1000));
        Assert.Equal(data.AsSpan(0, 1000).ToArray(), Read(b, b.Offset - 999));
    }
}
