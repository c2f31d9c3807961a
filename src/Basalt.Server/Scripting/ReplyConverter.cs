using Basalt.Protocol;
using static Basalt.Server.Scripting.LuaNative;

namespace Basalt.Server.Scripting;

/// <summary>
/// Redis's conversion rules between replies and Lua values, both ways, for RESP2 and RESP3.
/// Replies are read straight from the script client's output bytes and pushed on the Lua stack.
/// </summary>
internal static class ReplyConverter
{
    private const int MaxDepth = 1000;

    /// <summary>Pushes the reply starting at pos as one Lua value; returns false on malformed input.</summary>
    public static void PushReply(IntPtr L, ReadOnlySpan<byte> data, ref int pos, int depth)
    {
        if (depth == 0) lua_checkstack(L, 64);
        else if ((depth & 15) == 0) lua_checkstack(L, 64);
        byte type = data[pos++];
        switch (type)
        {
            case (byte)'+':
            {
                var line = ReadLine(data, ref pos);
                lua_createtable(L, 0, 1);
                PushBytes(L, line);
                RawSetField(L, -2, "ok");
                return;
            }
            case (byte)'-':
            {
                var line = ReadLine(data, ref pos);
                lua_createtable(L, 0, 1);
                PushBytes(L, line);
                RawSetField(L, -2, "err");
                return;
            }
            case (byte)':':
                lua_pushinteger(L, ReadNumber(data, ref pos));
                return;
            case (byte)'$':
            {
                long len = ReadNumber(data, ref pos);
                if (len < 0) { lua_pushboolean(L, 0); return; }
                PushBytes(L, data.Slice(pos, (int)len));
                pos += (int)len + 2;
                return;
            }
            case (byte)'!':
            {
                long len = ReadNumber(data, ref pos);
                lua_createtable(L, 0, 1);
                PushBytes(L, data.Slice(pos, (int)len));
                pos += (int)len + 2;
                RawSetField(L, -2, "err");
                return;
            }
            case (byte)'*':
            case (byte)'>':
            {
                long n = ReadNumber(data, ref pos);
                if (n < 0) { lua_pushboolean(L, 0); return; }
                lua_createtable(L, (int)Math.Min(n, 1 << 20), 0);
                for (int i = 1; i <= n; i++)
                {
                    PushReply(L, data, ref pos, depth + 1);
                    lua_rawseti(L, -2, i);
                }
                return;
            }
            case (byte)'_':
                pos += 2;
                lua_pushnil(L);
                return;
            case (byte)'#':
                lua_pushboolean(L, data[pos] == 't' ? 1 : 0);
                pos += 3;
                return;
            case (byte)',':
            {
                var line = ReadLine(data, ref pos);
                lua_createtable(L, 0, 1);
                lua_pushnumber(L, ParseDouble(line));
                RawSetField(L, -2, "double");
                return;
            }
            case (byte)'(':
            {
                var line = ReadLine(data, ref pos);
                lua_createtable(L, 0, 1);
                PushBytes(L, line);
                RawSetField(L, -2, "big_number");
                return;
            }
            case (byte)'=':
            {
                long len = ReadNumber(data, ref pos);
                var body = data.Slice(pos, (int)len);
                pos += (int)len + 2;
                lua_createtable(L, 0, 1);
                lua_createtable(L, 0, 2);
                PushBytes(L, body.Length >= 4 ? body[..3] : default);
                RawSetField(L, -2, "format");
                PushBytes(L, body.Length >= 4 ? body[4..] : body);
                RawSetField(L, -2, "string");
                RawSetField(L, -2, "verbatim_string");
                return;
            }
            case (byte)'%':
            case (byte)'~':
            {
                bool map = type == '%';
                long n = ReadNumber(data, ref pos);
                lua_createtable(L, 0, 1);
                lua_createtable(L, 0, (int)Math.Min(n, 1 << 20));
                for (long i = 0; i < n; i++)
                {
                    PushReply(L, data, ref pos, depth + 1);
                    if (map) PushReply(L, data, ref pos, depth + 1);
                    else lua_pushboolean(L, 1);
                    lua_rawset(L, -3);
                }
                RawSetField(L, -2, map ? "map" : "set");
                return;
            }
            case (byte)'|':
            {
                // Attributes are skipped: the value that follows is the reply.
                long n = ReadNumber(data, ref pos);
                int top = lua_gettop(L);
                for (long i = 0; i < 2 * n; i++) PushReply(L, data, ref pos, depth + 1);
                lua_settop(L, top);
                PushReply(L, data, ref pos, depth);
                return;
            }
            default:
                throw new FormatException("unexpected reply type " + (char)type);
        }
    }

    private static ReadOnlySpan<byte> ReadLine(ReadOnlySpan<byte> data, ref int pos)
    {
        int end = data[pos..].IndexOf("\r\n"u8);
        var line = data.Slice(pos, end);
        pos += end + 2;
        return line;
    }

    private static long ReadNumber(ReadOnlySpan<byte> data, ref int pos)
    {
        var line = ReadLine(data, ref pos);
        RespNumbers.TryParseInt64(line, out long v);
        return v;
    }

    private static double ParseDouble(ReadOnlySpan<byte> s)
    {
        if (s.SequenceEqual("inf"u8)) return double.PositiveInfinity;
        if (s.SequenceEqual("-inf"u8)) return double.NegativeInfinity;
        if (s.SequenceEqual("nan"u8)) return double.NaN;
        RespNumbers.TryParseDouble(s, out double d);
        return d;
    }

    /// <summary>Lua number to a Redis integer as C's cast does on x86-64 (out of range: INT64_MIN).</summary>
    public static long Truncate(double d)
    {
        if (double.IsNaN(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) return long.MinValue;
        return (long)d;
    }

    /// <summary>Writes the Lua value at idx as the script's reply.</summary>
    public static void WriteLua(IntPtr L, int idx, RespWriter w, int resp, int depth)
    {
        if (idx < 0) idx = lua_gettop(L) + idx + 1;
        switch (lua_type(L, idx))
        {
            case TString:
                w.WriteBulk(ToSpan(L, idx));
                return;
            case TBoolean:
                bool b = lua_toboolean(L, idx) != 0;
                if (resp == 2) { if (b) w.WriteInteger(1); else w.WriteNull(); }
                else w.WriteBoolean(b);
                return;
            case TNumber:
                w.WriteInteger(lua_isinteger(L, idx) != 0 ? ToInteger(L, idx) : Truncate(ToNumber(L, idx)));
                return;
            case TTable:
                if (depth > MaxDepth) { w.WriteError("ERR reached lua stack limit"); return; }
                lua_checkstack(L, 8);
                WriteTable(L, idx, w, resp, depth);
                return;
            default:
                w.WriteNull();
                return;
        }
    }

    private static void WriteTable(IntPtr L, int idx, RespWriter w, int resp, int depth)
    {
        int t = RawGetField(L, idx, "err"u8);
        if (t == TString) { w.WriteError(Sanitize(ToSpan(L, -1))); Pop(L, 1); return; }
        Pop(L, 1);
        t = RawGetField(L, idx, "ok"u8);
        if (t == TString) { w.WriteSimpleString(Sanitize(ToSpan(L, -1))); Pop(L, 1); return; }
        Pop(L, 1);
        t = RawGetField(L, idx, "double"u8);
        if (t == TNumber) { w.WriteDouble(ToNumber(L, -1)); Pop(L, 1); return; }
        Pop(L, 1);
        t = RawGetField(L, idx, "big_number"u8);
        if (t == TString)
        {
            var s = ToSpan(L, -1);
            if (w.IsResp3) { w.WriteRaw("("u8); w.WriteRaw(Sanitize(s)); w.WriteRaw("\r\n"u8); }
            else w.WriteBulk(s);
            Pop(L, 1);
            return;
        }
        Pop(L, 1);
        t = RawGetField(L, idx, "map"u8);
        if (t == TTable)
        {
            int m = lua_gettop(L);
            w.WriteMapHeader(CountPairs(L, m));
            lua_pushnil(L);
            while (lua_next(L, m) != 0)
            {
                WriteLua(L, -2, w, resp, depth + 1);
                WriteLua(L, -1, w, resp, depth + 1);
                Pop(L, 1);
            }
            Pop(L, 1);
            return;
        }
        Pop(L, 1);
        t = RawGetField(L, idx, "set"u8);
        if (t == TTable)
        {
            int m = lua_gettop(L);
            w.WriteSetHeader(CountPairs(L, m));
            lua_pushnil(L);
            while (lua_next(L, m) != 0)
            {
                WriteLua(L, -2, w, resp, depth + 1);
                Pop(L, 1);
            }
            Pop(L, 1);
            return;
        }
        Pop(L, 1);
        // An array: up to the first nil.
        long count = 0;
        while (lua_rawgeti(L, idx, count + 1) != TNil) { count++; Pop(L, 1); }
        Pop(L, 1);
        w.WriteArrayHeader(count);
        for (long i = 1; i <= count; i++)
        {
            lua_rawgeti(L, idx, i);
            WriteLua(L, -1, w, resp, depth + 1);
            Pop(L, 1);
        }
    }

    /// <summary>Status and error lines cannot hold CR or LF: Redis replaces them with spaces.</summary>
    private static ReadOnlySpan<byte> Sanitize(ReadOnlySpan<byte> s)
    {
        if (s.IndexOfAny((byte)'\r', (byte)'\n') < 0) return s;
        var copy = s.ToArray();
        for (int i = 0; i < copy.Length; i++) if (copy[i] is (byte)'\r' or (byte)'\n') copy[i] = (byte)' ';
        return copy;
    }

    /// <summary>Number of key/value pairs in the table at <paramref name="index"/> (RESP3 map and set headers).</summary>
    private static long CountPairs(IntPtr L, int index)
    {
        long n = 0;
        lua_pushnil(L);
        while (lua_next(L, index) != 0) { n++; Pop(L, 1); }
        return n;
    }
}
