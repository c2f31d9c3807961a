using System.Runtime.InteropServices;
using KeraLua;
using static Basalt.Server.Scripting.Libraries.LuaLibSupport;

namespace Basalt.Server.Scripting.Libraries;

/// <summary>Per-instance settings of a cjson table (cjson.new() gets its own); lives in a Lua full userdata.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CjsonConfig
{
    public int SparseConvert, SparseRatio, SparseSafe;
    public int EncodeMaxDepth, DecodeMaxDepth, NumberPrecision;
    public int KeepBuffer, EncodeInvalidNumbers, DecodeInvalidNumbers;

    public static CjsonConfig Defaults => new()
    {
        SparseConvert = 0, SparseRatio = 2, SparseSafe = 10,
        EncodeMaxDepth = 1000, DecodeMaxDepth = 1000, NumberPrecision = 14,
        KeepBuffer = 1, EncodeInvalidNumbers = 0, DecodeInvalidNumbers = 1,
    };
}

/// <summary>
/// The `cjson` table Redis gives scripts: Lua CJSON 2.1.0 semantics (array detection, sparse-array rules,
/// "%.14g" numbers, escaping incl. "\/", depth limits and the library's error messages).
/// </summary>
public static unsafe class CjsonLibrary
{
    private static readonly LuaFunction EncodeFn = Encode;
    private static readonly LuaFunction DecodeFn = CjsonDecoder.Decode;
    private static readonly LuaFunction SparseFn = EncodeSparseArray;
    private static readonly LuaFunction EncodeMaxDepthFn = EncodeMaxDepth;
    private static readonly LuaFunction DecodeMaxDepthFn = DecodeMaxDepth;
    private static readonly LuaFunction PrecisionFn = EncodeNumberPrecision;
    private static readonly LuaFunction KeepBufferFn = EncodeKeepBuffer;
    private static readonly LuaFunction EncodeInvalidFn = EncodeInvalidNumbers;
    private static readonly LuaFunction DecodeInvalidFn = DecodeInvalidNumbers;
    private static readonly LuaFunction NewFn = New;

    private static readonly (string, LuaFunction)[] Functions =
    {
        ("encode", EncodeFn), ("decode", DecodeFn), ("encode_sparse_array", SparseFn),
        ("encode_max_depth", EncodeMaxDepthFn), ("decode_max_depth", DecodeMaxDepthFn),
        ("encode_number_precision", PrecisionFn), ("encode_keep_buffer", KeepBufferFn),
        ("encode_invalid_numbers", EncodeInvalidFn), ("decode_invalid_numbers", DecodeInvalidFn), ("new", NewFn),
    };

    private static readonly string[] BoolOptions = { "off", "on" };
    private static readonly string[] InvalidNumberOptions = { "off", "on", "null" };

    [ThreadStatic] private static ByteBuf? t_buf;

    /// <summary>Creates the global `cjson` table.</summary>
    public static void Register(Lua state)
    {
        PushNewLibrary(state);
        state.SetGlobal("cjson");
    }

    private static void PushNewLibrary(Lua state)
    {
        var p = (CjsonConfig*)state.NewUserData(sizeof(CjsonConfig));
        *p = CjsonConfig.Defaults;
        CreateLibrary(state, Functions, -1);
        state.PushLightUserData(IntPtr.Zero);
        state.SetField(-2, "null");
        SetString(state, "_NAME", "cjson");
        SetString(state, "_VERSION", "2.1.0");
        state.Remove(-2); // the config userdata stays referenced by the wrappers
    }

    internal static CjsonConfig* Config(IntPtr L) => (CjsonConfig*)Lua.FromIntPtr(L).ToUserData(1);

    private static int New(IntPtr L)
    {
        var state = Lua.FromIntPtr(L);
        PushNewLibrary(state);
        return 1;
    }

    // ---- configuration functions (json_arg_init / json_integer_option / json_enum_option) -------------

    private static int EncodeSparseArray(IntPtr L)
    {
        const string fn = "encode_sparse_array";
        var cfg = Config(L);
        if (!ArgInit(L, 3, fn, out int err)) return err;
        if (!EnumOption(L, 1, &cfg->SparseConvert, null, fn, out err)) return err;
        if (!IntegerOption(L, 2, &cfg->SparseRatio, 0, int.MaxValue, fn, out err)) return err;
        if (!IntegerOption(L, 3, &cfg->SparseSafe, 0, int.MaxValue, fn, out err)) return err;
        return 3;
    }

    private static int EncodeMaxDepth(IntPtr L) => IntegerSetting(L, "encode_max_depth", &Config(L)->EncodeMaxDepth, 1, int.MaxValue);
    private static int DecodeMaxDepth(IntPtr L) => IntegerSetting(L, "decode_max_depth", &Config(L)->DecodeMaxDepth, 1, int.MaxValue);
    private static int EncodeNumberPrecision(IntPtr L) => IntegerSetting(L, "encode_number_precision", &Config(L)->NumberPrecision, 1, 14);
    private static int EncodeKeepBuffer(IntPtr L) => EnumSetting(L, "encode_keep_buffer", &Config(L)->KeepBuffer, null);
    private static int EncodeInvalidNumbers(IntPtr L) => EnumSetting(L, "encode_invalid_numbers", &Config(L)->EncodeInvalidNumbers, InvalidNumberOptions);
    private static int DecodeInvalidNumbers(IntPtr L) => EnumSetting(L, "decode_invalid_numbers", &Config(L)->DecodeInvalidNumbers, null);

    private static int IntegerSetting(IntPtr L, string fn, int* setting, int min, int max)
    {
        if (!ArgInit(L, 1, fn, out int err)) return err;
        return IntegerOption(L, 1, setting, min, max, fn, out err) ? 1 : err;
    }

    private static int EnumSetting(IntPtr L, string fn, int* setting, string[]? options)
    {
        if (!ArgInit(L, 1, fn, out int err)) return err;
        return EnumOption(L, 1, setting, options, fn, out err) ? 1 : err;
    }

    /// <summary>At most `args` user arguments; pads the missing ones with nil. User arg i is at stack index i + 1.</summary>
    private static bool ArgInit(IntPtr L, int args, string fn, out int err)
    {
        var state = Lua.FromIntPtr(L);
        err = 0;
        if (state.GetTop() - 1 > args) { err = ArgError(L, args + 1, fn, "found too many arguments"); return false; }
        while (state.GetTop() - 1 < args) state.PushNil();
        return true;
    }

    private static bool IntegerOption(IntPtr L, int opt, int* setting, int min, int max, string fn, out int err)
    {
        var state = Lua.FromIntPtr(L);
        err = 0;
        int idx = opt + 1;
        if (!state.IsNil(idx))
        {
            if (!TryToNumber(L, idx, out double d)) { err = TypeError(L, opt, idx, fn, "number"); return false; }
            int value = unchecked((int)CLong(d));
            if (value < min || value > max)
            {
                // The library always blames argument #1 here.
                err = ArgError(L, 1, fn, $"expected integer between {min} and {max}");
                return false;
            }
            *setting = value;
        }
        state.PushInteger(*setting);
        return true;
    }

    private static bool EnumOption(IntPtr L, int opt, int* setting, string[]? options, string fn, out int err)
    {
        var state = Lua.FromIntPtr(L);
        err = 0;
        int idx = opt + 1;
        options ??= BoolOptions;
        if (!state.IsNil(idx))
        {
            if (state.IsBoolean(idx)) *setting = state.ToBoolean(idx) ? 1 : 0;
            else
            {
                if (!TryCheckBytes(L, idx, out var name)) { err = TypeError(L, opt, idx, fn, "string"); return false; }
                int found = -1;
                for (int i = 0; i < options.Length; i++)
                    if (name.AsSpan().SequenceEqual(System.Text.Encoding.ASCII.GetBytes(options[i]))) { found = i; break; }
                if (found < 0)
                {
                    err = ArgError(L, opt, fn, $"invalid option '{System.Text.Encoding.UTF8.GetString(name)}'");
                    return false;
                }
                *setting = found;
            }
        }
        if (*setting == 0 || *setting == 1) state.PushBoolean(*setting == 1);
        else state.PushString(options[*setting]);
        return true;
    }

    // ---- encode --------------------------------------------------------------------------------------

    private struct Frame
    {
        public bool IsArray, First;
        public int Len, I;
    }

    private static int Encode(IntPtr L)
    {
        var state = Lua.FromIntPtr(L);
        if (state.GetTop() - 1 != 1) return ArgError(L, 1, "encode", "expected 1 argument");
        int top0 = state.GetTop();
        var buf = t_buf ??= new ByteBuf();
        buf.Reset();
        try
        {
            new Encoder(L, state, Config(L), buf).Run();
            PushBytes(L, buf.Span);
            return 1;
        }
        catch (LuaLibException e)
        {
            state.SetTop(top0);
            return e.WithPosition ? Error(L, e.Message) : RawError(L, e.Message);
        }
    }

    private static readonly byte[]?[] Escapes = BuildEscapes();

    private static byte[]?[] BuildEscapes()
    {
        var t = new byte[]?[256];
        for (int c = 0; c < 32; c++) t[c] = System.Text.Encoding.ASCII.GetBytes($"\\u{c:x4}");
        t['\b'] = "\\b"u8.ToArray();
        t['\t'] = "\\t"u8.ToArray();
        t['\n'] = "\\n"u8.ToArray();
        t['\f'] = "\\f"u8.ToArray();
        t['\r'] = "\\r"u8.ToArray();
        t['"'] = "\\\""u8.ToArray();
        t['\\'] = "\\\\"u8.ToArray();
        t['/'] = "\\/"u8.ToArray();
        t[127] = "\\u007f"u8.ToArray();
        return t;
    }

    private sealed class Encoder(IntPtr L, Lua state, CjsonConfig* cfg, ByteBuf buf)
    {
        private readonly Stack<Frame> _frames = new();
        private int _depth;

        public void Run()
        {
            if (!StartValue()) return;
            while (_frames.Count > 0)
            {
                var f = _frames.Pop();
                if (f.IsArray)
                {
                    if (f.I == f.Len)
                    {
                        buf.Add((byte)']');
                        _depth--;
                        state.Pop(1);
                        continue;
                    }
                    if (f.I > 0) buf.Add((byte)',');
                    f.I++;
                    _frames.Push(f);
                    state.RawGetInteger(-1, f.I);
                    if (!StartValue()) state.Pop(1);
                }
                else
                {
                    if (!state.Next(-2))
                    {
                        buf.Add((byte)'}');
                        _depth--;
                        state.Pop(1);
                        continue;
                    }
                    if (!f.First) buf.Add((byte)',');
                    f.First = false;
                    _frames.Push(f);
                    var kt = state.Type(-2);
                    if (kt == LuaType.Number)
                    {
                        buf.Add((byte)'"');
                        AppendNumber(-2);
                        buf.Add("\":"u8);
                    }
                    else if (kt == LuaType.String)
                    {
                        AppendString(-2);
                        buf.Add((byte)':');
                    }
                    else throw Exception(-2, "table key must be a number or string");
                    if (!StartValue()) state.Pop(1);
                }
            }
        }

        /// <summary>Encodes the value on top; for a table opens a frame (table stays on the stack) and returns true.</summary>
        private bool StartValue()
        {
            switch (state.Type(-1))
            {
                case LuaType.String: AppendString(-1); return false;
                case LuaType.Number: AppendNumber(-1); return false;
                case LuaType.Boolean: buf.Add(state.ToBoolean(-1) ? "true"u8 : "false"u8); return false;
                case LuaType.Nil: buf.Add("null"u8); return false;
                case LuaType.LightUserData when state.ToUserData(-1) == IntPtr.Zero: buf.Add("null"u8); return false;
                case LuaType.Table:
                    _depth++;
                    if (_depth > cfg->EncodeMaxDepth || !CheckStack51(3))
                        throw new LuaLibException($"Cannot serialise, excessive nesting ({_depth})");
                    int len = ArrayLength();
                    if (len > 0)
                    {
                        buf.Add((byte)'[');
                        _frames.Push(new Frame { IsArray = true, Len = len });
                    }
                    else
                    {
                        buf.Add((byte)'{');
                        state.PushNil();
                        _frames.Push(new Frame { IsArray = false, First = true });
                    }
                    return true;
                default:
                    throw Exception(-1, "type not supported");
            }
        }

        /// <summary>Lua 5.1 lua_checkstack(L, n): fails past LUAI_MAXCSTACK slots (the 5.1 frame has no config argument).</summary>
        private bool CheckStack51(int n) => state.GetTop() - 1 + n <= MaxCStack && state.CheckStack(n + 2);

        private LuaLibException Exception(int index, string reason) =>
            new($"Cannot serialise {TypeName(L, index)}: {reason}");

        /// <summary>lua_array_length: &gt;0 array length, else encode as object; may reject excessively sparse arrays.</summary>
        private int ArrayLength()
        {
            int max = 0, items = 0;
            state.PushNil();
            while (state.Next(-2))
            {
                if (state.Type(-2) == LuaType.Number)
                {
                    double k = state.ToNumber(-2);
                    if (k != 0 && Math.Floor(k) == k && k >= 1)
                    {
                        if (k > max) max = CInt(k);
                        items++;
                        state.Pop(1);
                        continue;
                    }
                }
                state.Pop(2);
                return -1;
            }
            if (cfg->SparseRatio > 0 && max > unchecked(items * cfg->SparseRatio) && max > cfg->SparseSafe)
            {
                if (cfg->SparseConvert == 0) throw Exception(-1, "excessively sparse array");
                return -1;
            }
            return max;
        }

        private void AppendNumber(int index)
        {
            double num = state.ToNumber(index);
            bool invalid = double.IsInfinity(num) || double.IsNaN(num);
            switch (cfg->EncodeInvalidNumbers)
            {
                case 0:
                    if (invalid) throw Exception(index, "must not be NaN or Inf");
                    break;
                case 1:
                    if (double.IsNaN(num)) { buf.Add("nan"u8); return; }
                    break;
                default:
                    if (invalid) { buf.Add("null"u8); return; }
                    break;
            }
            buf.AddAscii(FormatG(num, cfg->NumberPrecision));
        }

        private void AppendString(int index)
        {
            var s = StringSpan(L, index);
            buf.Ensure(s.Length + 2);
            buf.Add((byte)'"');
            foreach (byte c in s)
            {
                var esc = Escapes[c];
                if (esc is null) buf.Add(c);
                else buf.Add(esc);
            }
            buf.Add((byte)'"');
        }
    }
}
