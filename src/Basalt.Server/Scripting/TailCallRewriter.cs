using System.Text;

namespace Basalt.Server.Scripting;

/// <summary>
/// Turns <c>return redis.call(...)</c> (any redis.* function, and math.random) into <c>return (redis.call(...))</c> before compiling. redis.call is a Lua
/// wrapper here (native callbacks cannot raise Lua errors), and Lua 5.4 tail calls would drop the caller's frame,
/// losing the "on @user_script:N." location Redis puts in the error. Parenthesized, it is not a tail call and still
/// returns the one value redis.call returns. Strings and comments are skipped; line numbers do not change.
/// </summary>
internal static class TailCallRewriter
{
    public static byte[]? Rewrite(ReadOnlySpan<byte> src)
    {
        if (src.IndexOf("return"u8) < 0) return null;
        var output = new List<byte>(src.Length + 16);
        var closeAt = new Stack<int>(); // paren depths whose ')' gets an extra ')'
        int depth = 0;
        bool changed = false;
        int i = 0;
        while (i < src.Length)
        {
            byte c = src[i];
            if (c == '-' && i + 1 < src.Length && src[i + 1] == '-')
            {
                int end = SkipComment(src, i);
                Append(output, src[i..end]); i = end; continue;
            }
            if (c == '"' || c == '\'')
            {
                int end = SkipQuoted(src, i);
                Append(output, src[i..end]); i = end; continue;
            }
            if (c == '[' && LongBracketLevel(src, i) >= 0)
            {
                int end = SkipLong(src, i);
                Append(output, src[i..end]); i = end; continue;
            }
            if (c == '(') { depth++; output.Add(c); i++; continue; }
            if (c == ')')
            {
                output.Add(c); i++;
                if (closeAt.Count > 0 && closeAt.Peek() == depth) { closeAt.Pop(); output.Add((byte)')'); }
                depth--;
                continue;
            }
            if (IsIdentStart(c))
            {
                int end = i;
                while (end < src.Length && IsIdentPart(src[end])) end++;
                var word = src[i..end];
                Append(output, word);
                bool prevDot = i > 0 && src[i - 1] == '.';
                i = end;
                if (!prevDot && word.SequenceEqual("return"u8) && MatchCall(src, i, out int callStart, out int parenPos))
                {
                    Append(output, src[i..callStart]);
                    output.Add((byte)'(');
                    Append(output, src[callStart..parenPos]);
                    i = parenPos;
                    closeAt.Push(depth + 1);
                    changed = true;
                }
                continue;
            }
            output.Add(c); i++;
        }
        return changed && closeAt.Count == 0 ? output.ToArray() : null;
    }

    /// <summary>After "return": whitespace, then redis . call ( — gives where "redis" starts and where "(" is.</summary>
    private static bool MatchCall(ReadOnlySpan<byte> s, int i, out int callStart, out int parenPos)
    {
        callStart = parenPos = 0;
        while (i < s.Length && (s[i] == ' ' || s[i] == '\t')) i++;
        callStart = i;
        bool redis = s[i..].StartsWith("redis"u8);
        if (!redis && !s[i..].StartsWith("math"u8)) return false;
        i += redis ? 5 : 4;
        while (i < s.Length && (s[i] == ' ' || s[i] == '\t')) i++;
        if (i >= s.Length || s[i] != '.') return false;
        i++;
        while (i < s.Length && (s[i] == ' ' || s[i] == '\t')) i++;
        int name = i;
        while (i < s.Length && IsIdentPart(s[i])) i++;
        // Every redis.* function returns at most one value; of math only random is a wrapper that raises errors.
        if (i == name || (!redis && !s[name..i].SequenceEqual("random"u8))) return false;
        while (i < s.Length && (s[i] == ' ' || s[i] == '\t')) i++;
        if (i >= s.Length || s[i] != '(') return false;
        parenPos = i;
        return true;
    }

    private static void Append(List<byte> o, ReadOnlySpan<byte> s) { foreach (var b in s) o.Add(b); }
    private static bool IsIdentStart(byte c) => c == '_' || (c | 0x20) is >= (byte)'a' and <= (byte)'z';
    private static bool IsIdentPart(byte c) => IsIdentStart(c) || c is >= (byte)'0' and <= (byte)'9';

    private static int SkipComment(ReadOnlySpan<byte> s, int i)
    {
        int j = i + 2;
        if (j < s.Length && s[j] == '[' && LongBracketLevel(s, j) >= 0) return SkipLong(s, j);
        while (j < s.Length && s[j] != '\n') j++;
        return j;
    }

    private static int SkipQuoted(ReadOnlySpan<byte> s, int i)
    {
        byte q = s[i];
        int j = i + 1;
        while (j < s.Length && s[j] != q && s[j] != '\n')
        {
            if (s[j] == '\\') j++;
            j++;
        }
        return Math.Min(j + 1, s.Length);
    }

    /// <summary>The level of a long bracket "[==[" at i, or -1.</summary>
    private static int LongBracketLevel(ReadOnlySpan<byte> s, int i)
    {
        int j = i + 1, level = 0;
        while (j < s.Length && s[j] == '=') { level++; j++; }
        return j < s.Length && s[j] == '[' ? level : -1;
    }

    private static int SkipLong(ReadOnlySpan<byte> s, int i)
    {
        int level = LongBracketLevel(s, i);
        var close = new byte[level + 2];
        close[0] = (byte)']';
        for (int k = 1; k <= level; k++) close[k] = (byte)'=';
        close[^1] = (byte)']';
        int start = i + level + 2;
        int idx = s[start..].IndexOf(close);
        return idx < 0 ? s.Length : start + idx + close.Length;
    }
}
