using System.Buffers.Binary;
using System.Text;
using Basalt.Server.Persistence.Rdb;
using Basalt.Server.Persistence.Rdb.Encodings;
using static Basalt.Tests.Persistence.EncodingTestUtil;

namespace Basalt.Tests.Persistence;

/// <summary>Ziplist, zipmap and intset blobs (older RDB encodings) decode exactly and reject malformed input.</summary>
public class EncodingLegacyTests
{
    private static string[] Text(List<byte[]> items) => items.Select(Encoding.UTF8.GetString).ToArray();

    /// <summary>A ziplist writer written from the format description, to produce test blobs (strings only as given, integers as asked).</summary>
    private sealed class ZiplistWriter
    {
        private readonly MemoryStream _ms = new();
        private int _prev, _count, _lastStart = 10;

        public ZiplistWriter() => _ms.Write(new byte[10]);

        private void Entry(ReadOnlySpan<byte> encAndData)
        {
            _lastStart = (int)_ms.Length;
            int start = (int)_ms.Length;
            if (_prev < 254) _ms.WriteByte((byte)_prev);
            else { _ms.WriteByte(254); Span<byte> x = stackalloc byte[4]; BinaryPrimitives.WriteInt32LittleEndian(x, _prev); _ms.Write(x); }
            _ms.Write(encAndData);
            _prev = (int)_ms.Length - start;
            _count++;
        }

        public ZiplistWriter Str(string s) => Str(Encoding.UTF8.GetBytes(s));

        public ZiplistWriter Str(byte[] s)
        {
            var e = new List<byte>();
            if (s.Length < 64) e.Add((byte)s.Length);
            else if (s.Length < 16384) { e.Add((byte)(0x40 | (s.Length >> 8))); e.Add((byte)s.Length); }
            else { e.Add(0x80); var x = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(x, s.Length); e.AddRange(x); }
            e.AddRange(s);
            Entry(e.ToArray());
            return this;
        }

        public ZiplistWriter Int(long v, byte enc)
        {
            var e = new List<byte> { enc };
            var x = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(x, v);
            int n = enc switch { 0xC0 => 2, 0xD0 => 4, 0xE0 => 8, 0xF0 => 3, 0xFE => 1, _ => 0 };
            if (enc is >= 0xF1 and <= 0xFD) e[0] = (byte)(0xF1 + v);
            e.AddRange(x.Take(n));
            Entry(e.ToArray());
            return this;
        }

        public byte[] ToArray()
        {
            _ms.WriteByte(0xFF);
            var r = _ms.ToArray();
            BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)r.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), (uint)_lastStart);
            BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(8), (ushort)Math.Min(_count, 65535));
            return r;
        }
    }

    [Fact]
    public void Ziplist_of_two_small_integers_decodes()
    {
        // Two immediate-encoded integers, 2 and 5.
        Assert.Equal(["2", "5"], Text(Ziplist.Decode(Hex("0f0000000c0000000200" + "00f3" + "02f6" + "ff"))));
        Assert.Equal(["2", "5", "Hello World"],
            Text(Ziplist.Decode(Hex("1c0000000e0000000300" + "00f3" + "02f6" + "020b48656c6c6f20576f726c64" + "ff"))));
    }

    [Fact]
    public void Ziplist_every_encoding_and_a_big_prevlen_decode()
    {
        var big = new string('b', 300);
        var huge = new string('h', 20000);
        var blob = new ZiplistWriter()
            .Str("").Str("abc").Str(big).Str("after-big").Str(huge)
            .Int(-7, 0xFE).Int(12, 0xF1).Int(0, 0xF1).Int(-30000, 0xC0).Int(-8000000, 0xF0).Int(8388607, 0xF0)
            .Int(int.MinValue, 0xD0).Int(long.MaxValue, 0xE0).Int(long.MinValue, 0xE0)
            .ToArray();
        Assert.Equal(["", "abc", big, "after-big", huge, "-7", "12", "0", "-30000", "-8000000", "8388607",
            int.MinValue.ToString(), long.MaxValue.ToString(), long.MinValue.ToString()], Text(Ziplist.Decode(blob)));
    }

    [Fact]
    public void Empty_ziplist_decodes_to_nothing()
    {
        Assert.Empty(Ziplist.Decode(new ZiplistWriter().ToArray()));
    }

    [Theory]
    [InlineData("0f0000000c0000000300" + "00f3" + "02f6" + "ff")] // count 3
    [InlineData("0f0000000a0000000200" + "00f3" + "02f6" + "ff")] // tail points at the first entry
    [InlineData("0f0000000c0000000200" + "00f3" + "03f6" + "ff")] // wrong prevlen
    [InlineData("0f0000000c0000000200" + "00f3" + "02f6" + "fe")] // no end marker
    [InlineData("0f0000000c0000000200" + "00f3" + "02ff" + "ff")] // end marker as an encoding
    [InlineData("0f0000000c0000000200" + "00c1" + "02f6" + "ff")] // unknown integer encoding
    [InlineData("100000000c0000000200" + "00f3" + "02f6" + "ff")] // total bytes too big
    [InlineData("0f0000000c0000000200" + "003f" + "02f6" + "ff")] // string longer than the blob
    [InlineData("0f0000000c0000000200" + "0080" + "02f6" + "ff")] // 32-bit string length cut off
    public void Malformed_ziplists_throw_format_errors(string hex)
    {
        Assert.Throws<RdbFormatException>(() => Ziplist.Decode(Hex(hex)));
    }

    [Fact]
    public void Zipmap_with_free_space_decodes()
    {
        // count 2; "foo" => "bar"; "hello" => "world" followed by 2 free bytes; end.
        var blob = Hex("02" + "03666f6f" + "0300626172" + "0568656c6c6f" + "0502776f726c64" + "2121" + "ff");
        Assert.Equal(["foo", "bar", "hello", "world"], Text(Zipmap.Decode(blob)));
    }

    [Fact]
    public void Zipmap_with_a_five_byte_length_decodes()
    {
        var v = new string('v', 300);
        var ms = new MemoryStream();
        ms.WriteByte(1);
        ms.WriteByte(1); ms.WriteByte((byte)'k');
        ms.WriteByte(254); ms.Write(BitConverter.GetBytes(300)); ms.WriteByte(0); ms.Write(Encoding.ASCII.GetBytes(v));
        ms.WriteByte(0xFF);
        Assert.Equal(["k", v], Text(Zipmap.Decode(ms.ToArray())));
    }

    [Theory]
    [InlineData("01" + "03666f6f" + "0300626172")]            // no end marker
    [InlineData("02" + "03666f6f" + "0300626172" + "ff")]     // count 2, one pair
    [InlineData("01" + "03666f6f" + "ff")]                    // field without value
    [InlineData("01" + "03666f6f" + "0309626172" + "ff")]     // free space past the end
    [InlineData("01" + "09666f6f" + "0300626172" + "ff")]     // field length past the end
    [InlineData("01" + "03666f6f" + "0300626172" + "ff00")]   // bytes after the end
    public void Malformed_zipmaps_throw_format_errors(string hex)
    {
        Assert.Throws<RdbFormatException>(() => Zipmap.Decode(Hex(hex)));
    }

    // Intset blobs inside redis-server 7.0.15 DUMPs of SADD s 1 2 3 / 1 70000 / -1 5000000000.
    [Theory]
    [InlineData("0200000003000000010002000300", new long[] { 1, 2, 3 })]
    [InlineData("04000000020000000100000070110100", new long[] { 1, 70000 })]
    [InlineData("0800000002000000ffffffffffffffff00f2052a01000000", new long[] { -1, 5000000000 })]
    public void Intset_encodes_and_decodes_like_redis(string hex, long[] values)
    {
        Assert.Equal(values, Intset.Decode(Hex(hex)));
        Assert.Equal(hex, Convert.ToHexString(Intset.Encode(values)).ToLowerInvariant());
    }

    [Fact]
    public void Intset_picks_the_narrowest_width_for_the_extremes()
    {
        Assert.Equal(2, Intset.Encode([short.MinValue, short.MaxValue])[0]);
        Assert.Equal(4, Intset.Encode([short.MinValue - 1, 5])[0]);
        Assert.Equal(4, Intset.Encode([int.MinValue, int.MaxValue])[0]);
        Assert.Equal(8, Intset.Encode([0, int.MaxValue + 1L])[0]);
        Assert.Equal(new long[] { long.MinValue, 0, long.MaxValue }, Intset.Decode(Intset.Encode([long.MinValue, 0, long.MaxValue])));
    }

    [Theory]
    [InlineData("030000000100000001")]                       // bad encoding
    [InlineData("02000000030000000100020003")]               // length says more than present
    [InlineData("020000000200000001000200ff")]               // trailing byte
    [InlineData("02000000020000000200010000")]               // not sorted
    [InlineData("02000000020000000100")]                     // truncated
    [InlineData("020000000200000001000100")]                 // duplicate
    [InlineData("020000")]                                   // shorter than the header
    [InlineData("02000000ffffffff")]                         // huge length, no data
    public void Malformed_intsets_throw_format_errors(string hex)
    {
        Assert.Throws<RdbFormatException>(() => Intset.Decode(Hex(hex)));
    }

    [Fact]
    public void Fuzzed_legacy_blobs_only_ever_throw_format_errors()
    {
        var zl = new ZiplistWriter().Str("abc").Str(new string('x', 300)).Int(-30000, 0xC0).Int(3, 0xF1).Int(long.MaxValue, 0xE0).Str("z").ToArray();
        var zm = Hex("02" + "03666f6f" + "0300626172" + "0568656c6c6f" + "0502776f726c64" + "2121" + "ff");
        var iset = Intset.Encode([-5, 1, 70000, 9000000]);
        var r1 = Fuzz(zl, b => Ziplist.Decode(b), 3000, 1);
        var r2 = Fuzz(zm, b => Zipmap.Decode(b), 3000, 2);
        var r3 = Fuzz(iset, b => Intset.Decode(b), 3000, 3);
        Assert.True(r1.Rejected > 1000 && r2.Rejected > 500 && r3.Rejected > 500, $"{r1} {r2} {r3}");
    }
}
