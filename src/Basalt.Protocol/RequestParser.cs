namespace Basalt.Protocol;

/// <summary>Location of one argument inside the connection's receive buffer.</summary>
public struct ArgRef
{
    public int Offset;
    public int Length;
}

public enum ParseStatus
{
    /// <summary>A whole command was parsed (it may have zero arguments: an empty line or *0).</summary>
    Complete,
    /// <summary>More bytes are needed; <see cref="RequestParser.BytesNeeded"/> hints how many.</summary>
    Incomplete,
    /// <summary>The input is malformed; <see cref="RequestParser.Error"/> holds Redis's wording.</summary>
    Error,
}

/// <summary>
/// Parses client requests (RESP multibulk or inline) from a contiguous receive buffer without copying:
/// each argument is an (offset, length) pair into that buffer. The parse of a long multibulk
/// resumes where it stopped, so a command that arrives in many packets is not rescanned.
/// Inline arguments are unquoted in place (the result is never longer than its source).
/// </summary>
public sealed class RequestParser
{
    public const int InlineMaxSize = 64 * 1024;
    private const int UnauthMultibulkMax = 10;
    private const int UnauthBulkMax = 16384;

    private ArgRef[] _args = new ArgRef[64];
    private int _argCount;

    // Resume state for a multibulk command that is only partly received.
    private int _mbRemaining = -1;
    private int _resumeOffset;   // relative to the command's start
    private int _resumeArgIndex; // first argument of the command in _args

    public long MaxBulkLength { get; set; } = 512L * 1024 * 1024;

    /// <summary>Redis limits unauthenticated clients to tiny requests so a stranger cannot make it allocate.</summary>
    public bool Unauthenticated { get; set; }

    public string? Error { get; private set; }

    public int BytesNeeded { get; private set; }

    public ReadOnlySpan<ArgRef> Args => _args.AsSpan(0, _argCount);

    public ArgRef[] ArgArray => _args;

    public int ArgCount => _argCount;

    /// <summary>Forgets parsed arguments of previous commands (after a batch was executed).</summary>
    public void ResetArgs()
    {
        // Keep the arguments of a half-parsed multibulk command, moved to the front.
        if (_mbRemaining >= 0 && _resumeArgIndex > 0)
        {
            int n = _argCount - _resumeArgIndex;
            Array.Copy(_args, _resumeArgIndex, _args, 0, n);
            _argCount = n;
            _resumeArgIndex = 0;
        }
        else if (_mbRemaining < 0)
        {
            _argCount = 0;
        }
    }

    /// <summary>The receive buffer moved the unparsed tail by <paramref name="delta"/> bytes (compaction).</summary>
    public void Shift(int delta)
    {
        for (int i = _resumeArgIndex; i < _argCount; i++) _args[i].Offset -= delta;
    }

    private void AddArg(int offset, int length)
    {
        if (_argCount == _args.Length) Array.Resize(ref _args, _args.Length * 2);
        _args[_argCount].Offset = offset;
        _args[_argCount].Length = length;
        _argCount++;
    }

    /// <summary>
    /// Parses one command starting at <paramref name="pos"/>. On Complete, <paramref name="pos"/> moves past it
    /// and the command's arguments are Args[argStart..argStart+argCount].
    /// </summary>
    public ParseStatus TryParse(byte[] buf, ref int pos, int end, out int argStart, out int argCount)
    {
        argStart = _argCount;
        argCount = 0;
        Error = null;
        BytesNeeded = 0;
        if (_mbRemaining >= 0 || (pos < end && buf[pos] == '*'))
            return ParseMultibulk(buf, ref pos, end, out argStart, out argCount);
        if (pos >= end) return ParseStatus.Incomplete;
        return ParseInline(buf, ref pos, end, out argCount);
    }

    private ParseStatus ParseMultibulk(byte[] buf, ref int pos, int end, out int argStart, out int argCount)
    {
        argCount = 0;
        int start = pos;
        int p;
        if (_mbRemaining < 0)
        {
            argStart = _argCount;
            int nl = IndexOfCrLf(buf, pos + 1, end);
            if (nl < 0)
            {
                if (end - pos > InlineMaxSize) return Fail("Protocol error: too big mbulk count string");
                return ParseStatus.Incomplete;
            }
            if (!ParseLength(buf.AsSpan(pos + 1, nl - pos - 1), out long count) || count > int.MaxValue)
                return Fail("Protocol error: invalid multibulk length");
            if (Unauthenticated && count > UnauthMultibulkMax)
                return Fail("Protocol error: unauthenticated multibulk length");
            p = nl + 2;
            if (count <= 0)
            {
                pos = p;
                return ParseStatus.Complete;
            }
            _mbRemaining = (int)count;
            _resumeArgIndex = _argCount;
        }
        else
        {
            argStart = _resumeArgIndex;
            p = start + _resumeOffset;
        }

        while (_mbRemaining > 0)
        {
            if (p >= end) return Suspend(start, p, 1);
            if (buf[p] != '$')
                return Fail($"Protocol error: expected '$', got '{(char)buf[p]}'");
            int nl = IndexOfCrLf(buf, p + 1, end);
            if (nl < 0)
            {
                if (end - p > InlineMaxSize) return Fail("Protocol error: too big bulk count string");
                return Suspend(start, p, 1);
            }
            if (!ParseLength(buf.AsSpan(p + 1, nl - p - 1), out long len) || len < 0 || len > MaxBulkLength)
                return Fail("Protocol error: invalid bulk length");
            if (Unauthenticated && len > UnauthBulkMax)
                return Fail("Protocol error: unauthenticated bulk length");
            long bodyEnd = (long)nl + 2 + len + 2;
            if (bodyEnd > end) return Suspend(start, p, (int)Math.Min(int.MaxValue, bodyEnd - end));
            AddArg(nl + 2, (int)len);
            p = (int)bodyEnd;
            _mbRemaining--;
        }
        _mbRemaining = -1;
        _resumeOffset = 0;
        argCount = _argCount - argStart;
        pos = p;
        return ParseStatus.Complete;
    }

    private ParseStatus Suspend(int start, int p, int needed)
    {
        _resumeOffset = p - start;
        BytesNeeded = needed;
        return ParseStatus.Incomplete;
    }

    private ParseStatus Fail(string message)
    {
        Error = message;
        _mbRemaining = -1;
        return ParseStatus.Error;
    }

    private static int IndexOfCrLf(byte[] buf, int from, int end)
    {
        if (from >= end) return -1;
        int i = buf.AsSpan(from, end - from).IndexOf((byte)'\r');
        if (i < 0) return -1;
        int at = from + i;
        if (at + 1 >= end) return -1;
        return at;
    }

    /// <summary>Length fields: optional '-', digits only (Redis uses string2ll here).</summary>
    private static bool ParseLength(ReadOnlySpan<byte> s, out long value) => RespNumbers.TryParseInt64(s, out value);

    private ParseStatus ParseInline(byte[] buf, ref int pos, int end, out int argCount)
    {
        argCount = 0;
        // Redis finds the newline with strchr, so a NUL byte before it hides it: the request stays incomplete.
        int nlIdx = buf.AsSpan(pos, end - pos).IndexOfAny((byte)'\n', (byte)0);
        if (nlIdx >= 0 && buf[pos + nlIdx] == 0) nlIdx = -1;
        if (nlIdx < 0)
        {
            if (end - pos > InlineMaxSize) return Fail("Protocol error: too big inline request");
            return ParseStatus.Incomplete;
        }
        int lineEnd = pos + nlIdx;
        int next = lineEnd + 1;
        if (lineEnd > pos && buf[lineEnd - 1] == '\r') lineEnd--;
        int first = _argCount;
        if (!SplitArgs(buf, pos, lineEnd))
        {
            _argCount = first;
            return Fail("Protocol error: unbalanced quotes in request");
        }
        argCount = _argCount - first;
        pos = next;
        return ParseStatus.Complete;
    }

    /// <summary>Splits a line like Redis's sdssplitargs: spaces separate, "double" quotes with escapes, 'single' quotes.</summary>
    private bool SplitArgs(byte[] buf, int p, int end)
    {
        while (true)
        {
            while (p < end && IsSpace(buf[p])) p++;
            if (p >= end) return true;
            int w = p; // write position: unquoted output overwrites the source in place
            int argStart = w;
            bool inDq = false, inSq = false, done = false;
            while (!done)
            {
                if (inDq)
                {
                    if (p >= end) return false;
                    byte c = buf[p];
                    if (c == '\\' && p + 3 < end && buf[p + 1] == 'x' && IsHex(buf[p + 2]) && IsHex(buf[p + 3]))
                    {
                        buf[w++] = (byte)(HexVal(buf[p + 2]) * 16 + HexVal(buf[p + 3]));
                        p += 4;
                    }
                    else if (c == '\\' && p + 1 < end)
                    {
                        p++;
                        buf[w++] = buf[p] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            _ => buf[p],
                        };
                        p++;
                    }
                    else if (c == '"')
                    {
                        // A closing quote must be followed by a space or the end.
                        if (p + 1 < end && !IsSpace(buf[p + 1])) return false;
                        done = true;
                        p++;
                    }
                    else { buf[w++] = c; p++; }
                }
                else if (inSq)
                {
                    if (p >= end) return false;
                    byte c = buf[p];
                    if (c == '\\' && p + 1 < end && buf[p + 1] == '\'')
                    {
                        buf[w++] = (byte)'\''; p += 2;
                    }
                    else if (c == '\'')
                    {
                        if (p + 1 < end && !IsSpace(buf[p + 1])) return false;
                        done = true;
                        p++;
                    }
                    else { buf[w++] = c; p++; }
                }
                else
                {
                    if (p >= end) { done = true; break; }
                    byte c = buf[p];
                    if (IsSpace(c)) { done = true; }
                    else if (c == '"') { inDq = true; p++; }
                    else if (c == '\'') { inSq = true; p++; }
                    else { buf[w++] = c; p++; }
                }
            }
            AddArg(argStart, w - argStart);
        }
    }

    private static bool IsSpace(byte c) => c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    private static bool IsHex(byte c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    private static int HexVal(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
