using System.Text;
using Basalt.Server.Persistence.Rdb;

namespace Basalt.Tests.Persistence;

/// <summary>In-process checks of the RDB primitives: CRC64, LZF, length and string encodings.</summary>
public class RdbCodecTests
{
    [Fact]
    public void Crc64_matches_the_jones_check_value()
    {
        Assert.Equal(0xe9c6d914c4b8d9caUL, Crc64.Compute("123456789"u8));
        // Incremental updates agree with one pass (slicing path and byte path).
        var data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        ulong split = Crc64.Update(Crc64.Update(0, data.AsSpan(0, 13)), data.AsSpan(13));
        Assert.Equal(Crc64.Compute(data), split);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(50)]
    [InlineData(5000)]
    [InlineData(100000)]
    public void Lzf_round_trips(int size)
    {
        var rnd = new Random(size);
        var data = new byte[size];
        for (int i = 0; i < size; i++) data[i] = (byte)(rnd.Next(4) == 0 ? rnd.Next(256) : 'a' + (i % 13));
        var packed = new byte[size + 64];
        int n = Lzf.Compress(data, packed);
        if (size == 0) { Assert.Equal(0, n); return; }
        Assert.True(n > 0);
        var back = new byte[size];
        Assert.Equal(size, Lzf.Decompress(packed.AsSpan(0, n), back));
        Assert.Equal(data, back);
    }

    [Fact]
    public void Lzf_decompress_rejects_references_before_the_start_and_overflow()
    {
        var outp = new byte[10];
        Assert.Equal(-1, Lzf.Decompress(new byte[] { 0x20, 0x05 }, outp));        // back-ref with nothing written
        Assert.Equal(-1, Lzf.Decompress(new byte[] { 0x05, 1, 2 }, outp));         // literal run past input end
        Assert.Equal(-1, Lzf.Decompress(new byte[] { 0x00, 1, 0xE0, 0xFF, 0x00 }, outp)); // match longer than output
    }

    private static byte[] Write(Action<RdbOutput> f, bool compress = true)
    {
        var ms = new MemoryStream();
        var o = new RdbOutput(ms, compress);
        f(o);
        o.Flush();
        return ms.ToArray();
    }

    [Theory]
    [InlineData(0UL, 1)]
    [InlineData(63UL, 1)]
    [InlineData(64UL, 2)]
    [InlineData(16383UL, 2)]
    [InlineData(16384UL, 5)]
    [InlineData(0xFFFFFFFFUL, 5)]
    [InlineData(0x100000000UL, 9)]
    public void Lengths_use_the_narrowest_encoding_and_read_back(ulong len, int size)
    {
        var bytes = Write(o => o.WriteLength(len));
        Assert.Equal(size, bytes.Length);
        Assert.Equal(len, new RdbInput(bytes, 0, bytes.Length).ReadLength(out bool enc));
        Assert.False(enc);
    }

    [Theory]
    [InlineData("0", new byte[] { 0xC0, 0 })]
    [InlineData("-128", new byte[] { 0xC0, 0x80 })]
    [InlineData("300", new byte[] { 0xC1, 0x2C, 0x01 })]
    [InlineData("-2147483648", new byte[] { 0xC2, 0, 0, 0, 0x80 })]
    [InlineData("2147483648", new byte[] { 10, (byte)'2', (byte)'1', (byte)'4', (byte)'7', (byte)'4', (byte)'8', (byte)'3', (byte)'6', (byte)'4', (byte)'8' })]
    [InlineData("007", new byte[] { 3, (byte)'0', (byte)'0', (byte)'7' })]
    [InlineData("-0", new byte[] { 2, (byte)'-', (byte)'0' })]
    public void Integer_strings_are_encoded_like_redis(string s, byte[] expected)
    {
        var bytes = Write(o => o.WriteString(Encoding.ASCII.GetBytes(s)));
        Assert.Equal(expected, bytes);
        Assert.Equal(s, Encoding.ASCII.GetString(new RdbInput(bytes, 0, bytes.Length).ReadString()));
    }

    [Fact]
    public void Long_repetitive_strings_are_lzf_compressed_only_when_enabled()
    {
        var s = Encoding.ASCII.GetBytes(new string('x', 1000));
        var packed = Write(o => o.WriteString(s));
        Assert.Equal(0xC3, packed[0]);
        Assert.True(packed.Length < 50);
        Assert.Equal(s, new RdbInput(packed, 0, packed.Length).ReadString());
        var raw = Write(o => o.WriteString(s), compress: false);
        Assert.Equal(1000 + 2, raw.Length);
        Assert.Equal(s, new RdbInput(raw, 0, raw.Length).ReadString());
    }

    [Fact]
    public void Stream_input_and_output_track_crc_and_positions()
    {
        var bytes = Write(o => { for (int i = 0; i < 20000; i++) o.WriteString(Encoding.ASCII.GetBytes("k" + i)); });
        var inp = new RdbInput(new MemoryStream(bytes));
        for (int i = 0; i < 20000; i++) Assert.Equal("k" + i, Encoding.ASCII.GetString(inp.ReadString()));
        Assert.Equal(bytes.Length, inp.Position);
        Assert.Equal(Crc64.Compute(bytes), inp.Crc);
        Assert.Throws<RdbFormatException>(() => inp.ReadByte());
    }

    [Fact]
    public void Corrupt_lengths_fail_without_huge_allocations()
    {
        byte[] huge = [0x81, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2];
        Assert.Throws<RdbFormatException>(() => new RdbInput(huge, 0, huge.Length).ReadString());
        Assert.Throws<RdbFormatException>(() => new RdbInput(new MemoryStream(huge)).ReadString());
        byte[] lzf = [0xC3, 0x02, 0x80, 0x40, 0, 0, 0, 0x00, 0x41];
        Assert.Throws<RdbFormatException>(() => new RdbInput(lzf, 0, lzf.Length).ReadString());
        byte[] count = [0x80, 0, 0, 1, 0, 1];
        Assert.Throws<RdbFormatException>(() => new RdbInput(count, 0, count.Length).ReadCount());
    }

    [Fact]
    public void Doubles_binary_and_text()
    {
        var bytes = Write(o => o.WriteBinaryDouble(-1.5));
        Assert.Equal(-1.5, new RdbInput(bytes, 0, 8).ReadBinaryDouble());
        byte[] text = [3, (byte)'1', (byte)'.', (byte)'5', 253, 254, 255];
        var inp = new RdbInput(text, 0, text.Length);
        Assert.Equal(1.5, inp.ReadTextDouble());
        Assert.True(double.IsNaN(inp.ReadTextDouble()));
        Assert.Equal(double.PositiveInfinity, inp.ReadTextDouble());
        Assert.Equal(double.NegativeInfinity, inp.ReadTextDouble());
    }

    /// <summary>A socket-like stream: no length, no seeking, short reads.</summary>
    private sealed class NonSeekable(byte[] data) : Stream
    {
        private int _pos;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 7000), data.Length - _pos);
            Array.Copy(data, _pos, buffer, offset, n);
            _pos += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void Unseekable_input_reads_long_strings_and_rejects_lying_lengths_without_allocating_them()
    {
        var big = Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 31 % 251)).ToArray();
        var bytes = Write(o => { o.WriteString(big); o.WriteString("tail"u8); }, compress: false);
        var inp = new RdbInput(new NonSeekable(bytes));
        Assert.Equal(big, inp.ReadString());
        Assert.Equal("tail"u8.ToArray(), inp.ReadString());
        Assert.Equal(bytes.Length, inp.Position);
        Assert.Equal(Crc64.Compute(bytes), inp.Crc);

        // Claims 400 MB, holds 10 bytes: fails at the end of the data, having buffered at most one chunk.
        byte[] lie = [0x80, 0x18, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<RdbFormatException>(() => new RdbInput(new NonSeekable(lie)).ReadString());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
    }
}
