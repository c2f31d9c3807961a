using System.Buffers.Binary;
using KeraLua;
using static Basalt.Server.Scripting.Libraries.LuaLibSupport;

namespace Basalt.Server.Scripting.Libraries;

/// <summary>
/// The `cmsgpack` table (lua-cmsgpack 0.4.0 as bundled with Redis): pack, unpack, unpack_one, unpack_limit.
/// Numbers follow the Lua 5.1 build (every number is a double): integral values that fit int64 are packed as
/// integers, others as float32 when exact, else float64; unsigned 64-bit values unpack as signed.
/// </summary>
public static class CmsgpackLibrary
{
    private const int MaxNesting = 16;

    private static readonly LuaFunction PackFn = Pack;
    private static readonly LuaFunction UnpackFn = Unpack;
    private static readonly LuaFunction UnpackOneFn = UnpackOne;
    private static readonly LuaFunction UnpackLimitFn = UnpackLimit;

    [ThreadStatic] private static ByteBuf? t_buf;

    /// <summary>Creates the global `cmsgpack` table.</summary>
    public static void Register(Lua state)
    {
        CreateLibrary(state, new (string, LuaFunction)[]
        {
            ("pack", PackFn), ("unpack", UnpackFn), ("unpack_one", UnpackOneFn), ("unpack_limit", UnpackLimitFn),
        });
        SetString(state, "_NAME", "cmsgpack");
        SetString(state, "_VERSION", "lua-cmsgpack 0.4.0");
        SetString(state, "_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo");
        SetString(state, "_DESCRIPTION", "MessagePack C implementation for Lua");
        state.SetGlobal("cmsgpack");
    }

    // ---- pack ----------------------------------------------------------------------------------------

    private static int Pack(IntPtr L)
    {
        var state = Lua.FromIntPtr(L);
        int nargs = state.GetTop();
        if (nargs == 0) return ArgError(L, 0, "pack", "MessagePack pack needs input.");
        var buf = t_buf ??= new ByteBuf();
        buf.Reset();
        state.CheckStack(8);
        for (int i = 1; i <= nargs; i++)
        {
            state.PushCopy(i);
            EncodeValue(state, buf, 0);
        }
        PushBytes(L, buf.Span);
        return 1;
    }

    /// <summary>Encodes and pops the value on top of the stack.</summary>
    private static void EncodeValue(Lua state, ByteBuf buf, int level)
    {
        var t = state.Type(-1);
        if (t == LuaType.Table && level == MaxNesting) t = LuaType.Nil; // survives circular references
        switch (t)
        {
            case LuaType.String:
                EncodeBytes(buf, StringSpan(state.Handle, -1));
                break;
            case LuaType.Boolean:
                buf.Add(state.ToBoolean(-1) ? (byte)0xc3 : (byte)0xc2);
                break;
            case LuaType.Number:
                EncodeNumber(buf, state.ToNumber(-1));
                break;
            case LuaType.Table:
                EncodeTable(state, buf, level);
                break;
            default:
                buf.Add(0xc0);
                break;
        }
        state.Pop(1);
    }

    private static void EncodeNumber(ByteBuf buf, double n)
    {
        // IS_INT64_EQUIVALENT: not inf and (int64_t)n == n.
        if (!double.IsInfinity(n) && !double.IsNaN(n) && n >= -9223372036854775808.0 && n < 9223372036854775808.0 && (long)n == n)
        {
            EncodeInt(buf, (long)n);
            return;
        }
        float f = (float)n;
        if (n == f)
        {
            buf.Add(0xca);
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteSingleBigEndian(b, f);
            buf.Add(b);
        }
        else
        {
            buf.Add(0xcb);
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteDoubleBigEndian(b, n);
            buf.Add(b);
        }
    }

    private static void EncodeInt(ByteBuf buf, long n)
    {
        Span<byte> b = stackalloc byte[9];
        int len;
        if (n >= 0)
        {
            if (n <= 127) { b[0] = (byte)n; len = 1; }
            else if (n <= 0xff) { b[0] = 0xcc; b[1] = (byte)n; len = 2; }
            else if (n <= 0xffff) { b[0] = 0xcd; BinaryPrimitives.WriteUInt16BigEndian(b[1..], (ushort)n); len = 3; }
            else if (n <= 0xffffffffL) { b[0] = 0xce; BinaryPrimitives.WriteUInt32BigEndian(b[1..], (uint)n); len = 5; }
            else { b[0] = 0xcf; BinaryPrimitives.WriteUInt64BigEndian(b[1..], (ulong)n); len = 9; }
        }
        else
        {
            if (n >= -32) { b[0] = (byte)(sbyte)n; len = 1; }
            else if (n >= -128) { b[0] = 0xd0; b[1] = (byte)(sbyte)n; len = 2; }
            else if (n >= -32768) { b[0] = 0xd1; BinaryPrimitives.WriteInt16BigEndian(b[1..], (short)n); len = 3; }
            else if (n >= -2147483648L) { b[0] = 0xd2; BinaryPrimitives.WriteInt32BigEndian(b[1..], (int)n); len = 5; }
            else { b[0] = 0xd3; BinaryPrimitives.WriteInt64BigEndian(b[1..], n); len = 9; }
        }
        buf.Add(b[..len]);
    }

    private static void EncodeBytes(ByteBuf buf, ReadOnlySpan<byte> s)
    {
        int len = s.Length;
        if (len < 32) buf.Add((byte)(0xa0 | len));
        else if (len <= 0xff) { buf.Add(0xd9); buf.Add((byte)len); }
        else if (len <= 0xffff) { buf.Add(0xda); buf.Add((byte)(len >> 8)); buf.Add((byte)len); }
        else
        {
            buf.Add(0xdb);
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(b, (uint)len);
            buf.Add(b);
        }
        buf.Add(s);
    }

    private static void EncodeHeader(ByteBuf buf, long n, byte fix, byte b16, byte b32)
    {
        if (n <= 15) buf.Add((byte)(fix | n));
        else if (n <= 0xffff) { buf.Add(b16); buf.Add((byte)(n >> 8)); buf.Add((byte)n); }
        else
        {
            buf.Add(b32);
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(b, (uint)n);
            buf.Add(b);
        }
    }

    private static void EncodeTable(Lua state, ByteBuf buf, int level)
    {
        state.CheckStack(4);
        if (TableIsArray(state))
        {
            long len = state.RawLen(-1);
            EncodeHeader(buf, len, 0x90, 0xdc, 0xdd);
            for (long j = 1; j <= len; j++)
            {
                state.RawGetInteger(-1, j);
                EncodeValue(state, buf, level + 1);
            }
            return;
        }
        long count = 0;
        state.PushNil();
        while (state.Next(-2)) { state.Pop(1); count++; }
        EncodeHeader(buf, count, 0x80, 0xde, 0xdf);
        state.PushNil();
        while (state.Next(-2))
        {
            state.PushCopy(-2);
            EncodeValue(state, buf, level + 1); // key
            EncodeValue(state, buf, level + 1); // value
        }
    }

    /// <summary>Keys are exactly 1..n (positive integral numbers, max == count).</summary>
    private static bool TableIsArray(Lua state)
    {
        int top = state.GetTop();
        long count = 0;
        int max = 0;
        state.PushNil();
        while (state.Next(-2))
        {
            state.Pop(1);
            double n;
            if (state.Type(-1) != LuaType.Number || (n = state.ToNumber(-1)) <= 0 || CInt(n) != n)
            {
                state.SetTop(top);
                return false;
            }
            if (n > max) max = (int)n;
            count++;
        }
        state.SetTop(top);
        return max == count;
    }

    // ---- unpack --------------------------------------------------------------------------------------

    private static int Unpack(IntPtr L) => UnpackFull(L, 0, 0);

    private static int UnpackOne(IntPtr L)
    {
        var state = Lua.FromIntPtr(L);
        long offset = 0;
        if (!state.IsNoneOrNil(2))
        {
            if (!TryToNumber(L, 2, out double d)) return TypeError(L, 2, 2, "unpack_one", "number");
            offset = CLong(d);
        }
        return UnpackArgs(L, "unpack_one", 1, offset);
    }

    private static int UnpackLimit(IntPtr L)
    {
        var state = Lua.FromIntPtr(L);
        if (!TryToNumber(L, 2, out double dl)) return TypeError(L, 2, 2, "unpack_limit", "number");
        long offset = 0;
        if (!state.IsNoneOrNil(3))
        {
            if (!TryToNumber(L, 3, out double d)) return TypeError(L, 3, 3, "unpack_limit", "number");
            offset = CLong(d);
        }
        return UnpackArgs(L, "unpack_limit", unchecked((int)CLong(dl)), offset);
    }

    private static int UnpackArgs(IntPtr L, string fn, int limit, long offset)
    {
        var state = Lua.FromIntPtr(L);
        if (state.GetTop() > 1) state.SetTop(1);
        else if (state.GetTop() == 0) return TypeError(L, 1, 1, fn, "string");
        return UnpackFull(L, limit, unchecked((int)offset), fn);
    }

    private static int UnpackFull(IntPtr L, int limit, int offset, string fn = "unpack")
    {
        var state = Lua.FromIntPtr(L);
        if (!TryCheckBytes(L, 1, out var s)) return TypeError(L, 1, 1, fn, "string");
        if (state.GetTop() > 1) state.SetTop(1);
        long len = s.Length;
        bool decodeAll = limit == 0 && offset == 0;
        if (offset < 0 || limit < 0)
            return Error(L, $"Invalid request to unpack with offset of {offset} and limit of {unchecked((int)len)}.");
        if (offset > len)
            return Error(L, $"Start offset {offset} greater than input length {unchecked((int)len)}.");
        if (decodeAll) limit = int.MaxValue;

        var dec = new Decoder(state, s, offset);
        int cnt;
        try
        {
            for (cnt = 0; dec.Left > 0 && cnt < limit; cnt++)
                dec.DecodeOne();
        }
        catch (LuaLibException e)
        {
            state.SetTop(1);
            return e.WithPosition ? Error(L, e.Message) : RawError(L, e.Message);
        }
        if (!decodeAll)
        {
            long next = len - dec.Left;
            state.CheckStack(1);
            state.PushInteger(dec.Left == 0 ? -1 : next);
            state.Insert(2);
            cnt++;
        }
        return cnt;
    }

    /// <summary>Iterative decoder emulating the 5.1 library's stack use (its "stack overflow" limits).</summary>
    private sealed class Decoder(Lua state, byte[] data, int start)
    {
        private int _pos = start;
        public int Left => data.Length - _pos;

        // Container being filled: map (key then value) or array (next index).
        private readonly Stack<(bool IsMap, long Remaining, long Index, bool WantKey)> _frames = new();

        private void Need(int n)
        {
            if (Left < n) throw new LuaLibException("Missing bytes in input.");
        }

        /// <summary>Lua 5.1 luaL_checkstack(L, 1, msg): the 5.1 frame holds exactly what we hold here.</summary>
        private void CheckStack(string msg)
        {
            if (state.GetTop() + 1 > MaxCStack || !state.CheckStack(3))
                throw new LuaLibException($"stack overflow ({msg})");
        }

        private const string TooMany = "too many return values at once; use unpack_one or unpack_limit instead.";

        public void DecodeOne()
        {
            while (true)
            {
                // Decode the start of one value.
                Need(1);
                CheckStack(TooMany);
                byte b = data[_pos];
                bool container = false;
                switch (b)
                {
                    case 0xcc: Need(2); PushNumber51(state, data[_pos + 1]); _pos += 2; break;
                    case 0xd0: Need(2); PushNumber51(state, (sbyte)data[_pos + 1]); _pos += 2; break;
                    case 0xcd: Need(3); PushNumber51(state, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(_pos + 1))); _pos += 3; break;
                    case 0xd1: Need(3); PushNumber51(state, BinaryPrimitives.ReadInt16BigEndian(data.AsSpan(_pos + 1))); _pos += 3; break;
                    case 0xce: Need(5); PushNumber51(state, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(_pos + 1))); _pos += 5; break;
                    case 0xd2: Need(5); PushNumber51(state, BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(_pos + 1))); _pos += 5; break;
                    // uint64 goes through lua_pushinteger (signed) in the bundled build.
                    case 0xcf: Need(9); PushNumber51(state, (double)BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(_pos + 1))); _pos += 9; break;
                    case 0xd3: Need(9); PushNumber51(state, (double)BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(_pos + 1))); _pos += 9; break;
                    case 0xc0: state.PushNil(); _pos += 1; break;
                    case 0xc3: state.PushBoolean(true); _pos += 1; break;
                    case 0xc2: state.PushBoolean(false); _pos += 1; break;
                    case 0xca: Need(5); PushNumber51(state, BinaryPrimitives.ReadSingleBigEndian(data.AsSpan(_pos + 1))); _pos += 5; break;
                    case 0xcb: Need(9); PushNumber51(state, BinaryPrimitives.ReadDoubleBigEndian(data.AsSpan(_pos + 1))); _pos += 9; break;
                    case 0xd9: { Need(2); int l = data[_pos + 1]; Need(2 + l); PushBytes(state.Handle, data.AsSpan(_pos + 2, l)); _pos += 2 + l; break; }
                    case 0xda: { Need(3); int l = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(_pos + 1)); Need(3 + l); PushBytes(state.Handle, data.AsSpan(_pos + 3, l)); _pos += 3 + l; break; }
                    case 0xdb:
                    {
                        Need(5);
                        long l = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(_pos + 1));
                        if (Left < 5 + l) throw new LuaLibException("Missing bytes in input.");
                        PushBytes(state.Handle, data.AsSpan(_pos + 5, (int)l));
                        _pos += 5 + (int)l;
                        break;
                    }
                    case 0xdc: Need(3); _pos += 3; container = StartArray(BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(_pos - 2))); break;
                    case 0xdd: Need(5); _pos += 5; container = StartArray(BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(_pos - 4))); break;
                    case 0xde: Need(3); _pos += 3; container = StartMap(BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(_pos - 2))); break;
                    case 0xdf: Need(5); _pos += 5; container = StartMap(BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(_pos - 4))); break;
                    default:
                        if ((b & 0x80) == 0) { PushNumber51(state, b); _pos += 1; }
                        else if ((b & 0xe0) == 0xe0) { PushNumber51(state, (sbyte)b); _pos += 1; }
                        else if ((b & 0xe0) == 0xa0)
                        {
                            int l = b & 0x1f;
                            Need(1 + l);
                            PushBytes(state.Handle, data.AsSpan(_pos + 1, l));
                            _pos += 1 + l;
                        }
                        else if ((b & 0xf0) == 0x90) { _pos += 1; container = StartArray(b & 0xf); }
                        else if ((b & 0xf0) == 0x80) { _pos += 1; container = StartMap(b & 0xf); }
                        else throw new LuaLibException("Bad data format in input.");
                        break;
                }
                if (container) continue;

                // A value is complete: store it into its container(s).
                while (true)
                {
                    if (_frames.Count == 0) return;
                    var f = _frames.Pop();
                    if (f.IsMap)
                    {
                        if (f.WantKey)
                        {
                            _frames.Push((true, f.Remaining, 0, false)); // key pushed; now its value
                            break;
                        }
                        SetTable(-3);
                        if (f.Remaining - 1 > 0) { _frames.Push((true, f.Remaining - 1, 0, true)); break; }
                        continue; // map finished
                    }
                    // array: stack is table, index, value
                    SetTable(-3);
                    if (f.Remaining - 1 > 0) { _frames.Push((false, f.Remaining - 1, f.Index + 1, false)); PushIndex(f.Index + 1); break; }
                }
            }
        }

        private bool StartArray(long len)
        {
            state.NewTable();
            CheckStack("in function mp_decode_to_lua_array");
            if (len == 0) return false;
            _frames.Push((false, len, 1, false));
            PushIndex(1);
            return true;
        }

        private void PushIndex(long i) => state.PushInteger(i);

        private bool StartMap(long len)
        {
            state.NewTable();
            if (len == 0) return false;
            _frames.Push((true, len, 0, true));
            return true;
        }

        /// <summary>lua_settable(t, k, v) with t at `tableIndex`; nil/NaN keys raise like the Lua API does.</summary>
        private void SetTable(int tableIndex)
        {
            var kt = state.Type(-2);
            if (kt == LuaType.Nil) throw new LuaLibException("table index is nil", false);
            if (kt == LuaType.Number && double.IsNaN(state.ToNumber(-2))) throw new LuaLibException("table index is NaN", false);
            state.RawSet(tableIndex);
        }
    }
}
