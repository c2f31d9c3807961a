namespace Basalt.Server.Keyspace;

/// <summary>
/// Redis glob matching (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET): * ? [set] [^set] [a-z] and \ escapes,
/// byte-wise, ASCII-only case folding. Unterminated brackets and trailing backslashes behave as Redis's.
/// </summary>
public static class Glob
{
    public static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> s, bool nocase)
    {
        bool giveUp = false;
        return MatchImpl(pattern, s, nocase, ref giveUp);
    }

    private static byte Lower(byte c) => c is >= (byte)'A' and <= (byte)'Z' ? (byte)(c + 32) : c;

    /// <summary>Byte at <paramref name="i"/>, or 0 past the end (Redis reads the terminating NUL there).</summary>
    private static byte At(ReadOnlySpan<byte> p, int i) => i < p.Length ? p[i] : (byte)0;

    private static bool MatchImpl(ReadOnlySpan<byte> p, ReadOnlySpan<byte> s, bool nocase, ref bool giveUp)
    {
        while (p.Length > 0 && s.Length > 0)
        {
            switch (p[0])
            {
                case (byte)'*':
                    while (p.Length > 1 && p[1] == (byte)'*') p = p[1..];
                    if (p.Length == 1) return true;
                    while (s.Length > 0)
                    {
                        if (MatchImpl(p[1..], s, nocase, ref giveUp)) return true;
                        // The rest of the pattern failed at every later position: earlier stars cannot help either.
                        if (giveUp) return false;
                        s = s[1..];
                    }
                    giveUp = true;
                    return false;
                case (byte)'?':
                    s = s[1..];
                    break;
                case (byte)'[':
                {
                    p = p[1..];
                    bool not = At(p, 0) == (byte)'^';
                    if (not) p = p[1..];
                    bool match = false;
                    byte c = s[0];
                    while (true)
                    {
                        if (p.Length == 0) break; // unterminated set: the pattern ends here
                        if (p[0] == (byte)'\\' && p.Length >= 2)
                        {
                            p = p[1..];
                            if (p[0] == c) match = true;
                        }
                        else if (p[0] == (byte)']')
                        {
                            break;
                        }
                        else if (p.Length >= 3 && p[1] == (byte)'-')
                        {
                            int start = p[0], end = p[2], ch = c;
                            if (start > end) (start, end) = (end, start);
                            if (nocase) { start = Lower((byte)start); end = Lower((byte)end); ch = Lower(c); }
                            p = p[2..];
                            if (ch >= start && ch <= end) match = true;
                        }
                        else if (nocase ? Lower(p[0]) == Lower(c) : p[0] == c)
                        {
                            match = true;
                        }
                        p = p[1..];
                    }
                    if (not) match = !match;
                    if (!match) return false;
                    s = s[1..];
                    // An unterminated set consumed the whole pattern: match only if the subject ended too.
                    if (p.Length == 0) return s.Length == 0;
                    break;
                }
                case (byte)'\\':
                    if (p.Length >= 2) p = p[1..];
                    if (nocase ? Lower(p[0]) != Lower(s[0]) : p[0] != s[0]) return false;
                    s = s[1..];
                    break;
                default:
                    if (nocase ? Lower(p[0]) != Lower(s[0]) : p[0] != s[0]) return false;
                    s = s[1..];
                    break;
            }
            p = p[1..];
            if (s.Length == 0)
            {
                while (p.Length > 0 && p[0] == (byte)'*') p = p[1..];
                break;
            }
        }
        return p.Length == 0 && s.Length == 0;
    }
}
