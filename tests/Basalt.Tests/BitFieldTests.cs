using Basalt.Server.Types;

namespace Basalt.Tests;

public class BitFieldTests
{
    [Fact]
    public void Fields_are_read_and_written_most_significant_bit_first()
    {
        var buf = new byte[3];
        BitField.Set(buf, 4, 8, 0xAB);
        Assert.Equal(new byte[] { 0x0A, 0xB0, 0x00 }, buf);
        Assert.Equal(0xABUL, BitField.GetUnsigned(buf, 4, 8));
        Assert.Equal(-85L, BitField.GetSigned(buf, 4, 8));
        Assert.Equal(0UL, BitField.GetUnsigned(buf, 20, 16)); // past the end reads zeros
    }

    [Theory]
    [InlineData(100L, 100L, 8, BitFieldOverflow.Wrap, 1, -56L)]
    [InlineData(100L, 100L, 8, BitFieldOverflow.Sat, 1, 127L)]
    [InlineData(-100L, -100L, 8, BitFieldOverflow.Sat, -1, -128L)]
    [InlineData(-100L, -100L, 8, BitFieldOverflow.Wrap, 1, 56L)]
    [InlineData(long.MaxValue, 1L, 64, BitFieldOverflow.Wrap, 1, long.MinValue)]
    [InlineData(5L, 1L, 8, BitFieldOverflow.Fail, 0, 0L)]
    public void Signed_overflow_rules(long value, long incr, int bits, BitFieldOverflow mode, int expectedResult, long expectedLimit)
    {
        int r = BitField.CheckSignedOverflow(value, incr, bits, mode, out long limit);
        Assert.Equal(expectedResult, r);
        if (r != 0) Assert.Equal(expectedLimit, limit);
    }

    [Theory]
    [InlineData(250UL, 10L, 8, BitFieldOverflow.Wrap, 1, 4UL)]
    [InlineData(250UL, 10L, 8, BitFieldOverflow.Sat, 1, 255UL)]
    [InlineData(3UL, -10L, 8, BitFieldOverflow.Sat, -1, 0UL)]
    [InlineData(3UL, -10L, 8, BitFieldOverflow.Wrap, 1, 249UL)]
    [InlineData(ulong.MaxValue, 0L, 8, BitFieldOverflow.Wrap, 1, 255UL)]
    public void Unsigned_overflow_rules(ulong value, long incr, int bits, BitFieldOverflow mode, int expectedResult, ulong expectedLimit)
    {
        int r = BitField.CheckUnsignedOverflow(value, incr, bits, mode, out ulong limit);
        Assert.Equal(expectedResult, r);
        Assert.Equal(expectedLimit, limit);
    }
}
