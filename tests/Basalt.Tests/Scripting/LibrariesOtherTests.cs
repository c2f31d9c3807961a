namespace Basalt.Tests.Scripting;

/// <summary>cmsgpack behaviour; expected values were taken from Redis 7.0.15 (EVAL with the same snippets).</summary>
public class LibrariesCmsgpackTests : IDisposable
{
    private readonly LuaLibHarness _h = new();
    public void Dispose() => _h.Dispose();

    [Theory]
    [InlineData("return hex(cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649))",
        "01ff7fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000e0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffff")]
    [InlineData("return hex(cmsgpack.pack(1.5, 0.1, -0.0))", "ca3fc00000cb3fb999999999999a00")]
    [InlineData("return hex(cmsgpack.pack(math.huge, -math.huge))", "ca7f800000caff800000")]
    [InlineData("return hex(cmsgpack.pack(1e300, 2^63, -2^63, 2^53))", "cb7e37e43c8800759cca5f000000d38000000000000000cf0020000000000000")]
    [InlineData("return hex(cmsgpack.pack(-1.5, 3.0, 2^31, 2^32 + 0.5, 1e-300, 123456789.123))", "cabfc0000003ce80000000cb41f0000000080000cb01a56e1fc2f8f359cb419d6f34547df3b6")]
    [InlineData("return hex(cmsgpack.pack('', 'abc', string.rep('x', 31), true, false, nil))", "a0a3616263bf78787878787878787878787878787878787878787878787878787878787878c3c2c0")]
    [InlineData("return hex(cmsgpack.pack(string.rep('x', 32))):sub(1,8)", "d9207878")]
    [InlineData("return hex(cmsgpack.pack(string.rep('x', 256))):sub(1,8)", "da010078")]
    [InlineData("return hex(cmsgpack.pack(string.rep('x', 65536))):sub(1,12)", "db0001000078")]
    [InlineData("return hex(cmsgpack.pack({}, {1,2,3}, {a=1}, {[1]=1,[3]=3}, {[0]=1}, {[1.5]=2}))", "909301020381a16101820101030381000181ca3fc0000002")]
    [InlineData("local t = {} for i=1,16 do t[i]=i end return hex(cmsgpack.pack(t)):sub(1,8)", "dc001001")]
    [InlineData("local t = {} for i=1,70000 do t[i]=0 end return hex(cmsgpack.pack(t)):sub(1,12)", "dd0001117000")]
    [InlineData("local t = {} for i=1,16 do t['k'..i]=i end return hex(cmsgpack.pack(t)):sub(1,6)", "de0010")]
    [InlineData("local t = {} local c = t for i=1,20 do c[1] = {} c = c[1] end return hex(cmsgpack.pack(t))", "91919191919191919191919191919191c0")]
    [InlineData("local t = {} t[1] = t return hex(cmsgpack.pack(t))", "91919191919191919191919191919191c0")]
    [InlineData("return hex(cmsgpack.pack(print, cjson.null))", "c0c0")]
    public void Pack_matches_redis(string code, string expected) => Assert.Equal(expected, _h.Eval(code));

    [Theory]
    [InlineData("local a, b, c, d = cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, 2, {x='y'}}, true)) return N(a)..b..N(c[1])..N(c[2])..c[3].x..tostring(d)", "1a12ytrue")]
    [InlineData("return select('#', cmsgpack.unpack(cmsgpack.pack(1, nil, 3)))", "3")]
    [InlineData("return select('#', cmsgpack.unpack(''))", "0")]
    [InlineData("return N(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))", "-1")]
    [InlineData("return N(cmsgpack.unpack('\\211\\128\\0\\0\\0\\0\\0\\0\\0'))", "-9.2233720368548e+18")]
    [InlineData("return N(cmsgpack.unpack('\\202\\63\\192\\0\\0'))", "1.5")]
    [InlineData("return N(cmsgpack.unpack('\\202\\61\\204\\204\\205'))", "0.10000000149012")]
    [InlineData("return N(cmsgpack.unpack('\\203\\63\\185\\153\\153\\153\\153\\153\\154'))", "0.1")]
    [InlineData("return table.concat({cmsgpack.unpack('\\255\\224\\208\\128\\209\\128\\0\\210\\128\\0\\0\\0\\204\\200\\205\\255\\255\\206\\255\\255\\255\\255')}, ',')", "-1,-32,-128,-32768,-2147483648,200,65535,4294967295")]
    [InlineData("return table.concat({cmsgpack.unpack('\\217\\3abc\\218\\0\\2de\\219\\0\\0\\0\\1f')}, ',')", "abc,de,f")]
    [InlineData("local a, b = cmsgpack.unpack('\\220\\0\\2\\1\\2\\221\\0\\0\\0\\1\\3') return #a..#b..N(b[1])", "213")]
    [InlineData("return N(cmsgpack.unpack('\\222\\0\\1\\161a\\1').a + cmsgpack.unpack('\\223\\0\\0\\0\\1\\161a\\1').a)", "2")]
    [InlineData("local t = cmsgpack.unpack('\\130\\1\\192\\2\\3') return tostring(t[1])..N(t[2])", "nil3")]
    [InlineData("return cmsgpack.unpack(cmsgpack.pack({a={b={c='deep'}}})).a.b.c", "deep")]
    [InlineData("return table.concat({cmsgpack.unpack(12)}, ',')", "49,50")]
    [InlineData("return cmsgpack._NAME..'|'..cmsgpack._VERSION..'|'..cmsgpack._COPYRIGHT..'|'..cmsgpack._DESCRIPTION", "cmsgpack|lua-cmsgpack 0.4.0|Copyright (C) 2012, Salvatore Sanfilippo|MessagePack C implementation for Lua")]
    [InlineData("return #{cmsgpack.unpack(string.rep('\\1', 7999))}", "7999")]
    [InlineData("local s = '' for i = 0, 255 do s = s .. string.char(i) end return tostring(cmsgpack.unpack(cmsgpack.pack(s)) == s)", "true")]
    public void Unpack_matches_redis(string code, string expected) => Assert.Equal(expected, _h.Eval(code));

    [Theory]
    [InlineData("return table.concat({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}, ',')", "1,1")]
    [InlineData("return table.concat({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}, ',')", "2,2")]
    [InlineData("return table.concat({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}, ',')", "-1,3")]
    [InlineData("return table.concat({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)}, ',')", "-1")]
    [InlineData("return table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}, ',')", "2,1,2")]
    [InlineData("return table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}, ',')", "-1,2,3")]
    [InlineData("return table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5)}, ',')", "-1,1,2,3")]
    [InlineData("return table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)}, ',')", "1,2,3")]
    [InlineData("return table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)}, ',')", "1")]
    [InlineData("return table.concat({cmsgpack.unpack_one('')}, ',')", "-1")]
    [InlineData("return table.concat({cmsgpack.unpack_limit('', 1)}, ',')", "-1")]
    [InlineData("return table.concat({cmsgpack.unpack_one(cmsgpack.pack(1,2), 1.9)}, ',')", "-1,2")]
    public void Unpack_one_and_limit_return_the_next_offset_first(string code, string expected) => Assert.Equal(expected, _h.Eval(code));

    [Theory]
    [InlineData("'\\145'", "Missing bytes in input.")]
    [InlineData("'\\193'", "Bad data format in input.")]
    [InlineData("'\\196\\1a'", "Bad data format in input.")]
    [InlineData("'\\212\\1a'", "Bad data format in input.")]
    [InlineData("'\\205\\1'", "Missing bytes in input.")]
    [InlineData("'\\217\\3ab'", "Missing bytes in input.")]
    [InlineData("'\\146\\1'", "Missing bytes in input.")]
    [InlineData("'\\1\\193\\2'", "Bad data format in input.")]
    [InlineData("'\\129\\192\\1'", "table index is nil")]
    [InlineData("'\\129\\203\\127\\248\\0\\0\\0\\0\\0\\0\\1'", "table index is NaN")]
    [InlineData("string.rep('\\145', 4000) .. '\\192'", "stack overflow (in function mp_decode_to_lua_array)")]
    [InlineData("string.rep('\\129\\1', 10000) .. '\\192'", "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)")]
    [InlineData("string.rep('\\1', 10000)", "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)")]
    public void Unpack_errors_match_redis(string input, string expected) =>
        Assert.Equal(expected, _h.Eval($"local ok, e = pcall(cmsgpack.unpack, {input}) assert(not ok) return e"));

    [Fact]
    public void Deep_but_allowed_nesting_decodes()
    {
        Assert.Equal("3999", _h.Eval("local t = cmsgpack.unpack(string.rep('\\145', 3999) .. '\\192') local n = 0 while t do n = n + 1 t = t[1] end return n"));
        Assert.Equal("3998", _h.Eval("local t = cmsgpack.unpack(string.rep('\\129\\1', 3998) .. '\\192') local n = 0 while type(t) == 'table' do n = n + 1 t = t[1] end return n"));
    }

    [Theory]
    [InlineData("local r = cmsgpack.pack() return r", "user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)")]
    [InlineData("local r = cmsgpack.unpack() return r", "user_script:1: bad argument #1 to 'unpack' (string expected, got no value)")]
    [InlineData("local r = cmsgpack.unpack(nil) return r", "user_script:1: bad argument #1 to 'unpack' (string expected, got nil)")]
    [InlineData("local r = cmsgpack.unpack('\\193') return r", "user_script:1: Bad data format in input.")]
    [InlineData("local r = cmsgpack.unpack('\\129\\192\\1') return r", "table index is nil")]
    [InlineData("local r = cmsgpack.unpack(string.rep('\\145', 10000) .. '\\192') return r", "user_script:1: stack overflow (in function mp_decode_to_lua_array)")]
    [InlineData("local r = cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4) return r", "user_script:1: Start offset 4 greater than input length 3.")]
    [InlineData("local r = cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1) return r", "user_script:1: Invalid request to unpack with offset of -1 and limit of 3.")]
    [InlineData("local r = cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1) return r", "user_script:1: Invalid request to unpack with offset of 0 and limit of 3.")]
    [InlineData("local r = cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3)) return r", "user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value)")]
    [InlineData("local r = cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 'x') return r", "user_script:1: bad argument #2 to 'unpack_limit' (number expected, got string)")]
    [InlineData("local r = cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 'x') return r", "user_script:1: bad argument #2 to 'unpack_one' (number expected, got string)")]
    public void Errors_match_redis(string code, string expected) => Assert.Equal(expected, _h.Error(code));
}

/// <summary>bit (LuaBitOp) behaviour; expected values were taken from Redis 7.0.15.</summary>
public class LibrariesBitTests : IDisposable
{
    private readonly LuaLibHarness _h = new();
    public void Dispose() => _h.Dispose();

    [Theory]
    [InlineData("return table.concat({bit.tobit(0xffffffff), bit.tobit(0xffffffff + 1), bit.tobit(2^40 + 5), bit.tobit(-1), bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tobit(3.5)}, ',')", "-1,0,5,-1,2,2,-2,4")]
    [InlineData("return table.concat({bit.tobit(2^52), bit.tobit(2^53 + 3), bit.tobit(-2^31), bit.tobit(2^31), bit.tobit(1e300), bit.tobit(0/0), bit.tobit(math.huge)}, ',')", "0,2,-2147483648,-2147483648,-2013235812,0,0")]
    [InlineData("return table.concat({bit.tohex(1), bit.tohex(-1), bit.tohex(0x12345678, 4), bit.tohex(255, -2), bit.tohex(255, -10), bit.tohex(255, 0), bit.tohex(0xabcdef, 12)}, ',')", "00000001,ffffffff,5678,FF,000000FF,,00abcdef")]
    [InlineData("return table.concat({bit.tohex(-1, 8), bit.tohex(0x7fffffff, -8), bit.tohex(1, 2^32 + 3)}, ',')", "ffffffff,7FFFFFFF,001")]
    [InlineData("return table.concat({bit.bnot(0), bit.bnot(-1), bit.bnot(0x12345678)}, ',')", "-1,0,-305419897")]
    [InlineData("return table.concat({bit.band(0xff, 0x0f, 0x07), bit.bor(1, 2, 4, 8), bit.bxor(0xff, 0x0f), bit.band(5)}, ',')", "7,15,240,5")]
    [InlineData("return table.concat({bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.arshift(256, 4), bit.rshift(0x80000000, 31)}, ',')", "-2147483648,1,2,15,-16,16,1")]
    [InlineData("return table.concat({bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.rol(0x12345678, 0), bit.ror(1, 1), bit.rol(0x80000000, 1)}, ',')", "878082066,2014458966,305419896,-2147483648,1")]
    [InlineData("return table.concat({bit.bswap(0x12345678), bit.bswap(0xff)}, ',')", "2018915346,-16777216")]
    [InlineData("return table.concat({bit.lshift(1, -1), bit.rshift(1, -1), bit.lshift(3, 2.6)}, ',')", "-2147483648,0,24")]
    [InlineData("return table.concat({bit.tobit('0x10'), bit.tobit('10'), bit.band(1, '0')}, ',')", "16,10,0")]
    [InlineData("return type(bit.tobit(1)) .. tostring(bit.band(0xffffffff, 0xffffffff))", "number-1")]
    public void Operations_match_redis(string code, string expected) => Assert.Equal(expected, _h.Eval(code));

    [Theory]
    [InlineData("local r = bit.tobit('x') return r", "user_script:1: bad argument #1 to 'tobit' (number expected, got string)")]
    [InlineData("local r = bit.tobit() return r", "user_script:1: bad argument #1 to 'tobit' (number expected, got no value)")]
    [InlineData("local r = bit.tobit(nil) return r", "user_script:1: bad argument #1 to 'tobit' (number expected, got nil)")]
    [InlineData("local r = bit.tobit({}) return r", "user_script:1: bad argument #1 to 'tobit' (number expected, got table)")]
    [InlineData("local r = bit.bor() return r", "user_script:1: bad argument #1 to 'bor' (number expected, got no value)")]
    [InlineData("local r = bit.band(1, 'x') return r", "user_script:1: bad argument #2 to 'band' (number expected, got string)")]
    [InlineData("local r = bit.lshift(1) return r", "user_script:1: bad argument #2 to 'lshift' (number expected, got no value)")]
    [InlineData("local r = bit.tohex(1, 'x') return r", "user_script:1: bad argument #2 to 'tohex' (number expected, got string)")]
    [InlineData("local r = bit.tohex(1, nil) return r", "user_script:1: bad argument #2 to 'tohex' (number expected, got nil)")]
    public void Errors_match_redis(string code, string expected) => Assert.Equal(expected, _h.Error(code));
}

/// <summary>struct behaviour; expected values were taken from Redis 7.0.15.</summary>
public class LibrariesStructTests : IDisposable
{
    private readonly LuaLibHarness _h = new();
    public void Dispose() => _h.Dispose();

    [Theory]
    [InlineData("return hex(struct.pack('>i', 1) .. struct.pack('<i', 1) .. struct.pack('b', -1) .. struct.pack('B', 255) .. struct.pack('>h', -2) .. struct.pack('<H', 0x1234))", "0000000101000000fffffffe3412")]
    [InlineData("return hex(struct.pack('>l', -1) .. struct.pack('<L', 1) .. struct.pack('>T', 258))", "ffffffffffffffff01000000000000000000000000000102")]
    [InlineData("return hex(struct.pack('>i3', 0x123456) .. struct.pack('<I2', 0x10000 + 5) .. struct.pack('>i16', -1) .. struct.pack('<i12', -2))", "12345605000000000000000000fffffffffffffffffeffffffffffffff00000000")]
    [InlineData("return hex(struct.pack('>f', 1.5) .. struct.pack('<d', 0.1) .. struct.pack('>d', -2))", "3fc000009a9999999999b93fc000000000000000")]
    [InlineData("return hex(struct.pack('s', 'ab') .. struct.pack('c3', 'xyzw') .. struct.pack('c0', 'hello') .. struct.pack('x'))", "61620078797a68656c6c6f00")]
    [InlineData("return hex(struct.pack('!4 b i', 1, 2) .. '|' .. struct.pack('!b d', 1, 2) .. '|' .. struct.pack('!2 b i', 1, 2) .. '|' .. struct.pack('b h', 1, 2))", "01000000020000007c010000000000000000000000000000407c0100020000007c010200")]
    [InlineData("return hex(struct.pack('!8 b l b T', 1, 2, 3, 4))", "0100000000000000020000000000000003000000000000000400000000000000")]
    [InlineData("return hex(struct.pack('<i', 2^31) .. struct.pack('<i', -2^31 - 1) .. struct.pack('<B', 256) .. struct.pack('<b', 1.9) .. struct.pack('<b', -1.9))", "00000080ffffff7f0001ff")]
    [InlineData("return hex(struct.pack('<L', 2^64) .. struct.pack('<l', -2^63) .. struct.pack('<L', 2^63) .. struct.pack('<l', 1e300))", "0000000000000000000000000000008000000000000000800000000000000000")]
    [InlineData("return hex(struct.pack('s', 'a\\0b'))", "61006200")]
    [InlineData("return hex(struct.pack('b', '12'))", "0c")]
    [InlineData("return hex(struct.pack('i0', 5))", "")]
    public void Pack_matches_redis(string code, string expected) => Assert.Equal(expected, _h.Eval(code));

    [Theory]
    [InlineData("return table.concat({struct.size('i'), struct.size('b h i l d f T'), struct.size('!b d'), struct.size('!4 b d'), struct.size('c10 x'), struct.size('i7'), struct.size('!')}, ',')", "4,35,16,12,11,7,0")]
    [InlineData("return table.concat({struct.size('z'), struct.size('b5'), struct.size('i0')}, ',')", "0,1,0")]
    [InlineData("local t = {struct.unpack('>i', '\\0\\0\\1\\0')} return N(t[1])..','..N(t[2])", "256,5")]
    [InlineData("local t = {struct.unpack('<i>i', '\\1\\0\\0\\0\\0\\0\\0\\2')} return N(t[1])..','..N(t[2])..','..N(t[3])", "1,2,9")]
    [InlineData("local t = {struct.unpack('bBhH', '\\255\\255\\255\\255\\255\\255')} for i = 1, #t do t[i] = N(t[i]) end return table.concat(t, ',')", "-1,255,-1,65535,7")]
    [InlineData("local a, b = struct.unpack('s', 'abc\\0def') return a..','..N(b)", "abc,5")]
    [InlineData("local a, b = struct.unpack('c3', 'abcdef', 2) return a..','..N(b)", "bcd,5")]
    [InlineData("local a, b = struct.unpack('b c0', '\\3abcdef') return a..','..N(b)", "abc,5")]
    [InlineData("local a, b = struct.unpack('x b', 'abc') return N(a)..','..N(b)", "98,3")]
    [InlineData("return N(struct.unpack('<f', struct.pack('<f', 0.1)))", "0.10000000149012")]
    [InlineData("return N(struct.unpack('>d', struct.pack('>d', 1/3)))", "0.33333333333333")]
    [InlineData("return N(struct.unpack('<l', '\\255\\255\\255\\255\\255\\255\\255\\127'))", "9.2233720368548e+18")]
    [InlineData("return N(struct.unpack('<L', '\\255\\255\\255\\255\\255\\255\\255\\255'))", "1.844674407371e+19")]
    [InlineData("return N(struct.unpack('<I16', string.rep('\\255', 16)))", "1.844674407371e+19")]
    [InlineData("return N(struct.unpack('<i16', string.rep('\\255', 16)))", "-1")]
    [InlineData("return N(struct.unpack('<i9', '\\1' .. string.rep('\\0', 8)))", "1")]
    [InlineData("return N(struct.unpack('>i3', '\\255\\255\\254'))", "-2")]
    [InlineData("local a, b, c = struct.unpack('!4 b i', struct.pack('!4 b i', 7, 9)) return N(a)..','..N(b)..','..N(c)", "7,9,9")]
    [InlineData("local a, b = struct.unpack('>I2', '\\1\\2\\3\\4', 3) return N(a)..','..N(b)", "772,5")]
    [InlineData("local a, b = struct.unpack('i', '\\1\\0\\0\\0', 1.9) return N(a)..','..N(b)", "1,5")]
    [InlineData("return N(struct.unpack('', 'abc'))", "1")]
    [InlineData("local a, b, c = struct.unpack('c2 c1', 'abc') return a..','..b..','..N(c)", "ab,c,4")]
    [InlineData("local a, b = struct.unpack('i2 c0', '\\2\\0ab') return a..','..N(b)", "ab,5")]
    [InlineData("local a, b = struct.unpack('i0', 'ab') return N(a)..','..N(b)", "0,1")]
    public void Size_and_unpack_match_redis(string code, string expected) => Assert.Equal(expected, _h.Eval(code));

    [Theory]
    [InlineData("local r = struct.size('s') return r", "user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)")]
    [InlineData("local r = struct.size('c0') return r", "user_script:1: bad argument #1 to 'size' (option 'c0' has no fixed size)")]
    [InlineData("local r = struct.size() return r", "user_script:1: bad argument #1 to 'size' (string expected, got no value)")]
    [InlineData("local r = struct.pack('z') return r", "user_script:1: bad argument #1 to 'pack' (invalid format option 'z')")]
    [InlineData("local r = struct.pack(12) return r", "user_script:1: bad argument #1 to 'pack' (invalid format option '1')")]
    [InlineData("local r = struct.pack('i33', 1) return r", "user_script:1: integral size 33 is larger than limit of 32")]
    [InlineData("local r = struct.pack('!3 i', 1) return r", "user_script:1: alignment 3 is not a power of 2")]
    [InlineData("local r = struct.pack('i') return r", "user_script:1: bad argument #2 to 'pack' (number expected, got nil)")]
    [InlineData("local r = struct.pack('i', 'x') return r", "user_script:1: bad argument #2 to 'pack' (number expected, got string)")]
    [InlineData("local r = struct.pack('c5', 'abc') return r", "user_script:1: bad argument #3 to 'pack' (string too short)")]
    [InlineData("local r = struct.pack('i99999999999', 1) return r", "user_script:1: integral size overflow")]
    [InlineData("local r = struct.pack() return r", "user_script:1: bad argument #1 to 'pack' (string expected, got no value)")]
    [InlineData("local r = struct.unpack('c0', 'abc') return r", "user_script:1: format 'c0' needs a previous size")]
    [InlineData("local r = struct.unpack('s', 'abc') return r", "user_script:1: unfinished string in data")]
    [InlineData("local r = struct.unpack('i', 'abc') return r", "user_script:1: bad argument #2 to 'unpack' (data string too short)")]
    [InlineData("local r = struct.unpack('b', 'abc', 0) return r", "user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)")]
    [InlineData("local r = struct.unpack('b', 'abc', 4) return r", "user_script:1: bad argument #2 to 'unpack' (data string too short)")]
    [InlineData("local r = struct.unpack('>I2', '\\1\\2\\3\\4', -1) return r", "user_script:1: bad argument #2 to 'unpack' (data string too short)")]
    [InlineData("local r = struct.unpack('b') return r", "user_script:1: bad argument #2 to 'unpack' (string expected, got no value)")]
    [InlineData("local r = struct.unpack('i2 c0', '\\9\\0ab') return r", "user_script:1: bad argument #2 to 'unpack' (data string too short)")]
    public void Errors_match_redis(string code, string expected) => Assert.Equal(expected, _h.Error(code));
}
