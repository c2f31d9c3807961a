using System.Text;
using Basalt.Server.Scripting.Libraries;
using KeraLua;

namespace Basalt.Tests.Scripting;

/// <summary>A Lua 5.4 state with the four Redis script libraries and a couple of test helpers.</summary>
internal sealed class LuaLibHarness : IDisposable
{
    public readonly Lua L;

    public LuaLibHarness()
    {
        L = new Lua();
        L.OpenLibs();
        CjsonLibrary.Register(L);
        CmsgpackLibrary.Register(L);
        BitLibrary.Register(L);
        StructLibrary.Register(L);
        // hex(s): bytes as hex; N(x): Lua 5.1's tostring for numbers ("%.14g").
        Assert.Equal(string.Empty, Run(@"
            function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end
            function N(x) return string.format('%.14g', x) end
            return ''", out _));
    }

    /// <summary>Runs a chunk named like Redis's script chunk; returns its first result as text or the error message.</summary>
    public string Run(string code, out bool ok)
    {
        L.SetTop(0);
        var status = L.LoadBuffer(Encoding.UTF8.GetBytes(code), "@user_script");
        if (status == LuaStatus.OK) status = L.PCall(0, 1, 0);
        ok = status == LuaStatus.OK;
        var bytes = L.ToBuffer(-1, false) ?? Array.Empty<byte>();
        L.SetTop(0);
        return Encoding.UTF8.GetString(bytes);
    }

    public string Eval(string code)
    {
        string r = Run(code, out bool ok);
        Assert.True(ok, "script failed: " + r);
        return r;
    }

    public string Error(string code)
    {
        string r = Run(code, out bool ok);
        Assert.False(ok, "script unexpectedly succeeded: " + r);
        return r;
    }

    public void Dispose() => L.Dispose();
}

/// <summary>cjson behaviour; expected values were taken from Redis 7.0.15 (EVAL with the same snippets).</summary>
public class LibrariesCjsonTests : IDisposable
{
    private readonly LuaLibHarness _h = new();
    public void Dispose() => _h.Dispose();

    [Theory]
    [InlineData("return cjson.encode({1,2,{a=1}})", "[1,2,{\"a\":1}]")]
    [InlineData("return cjson.encode(3)", "3")]
    [InlineData("return cjson.encode(1.5)", "1.5")]
    [InlineData("return cjson.encode(0.1)", "0.1")]
    [InlineData("return cjson.encode(1/3)", "0.33333333333333")]
    [InlineData("return cjson.encode(1e20)", "1e+20")]
    [InlineData("return cjson.encode(1e-5)", "1e-05")]
    [InlineData("return cjson.encode(-0.0)", "-0")]
    [InlineData("return cjson.encode(123456789012345)", "1.2345678901234e+14")]
    [InlineData("return cjson.encode(12345678901234)", "12345678901234")]
    [InlineData("return cjson.encode(2^53)", "9.007199254741e+15")]
    [InlineData("return cjson.encode({1.5, -2, 1e100, 2^-1074, 123.456, -0.000012345678901234567})", "[1.5,-2,1e+100,4.9406564584125e-324,123.456,-1.2345678901235e-05]")]
    [InlineData("return cjson.encode({100000000000005, 0.1+0.2, 5e-324, 1.7976931348623157e308})", "[1e+14,0.3,4.9406564584125e-324,1.7976931348623e+308]")]
    [InlineData("return cjson.encode({})", "{}")]
    [InlineData("return cjson.encode({[1]=1,[2]=2,[4]=4})", "[1,2,null,4]")]
    [InlineData("return cjson.encode({[10]=1})", "[null,null,null,null,null,null,null,null,null,1]")]
    [InlineData("return cjson.encode({[1.5]=1})", "{\"1.5\":1}")]
    [InlineData("return cjson.encode({[0]=1})", "{\"0\":1}")]
    [InlineData("return cjson.encode({[-1]=1})", "{\"-1\":1}")]
    [InlineData("return cjson.encode({[1e300]=1})", "{\"1e+300\":1}")]
    [InlineData("return cjson.encode({[3]=1, [2]=2, [1]=3})", "[3,2,1]")]
    [InlineData("return cjson.encode({1,2,3,nil,5})", "[1,2,3,null,5]")]
    [InlineData("return cjson.encode({{[2]=1}})", "[[null,1]]")]
    [InlineData("return cjson.encode(nil)", "null")]
    [InlineData("return cjson.encode(cjson.null)", "null")]
    [InlineData("return cjson.encode({cjson.null, true, false})", "[null,true,false]")]
    [InlineData("return cjson.encode(true)", "true")]
    [InlineData("return cjson.encode('')", "\"\"")]
    [InlineData("return cjson.encode({['a\\0b']='c\\0d'})", "{\"a\\u0000b\":\"c\\u0000d\"}")]
    [InlineData("return cjson.encode({a={b={}}})", "{\"a\":{\"b\":{}}}")]
    [InlineData("return cjson.encode({a={b={1,2,{c='d'}}}})", "{\"a\":{\"b\":[1,2,{\"c\":\"d\"}]}}")]
    [InlineData("return #cjson.encode({1, n=2})", "13")]
    public void Encode_matches_redis(string code, string expected) => Assert.Equal(expected, _h.Eval(code));

    [Fact]
    public void Encode_escapes_quotes_backslash_slash_and_control_bytes_and_keeps_high_bytes()
    {
        Assert.Equal("22615c2f625c22635c5c645c6e5c725c745c625c665c75303030315c75303031665c753030376680c3a922",
            _h.Eval("return hex(cjson.encode('a/b\"c\\\\d\\n\\r\\t\\b\\f\\1\\31\\127\\128\\195\\169'))"));
    }

    [Theory]
    [InlineData("local r = cjson.encode(math.huge) return r", "user_script:1: Cannot serialise number: must not be NaN or Inf")]
    [InlineData("local r = cjson.encode(0/0) return r", "user_script:1: Cannot serialise number: must not be NaN or Inf")]
    [InlineData("local r = cjson.encode({[1]=1,[20]=2}) return r", "user_script:1: Cannot serialise table: excessively sparse array")]
    [InlineData("local r = cjson.encode({[11]=1}) return r", "user_script:1: Cannot serialise table: excessively sparse array")]
    [InlineData("local r = cjson.encode({[true]=1}) return r", "user_script:1: Cannot serialise boolean: table key must be a number or string")]
    [InlineData("local r = cjson.encode({[{}]=1}) return r", "user_script:1: Cannot serialise table: table key must be a number or string")]
    [InlineData("local r = cjson.encode({function() end}) return r", "user_script:1: Cannot serialise function: type not supported")]
    [InlineData("local r = cjson.encode({a=coroutine.create(function() end)}) return r", "user_script:1: Cannot serialise thread: type not supported")]
    [InlineData("local r = cjson.encode() return r", "user_script:1: bad argument #1 to 'encode' (expected 1 argument)")]
    [InlineData("local r = cjson.encode(1,2) return r", "user_script:1: bad argument #1 to 'encode' (expected 1 argument)")]
    [InlineData("local r = cjson.decode('x') return r", "user_script:1: Expected value but found invalid token at character 1")]
    public void Errors_carry_the_calling_line_like_luaL_error(string code, string expected) => Assert.Equal(expected, _h.Error(code));

    [Fact]
    public void Errors_inside_nested_functions_report_the_calling_line()
    {
        Assert.Equal("user_script:2: Cannot serialise number: must not be NaN or Inf",
            _h.Error("local function f()\n local r = cjson.encode(math.huge) return r end\nlocal r = f() return r"));
    }

    [Fact]
    public void Errors_through_pcall_have_no_position()
    {
        Assert.Equal("Cannot serialise boolean: table key must be a number or string",
            _h.Eval("local ok, e = pcall(cjson.encode, {[true]=1}) return e"));
        Assert.Equal("Expected value but found invalid token at character 1", _h.Eval("local ok, e = pcall(cjson.decode, 'x') return e"));
    }

    [Theory]
    [InlineData("", "Expected value but found T_END at character 1")]
    [InlineData("[1,2", "Expected comma or array end but found T_END at character 5")]
    [InlineData("[1 2]", "Expected comma or array end but found T_NUMBER at character 4")]
    [InlineData("{1:2}", "Expected object key string but found T_NUMBER at character 2")]
    [InlineData("{\"a\" 2}", "Expected colon but found T_NUMBER at character 6")]
    [InlineData("{\"a\":2 \"b\"}", "Expected comma or object end but found T_STRING at character 8")]
    [InlineData("[1] x", "Expected the end but found invalid token at character 5")]
    [InlineData("\"abc", "Expected value but found unexpected end of string at character 5")]
    [InlineData("\"a\\\\qc\"", "Expected value but found invalid escape code at character 3")]
    [InlineData("\"a\\\\u12\"", "Expected value but found invalid unicode escape code at character 3")]
    [InlineData("\"\\\\ud800\"", "Expected value but found invalid unicode escape code at character 2")]
    [InlineData("\"\\\\udc00\\\\ud800\"", "Expected value but found invalid unicode escape code at character 2")]
    [InlineData("\"\\\\ud83d\\\\u0041\"", "Expected value but found invalid unicode escape code at character 2")]
    [InlineData("\"\\\\u00G1\"", "Expected value but found invalid unicode escape code at character 2")]
    [InlineData("\"\\\\u0041\\\\u00\"", "Expected value but found invalid unicode escape code at character 8")]
    [InlineData("-", "Expected value but found invalid number at character 1")]
    [InlineData("nul", "Expected value but found invalid token at character 1")]
    [InlineData("tru", "Expected value but found invalid token at character 1")]
    [InlineData(".5", "Expected value but found invalid token at character 1")]
    [InlineData("1e", "Expected the end but found invalid token at character 2")]
    [InlineData("[1,]", "Expected value but found T_ARR_END at character 4")]
    [InlineData("{\"a\":1,}", "Expected object key string but found T_OBJ_END at character 8")]
    [InlineData("{", "Expected object key string but found T_END at character 2")]
    [InlineData("}", "Expected value but found T_OBJ_END at character 1")]
    [InlineData(":", "Expected value but found T_COLON at character 1")]
    [InlineData(",", "Expected value but found T_COMMA at character 1")]
    [InlineData("[true false]", "Expected comma or array end but found T_BOOLEAN at character 7")]
    [InlineData("[null, nul]", "Expected value but found invalid token at character 8")]
    [InlineData("\\f1", "Expected value but found invalid token at character 1")]
    [InlineData("{\"a\":1} {", "Expected the end but found T_OBJ_BEGIN at character 9")]
    [InlineData("truex", "Expected the end but found invalid token at character 5")]
    [InlineData("[1,{\"a\":1}", "Expected comma or array end but found T_END at character 11")]
    [InlineData("\\0a", "JSON parser does not support UTF-16 or UTF-32")]
    [InlineData("a\\0", "JSON parser does not support UTF-16 or UTF-32")]
    [InlineData("\"abc\\0def\"", "Expected value but found unexpected end of string at character 5")]
    public void Decode_errors_match_redis(string json, string expected) =>
        Assert.Equal(expected, _h.Eval($"local ok, e = pcall(cjson.decode, '{json}') assert(not ok) return e"));

    [Theory]
    [InlineData("return hex(cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\\\\u0041\\\\/\\\\b\"'))", "c3a9f09f9880412f08")]
    [InlineData("return hex(cjson.decode('\"\\\\uD83D\\\\uDE00\"'))", "f09f9880")]
    [InlineData("return hex(cjson.decode('\"\\\\u0000\\\\u007f\\\\u0080\\\\u07ff\\\\u0800\\\\uffff\\\\udbff\\\\udfff\"'))", "007fc280dfbfe0a080efbfbff48fbfbf")]
    [InlineData("return #cjson.decode('\"\\\\u0000x\"')", "2")]
    [InlineData("return hex(cjson.decode('\"raw\\1\\31ctl\"'))", "726177011f63746c")]
    [InlineData("return N(cjson.decode('0x10'))", "16")]
    [InlineData("return N(cjson.decode('-0x1A'))", "-26")]
    [InlineData("return N(cjson.decode('+5'))", "5")]
    [InlineData("return N(cjson.decode('01'))", "1")]
    [InlineData("return N(cjson.decode('1.'))", "1")]
    [InlineData("return N(cjson.decode('-.5'))", "-0.5")]
    [InlineData("return N(cjson.decode('inf'))", "inf")]
    [InlineData("return N(cjson.decode('-Infinity'))", "-inf")]
    [InlineData("return N(cjson.decode('1e300'))", "1e+300")]
    [InlineData("return N(cjson.decode('-0'))", "-0")]
    [InlineData("return N(cjson.decode('1e15'))", "1e+15")]
    [InlineData("return N(cjson.decode('0x1p4'))", "16")]
    [InlineData("return tostring(cjson.decode('1e400') == math.huge)", "true")]
    [InlineData("return string.format('%.14g|%.14g|%.14g|%.14g', cjson.decode('12345678901234567890'), cjson.decode('-1.5e-7'), cjson.decode('0.1'), cjson.decode('1E2'))", "1.2345678901235e+19|-1.5e-07|0.1|100")]
    [InlineData("return N(cjson.decode('\\t\\r\\n 1'))", "1")]
    [InlineData("return N(cjson.decode(123))", "123")]
    [InlineData("return N(cjson.decode('[1]\\0xx')[1])", "1")]
    [InlineData("local t = cjson.decode('{\"x\":[1,2.5,\"s\",true,false,null,{}],\"y\":{\"z\":-3}}') return cjson.encode({t.x[1], t.x[2], t.x[3], t.x[4], t.x[5], t.x[6] == cjson.null, t.y.z})", "[1,2.5,\"s\",true,false,true,-3]")]
    [InlineData("local t = cjson.decode('  [1, \"a\", true, false, null, {\"k\": [ ] } ]  ') return cjson.encode(t)", "[1,\"a\",true,false,null,{\"k\":{}}]")]
    [InlineData("return cjson.encode(cjson.decode('{\"a\":{\"b\":[1,2,{\"c\":\"d\"}]}}'))", "{\"a\":{\"b\":[1,2,{\"c\":\"d\"}]}}")]
    [InlineData("return tostring(cjson.decode('{\"a\":null}').a == cjson.null)", "true")]
    [InlineData("return type(cjson.null) .. ' ' .. cjson._NAME .. ' ' .. cjson._VERSION", "userdata cjson 2.1.0")]
    public void Decode_matches_redis(string code, string expected) => Assert.Equal(expected, _h.Eval(code));

    [Fact]
    public void Decode_keeps_integral_numbers_as_integers_and_others_as_floats()
    {
        // Lua 5.1 had only doubles; 5.4 tostring of a float 3.0 would say "3.0", so integral values come back as integers.
        Assert.Equal("3 integer|2.5 float|1e+15 float", _h.Eval(
            "local a, b, c = cjson.decode('3'), cjson.decode('2.5'), cjson.decode('1e15') " +
            "return tostring(a)..' '..math.type(a)..'|'..tostring(b)..' '..math.type(b)..'|'..tostring(c)..' '..math.type(c)"));
    }

    [Fact]
    public void Option_functions_report_and_change_settings()
    {
        // Defaults, as reported by Redis 7.0.15 on a fresh server.
        Assert.Equal("false 2 10|1000 1000 14 true false true", _h.Eval(
            "local a, b, c = cjson.encode_sparse_array() " +
            "return tostring(a)..' '..b..' '..c..'|'..cjson.encode_max_depth()..' '..cjson.decode_max_depth()..' '..cjson.encode_number_precision()..' '" +
            "..tostring(cjson.encode_keep_buffer())..' '..tostring(cjson.encode_invalid_numbers())..' '..tostring(cjson.decode_invalid_numbers())"));
        Assert.Equal("true 3 20", _h.Eval("local a, b, c = cjson.encode_sparse_array(true, 3, 20) return tostring(a)..' '..b..' '..c"));
        Assert.Equal("true 1 20", _h.Eval("local a, b, c = cjson.encode_sparse_array(nil, 1.5) return tostring(a)..' '..b..' '..c"));
        Assert.Equal("[1,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,2]",
            _h.Eval("cjson.encode_sparse_array(true, 3, 20) return cjson.encode({[1]=1,[20]=2})"));
        Assert.Equal("{\"1\":1,\"20\":2}", _h.Eval("cjson.encode_sparse_array(true, 2, 10) return cjson.encode({[1]=1,[20]=2})"));
        Assert.Equal("9995", _h.Eval("cjson.encode_sparse_array(false, 0) return #cjson.encode({[1]=1,[2000]=2})"));
        Assert.Equal("123", _h.Eval("cjson.encode_sparse_array(false, 2, 30) return #cjson.encode({[25]=1})"));
        Assert.Equal("[3.14,1.23e+03,0.000123]", _h.Eval("cjson.encode_number_precision(3) return cjson.encode({3.14159, 1234.5, 0.0001234})"));
        Assert.Equal("[0.1,2e+01,4e+01,0.5]", _h.Eval("cjson.encode_number_precision(1) return cjson.encode({0.15, 25, 35, 0.5})"));
        Assert.Equal("false true", _h.Eval("return tostring(cjson.encode_keep_buffer('off'))..' '..tostring(cjson.encode_keep_buffer('on'))"));
    }

    [Theory]
    [InlineData("cjson.encode_sparse_array('yes')", "user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option 'yes')")]
    [InlineData("cjson.encode_sparse_array(1)", "user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option '1')")]
    [InlineData("cjson.encode_sparse_array(nil, -1)", "user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)")]
    [InlineData("cjson.encode_sparse_array(nil, 'x')", "user_script:1: bad argument #2 to 'encode_sparse_array' (number expected, got string)")]
    [InlineData("cjson.encode_sparse_array(1, 2, 3, 4)", "user_script:1: bad argument #4 to 'encode_sparse_array' (found too many arguments)")]
    [InlineData("cjson.encode_max_depth(0)", "user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)")]
    [InlineData("cjson.encode_max_depth('x')", "user_script:1: bad argument #1 to 'encode_max_depth' (number expected, got string)")]
    [InlineData("cjson.encode_number_precision(15)", "user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)")]
    [InlineData("cjson.encode_number_precision(1, 2)", "user_script:1: bad argument #2 to 'encode_number_precision' (found too many arguments)")]
    [InlineData("cjson.encode_keep_buffer('maybe')", "user_script:1: bad argument #1 to 'encode_keep_buffer' (invalid option 'maybe')")]
    [InlineData("cjson.decode()", "user_script:1: bad argument #1 to 'decode' (expected 1 argument)")]
    [InlineData("cjson.decode('[1]', 2)", "user_script:1: bad argument #1 to 'decode' (expected 1 argument)")]
    [InlineData("cjson.decode(nil)", "user_script:1: bad argument #1 to 'decode' (string expected, got nil)")]
    [InlineData("cjson.decode({})", "user_script:1: bad argument #1 to 'decode' (string expected, got table)")]
    public void Argument_errors_match_redis(string code, string expected) => Assert.Equal(expected, _h.Error(code));

    [Fact]
    public void Encode_depth_limit_and_lua51_stack_limit()
    {
        Assert.Equal("Cannot serialise, excessive nesting (3)", _h.Eval("cjson.encode_max_depth(2) local ok, e = pcall(cjson.encode, {{{1}}}) return e"));
        Assert.Equal("[[1]]", _h.Eval("return cjson.encode({{1}})"));
        Assert.Equal("Cannot serialise, excessive nesting (1001)", _h.Eval(
            "cjson.encode_max_depth(1000) local t = {} local c = t for i=1,1000 do c[1] = {} c = c[1] end local ok, e = pcall(cjson.encode, t) return e"));
        // With the limit lifted, Lua 5.1's C stack (LUAI_MAXCSTACK) stops it where Redis does.
        Assert.Equal("Cannot serialise, excessive nesting (7998)", _h.Eval(
            "cjson.encode_max_depth(100000) local t = {} local c = t for i=1,100000 do c[1] = {} c = c[1] end local ok, e = pcall(cjson.encode, t) return e"));
    }

    [Fact]
    public void Decode_depth_limit_and_lua51_stack_limit()
    {
        Assert.Equal("1000", _h.Eval("local t = cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)) local n = 0 while t do n = n + 1 t = t[1] end return n"));
        Assert.Equal("Found too many nested data structures (1001) at character 1001",
            _h.Eval("local ok, e = pcall(cjson.decode, string.rep('[', 1001) .. string.rep(']', 1001)) return e"));
        Assert.Equal("Found too many nested data structures (3) at character 3", _h.Eval("cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[[1]]]') return e"));
        Assert.Equal("Found too many nested data structures (3) at character 11", _h.Eval("local ok, e = pcall(cjson.decode, '{\"a\":{\"b\":{}}}') return e"));
        Assert.Equal("Found too many nested data structures (7999) at character 7999",
            _h.Eval("cjson.decode_max_depth(100000) local ok, e = pcall(cjson.decode, string.rep('[', 100000) .. string.rep(']', 100000)) return e"));
        Assert.Equal("Found too many nested data structures (4000) at character 19996",
            _h.Eval("local ok, e = pcall(cjson.decode, string.rep('{\"a\":', 100000) .. '1' .. string.rep('}', 100000)) return e"));
    }

    [Fact]
    public void Invalid_number_options()
    {
        Assert.Equal("true inf -inf nan", _h.Eval("local a = cjson.encode_invalid_numbers(true) return tostring(a)..' '..cjson.encode(math.huge)..' '..cjson.encode(-math.huge)..' '..cjson.encode(0/0)"));
        Assert.Equal("{\"inf\":1}", _h.Eval("return cjson.encode({[1/0]=1})"));
        Assert.Equal("null [null,null,null]", _h.Eval("local a = cjson.encode_invalid_numbers('null') return a..' '..cjson.encode({math.huge, -math.huge, 0/0})"));
        Assert.Equal("Expected value but found invalid token at character 1", _h.Eval("cjson.decode_invalid_numbers(false) local ok, e = pcall(cjson.decode, 'inf') return e"));
        Assert.Equal("Expected value but found invalid number at character 1", _h.Eval("local ok, e = pcall(cjson.decode, '0x10') return e"));
        Assert.Equal("Expected value but found invalid number at character 2", _h.Eval("local ok, e = pcall(cjson.decode, '[01]') return e"));
        Assert.Equal("Expected value but found invalid token at character 1", _h.Eval("local ok, e = pcall(cjson.decode, '+1') return e"));
        Assert.Equal("Expected value but found invalid number at character 1", _h.Eval("local ok, e = pcall(cjson.decode, '-inf') return e"));
        Assert.Equal("Expected value but found invalid token at character 1", _h.Eval("local ok, e = pcall(cjson.decode, 'nan') return e"));
        Assert.Equal("[-1500,0,-0,10]", _h.Eval("return cjson.encode(cjson.decode('[-1.5e3, 0, -0, 10]'))"));
    }

    [Fact]
    public void New_returns_an_independent_instance()
    {
        Assert.Equal("0.333|0.33333333333333|2.1.0|true", _h.Eval(
            "local new = cjson.new() new.encode_number_precision(3) return new.encode(1/3)..'|'..cjson.encode(1/3)..'|'..new._VERSION..'|'..tostring(new.null == cjson.null)"));
    }

    [Fact]
    public void Binary_strings_round_trip()
    {
        Assert.Equal("true", _h.Eval(
            "local s = '' for i = 0, 255 do s = s .. string.char(i) end return tostring(cjson.decode(cjson.encode({s}))[1] == s)"));
    }
}
