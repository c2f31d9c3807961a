using KeraLua;
using static Basalt.Server.Scripting.Libraries.LuaLibSupport;

namespace Basalt.Server.Scripting.Libraries;

/// <summary>
/// cjson.decode: the Lua CJSON 2.1.0 tokenizer and parser, including its quirks (strtod numbers incl. hex/inf/nan
/// when decode_invalid_numbers is on, a NUL byte ends the input, error positions and token names).
/// Iterative (explicit container stack) so deep input cannot exhaust the .NET stack.
/// </summary>
internal static unsafe class CjsonDecoder
{
    private enum T { ObjBegin, ObjEnd, ArrBegin, ArrEnd, String, Number, Boolean, Null, Colon, Comma, End, Whitespace, Error, Unknown }

    private static readonly string[] TokenNames =
    {
        "T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER", "T_BOOLEAN", "T_NULL",
        "T_COLON", "T_COMMA", "T_END", "T_WHITESPACE", "T_ERROR", "T_UNKNOWN",
    };

    private struct Token
    {
        public T Type;
        public int Index;
        public double Number;
        public bool Boolean;
        public string? Error;
    }

    internal static int Decode(IntPtr L)
    {
        var state = Lua.FromIntPtr(L);
        if (state.GetTop() - 1 != 1) return ArgError(L, 1, "decode", "expected 1 argument");
        if (!TryCheckBytes(L, 2, out var data)) return TypeError(L, 1, 2, "decode", "string");
        if (data.Length >= 2 && (data[0] == 0 || data[1] == 0))
            return Error(L, "JSON parser does not support UTF-16 or UTF-32");
        int top0 = state.GetTop();
        try
        {
            new Parser(state, CjsonLibrary.Config(L), data).Run();
            return 1;
        }
        catch (LuaLibException e)
        {
            state.SetTop(top0);
            return Error(L, e.Message);
        }
    }

    private sealed class Parser(Lua state, CjsonConfig* cfg, byte[] data)
    {
        private int _ptr, _depth;
        private readonly ByteBuf _tmp = new();
        private readonly Stack<(bool IsObject, int Index)> _frames = new();

        private byte At(int i) => i < data.Length ? data[i] : (byte)0;

        public void Run()
        {
            var token = default(Token);
            NextToken(ref token);
            ParseValue(ref token);
            NextToken(ref token);
            if (token.Type != T.End) throw ParseError("the end", token);
        }

        /// <summary>json_process_value for `token`, including whole nested containers; leaves one value on the stack.</summary>
        private void ParseValue(ref Token token)
        {
            while (true)
            {
                // Start a value.
                bool complete = true;
                switch (token.Type)
                {
                    case T.String: PushBytes(state.Handle, _tmp.Span); break;
                    case T.Number: PushNumber51(state, token.Number); break;
                    case T.Boolean: state.PushBoolean(token.Boolean); break;
                    case T.Null: state.PushLightUserData(IntPtr.Zero); break;
                    case T.ArrBegin:
                        Descend(2);
                        state.NewTable();
                        NextToken(ref token);
                        if (token.Type == T.ArrEnd) { _depth--; break; }
                        _frames.Push((false, 1));
                        complete = false;
                        break;
                    case T.ObjBegin:
                        Descend(3);
                        state.NewTable();
                        NextToken(ref token);
                        if (token.Type == T.ObjEnd) { _depth--; break; }
                        _frames.Push((true, 0));
                        StartMember(ref token);
                        complete = false;
                        break;
                    default:
                        throw ParseError("value", token);
                }
                if (!complete) continue; // `token` is the first value of the new container

                // Attach finished values to their containers until one expects another value.
                while (true)
                {
                    if (_frames.Count == 0) return;
                    var (isObject, index) = _frames.Pop();
                    if (isObject)
                    {
                        state.RawSet(-3);
                        NextToken(ref token);
                        if (token.Type == T.ObjEnd) { _depth--; continue; }
                        if (token.Type != T.Comma) throw ParseError("comma or object end", token);
                        _frames.Push((true, 0));
                        NextToken(ref token);
                        StartMember(ref token);
                        break;
                    }
                    state.RawSetInteger(-2, index);
                    NextToken(ref token);
                    if (token.Type == T.ArrEnd) { _depth--; continue; }
                    if (token.Type != T.Comma) throw ParseError("comma or array end", token);
                    _frames.Push((false, index + 1));
                    NextToken(ref token);
                    break;
                }
            }
        }

        /// <summary>Object member: key string, colon; leaves the key pushed and `token` at the value.</summary>
        private void StartMember(ref Token token)
        {
            if (token.Type != T.String) throw ParseError("object key string", token);
            PushBytes(state.Handle, _tmp.Span);
            NextToken(ref token);
            if (token.Type != T.Colon) throw ParseError("colon", token);
            NextToken(ref token);
        }

        private void Descend(int slots)
        {
            _depth++;
            // Lua 5.1 lua_checkstack: frame holds the JSON string plus what the parse pushed (our config arg excluded).
            if (_depth <= cfg->DecodeMaxDepth && state.GetTop() - 1 + slots <= MaxCStack && state.CheckStack(slots + 2)) return;
            throw new LuaLibException($"Found too many nested data structures ({_depth}) at character {_ptr}");
        }

        private static LuaLibException ParseError(string expected, in Token token)
        {
            string found = token.Type == T.Error ? token.Error! : TokenNames[(int)token.Type];
            return new LuaLibException($"Expected {expected} but found {found} at character {token.Index + 1}");
        }

        private static T Ch2Token(byte c) => c switch
        {
            (byte)'{' => T.ObjBegin,
            (byte)'}' => T.ObjEnd,
            (byte)'[' => T.ArrBegin,
            (byte)']' => T.ArrEnd,
            (byte)',' => T.Comma,
            (byte)':' => T.Colon,
            0 => T.End,
            (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' => T.Whitespace,
            (byte)'f' or (byte)'i' or (byte)'I' or (byte)'n' or (byte)'N' or (byte)'t' or (byte)'"' or (byte)'+' or (byte)'-' => T.Unknown,
            >= (byte)'0' and <= (byte)'9' => T.Unknown,
            _ => T.Error,
        };

        private void SetError(ref Token token, string message)
        {
            token.Type = T.Error;
            token.Index = _ptr;
            token.Error = message;
        }

        private void NextToken(ref Token token)
        {
            byte ch;
            while (true)
            {
                ch = At(_ptr);
                token.Type = Ch2Token(ch);
                if (token.Type != T.Whitespace) break;
                _ptr++;
            }
            token.Index = _ptr;
            if (token.Type == T.Error) { SetError(ref token, "invalid token"); return; }
            if (token.Type == T.End) return;
            if (token.Type != T.Unknown) { _ptr++; return; }

            if (ch == '"') { NextString(ref token); return; }
            if (ch == '-' || (ch >= '0' && ch <= '9'))
            {
                if (cfg->DecodeInvalidNumbers == 0 && IsInvalidNumber()) { SetError(ref token, "invalid number"); return; }
                NextNumber(ref token);
                return;
            }
            if (StartsWith("true"u8)) { token.Type = T.Boolean; token.Boolean = true; _ptr += 4; return; }
            if (StartsWith("false"u8)) { token.Type = T.Boolean; token.Boolean = false; _ptr += 5; return; }
            if (StartsWith("null"u8)) { token.Type = T.Null; _ptr += 4; return; }
            if (cfg->DecodeInvalidNumbers != 0 && IsInvalidNumber()) { NextNumber(ref token); return; }
            SetError(ref token, "invalid token");
        }

        private bool StartsWith(ReadOnlySpan<byte> word)
        {
            for (int i = 0; i < word.Length; i++)
                if (At(_ptr + i) != word[i]) return false;
            return true;
        }

        private bool StartsWithCI(int p, string word)
        {
            for (int i = 0; i < word.Length; i++)
                if ((At(p + i) | 0x20) != word[i]) return false;
            return true;
        }

        /// <summary>JSON forbids these (leading +, hex, leading zeros, inf, nan); strtod would take them.</summary>
        private bool IsInvalidNumber()
        {
            int p = _ptr;
            if (At(p) == '+') return true;
            if (At(p) == '-') p++;
            if (At(p) == '0')
            {
                int ch2 = At(p + 1);
                return (ch2 | 0x20) == 'x' || (ch2 >= '0' && ch2 <= '9');
            }
            if (At(p) <= '9') return false;
            return StartsWithCI(p, "inf") || StartsWithCI(p, "nan");
        }

        private void NextNumber(ref Token token)
        {
            token.Type = T.Number;
            int end = Array.IndexOf(data, (byte)0, _ptr);
            var span = data.AsSpan(_ptr, (end < 0 ? data.Length : end) - _ptr);
            int used = CStrtod(span, out token.Number);
            if (used == 0) SetError(ref token, "invalid number");
            else _ptr += used;
        }

        private static byte Escape2Char(byte c) => c switch
        {
            (byte)'"' => (byte)'"',
            (byte)'\\' => (byte)'\\',
            (byte)'/' => (byte)'/',
            (byte)'b' => (byte)'\b',
            (byte)'t' => (byte)'\t',
            (byte)'n' => (byte)'\n',
            (byte)'f' => (byte)'\f',
            (byte)'r' => (byte)'\r',
            (byte)'u' => (byte)'u',
            _ => 0,
        };

        private void NextString(ref Token token)
        {
            _ptr++;
            _tmp.Reset();
            byte ch;
            while ((ch = At(_ptr)) != '"')
            {
                if (ch == 0) { SetError(ref token, "unexpected end of string"); return; }
                if (ch == '\\')
                {
                    ch = Escape2Char(At(_ptr + 1));
                    if (ch == 'u')
                    {
                        if (AppendUnicodeEscape()) continue;
                        SetError(ref token, "invalid unicode escape code");
                        return;
                    }
                    if (ch == 0) { SetError(ref token, "invalid escape code"); return; }
                    _ptr++;
                }
                _tmp.Add(ch);
                _ptr++;
            }
            _ptr++;
            token.Type = T.String;
        }

        private int DecodeHex4(int p)
        {
            int v = 0;
            for (int i = 0; i < 4; i++)
            {
                int c = At(p + i);
                int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
                if (d < 0) return -1;
                v = (v << 4) | d;
            }
            return v;
        }

        private bool AppendUnicodeEscape()
        {
            int escapeLen = 6;
            int cp = DecodeHex4(_ptr + 2);
            if (cp < 0) return false;
            if ((cp & 0xF800) == 0xD800)
            {
                if ((cp & 0x400) != 0) return false; // first surrogate must be the high one
                if (At(_ptr + escapeLen) != '\\' || At(_ptr + escapeLen + 1) != 'u') return false;
                int low = DecodeHex4(_ptr + 2 + escapeLen);
                if (low < 0 || (low & 0xFC00) != 0xDC00) return false;
                cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
                escapeLen = 12;
            }
            if (cp <= 0x7F) _tmp.Add((byte)cp);
            else if (cp <= 0x7FF)
            {
                _tmp.Add((byte)(0xC0 | (cp >> 6)));
                _tmp.Add((byte)(0x80 | (cp & 0x3F)));
            }
            else if (cp <= 0xFFFF)
            {
                _tmp.Add((byte)(0xE0 | (cp >> 12)));
                _tmp.Add((byte)(0x80 | ((cp >> 6) & 0x3F)));
                _tmp.Add((byte)(0x80 | (cp & 0x3F)));
            }
            else
            {
                _tmp.Add((byte)(0xF0 | (cp >> 18)));
                _tmp.Add((byte)(0x80 | ((cp >> 12) & 0x3F)));
                _tmp.Add((byte)(0x80 | ((cp >> 6) & 0x3F)));
                _tmp.Add((byte)(0x80 | (cp & 0x3F)));
            }
            _ptr += escapeLen;
            return true;
        }
    }
}
