namespace Basalt.Server.Keyspace;

/// <summary>
/// Glob-style matching with Redis's rules (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE...):
/// <c>*</c> any run, <c>?</c> one byte, <c>[abc]</c>, <c>[^a]</c>, <c>[a-z]</c> (reversed ranges work),
/// <c>\x</c> escapes x. An unclosed <c>[</c> class ends at the end of the pattern. Non-allocating.
/// </summary>
public static class Glob
{
    public static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> s, bool nocase)
    {
        int skipLongerMatches = 0;
        return MatchCore(pattern, s, nocase, ref skipLongerMatches, 0);
    }

    public static bool Match(string pattern, string s, bool nocase)
    {
        // Config names and similar short ASCII strings; Latin1 keeps one byte per char.
        var p = System.Text.Encoding.Latin1.GetBytes(pattern);
        var t = System.Text.Encoding.Latin1.GetBytes(s);
        return Match(p, t, nocase);
    }

    private static byte Lower(byte b) => b >= (byte)'A' && b <= (byte)'Z' ? (byte)(b + 32) : b;

    // skipLongerMatches: once a '*' tail failed to match any suffix, a shorter prefix cannot
    // help either, so the outer '*' loops stop early (keeps pathological patterns linear-ish).
    private static bool MatchCore(ReadOnlySpan<byte> p, ReadOnlySpan<byte> s, bool nocase, ref int skipLongerMatches, int nesting)
    {
        // Deep recursion guard, as with many '*' in a row on long strings.
        if (nesting > 1000) return false;
        int pi = 0, si = 0;
        while (pi < p.Length && si < s.Length)
        {
            switch (p[pi])
            {
                case (byte)'*':
                    while (pi + 1 < p.Length && p[pi + 1] == (byte)'*') pi++;
                    if (pi + 1 == p.Length) return true;
                    while (si < s.Length)
                    {
                        if (MatchCore(p[(pi + 1)..], s[si..], nocase, ref skipLongerMatches, nesting + 1)) return true;
                        if (skipLongerMatches != 0) return false;
                        si++;
                    }
                    skipLongerMatches = 1;
                    return false;
                case (byte)'?':
                    si++;
                    break;
                case (byte)'[':
                {
                    pi++;
                    bool not = pi < p.Length && p[pi] == (byte)'^';
                    if (not) pi++;
                    bool match = false;
                    while (true)
                    {
                        if (pi >= p.Length) { pi--; break; }
                        byte c = p[pi];
                        if (c == (byte)'\\' && pi + 1 < p.Length)
                        {
                            pi++;
                            if (p[pi] == s[si]) match = true;
                        }
                        else if (c == (byte)']')
                        {
                            break;
                        }
                        else if (pi + 2 < p.Length && p[pi + 1] == (byte)'-')
                        {
                            int start = p[pi], end = p[pi + 2], ch = s[si];
                            if (start > end) (start, end) = (end, start);
                            if (nocase)
                            {
                                start = Lower((byte)start);
                                end = Lower((byte)end);
                                ch = Lower((byte)ch);
                            }
                            pi += 2;
                            if (ch >= start && ch <= end) match = true;
                        }
                        else if (nocase ? Lower(c) == Lower(s[si]) : c == s[si])
                        {
                            match = true;
                        }
                        pi++;
                    }
                    if (not) match = !match;
                    if (!match) return false;
                    si++;
                    break;
                }
                case (byte)'\\':
                    if (pi + 1 < p.Length) pi++;
                    goto default;
                default:
                    if (nocase ? Lower(p[pi]) != Lower(s[si]) : p[pi] != s[si]) return false;
                    si++;
                    break;
            }
            pi++;
            if (si == s.Length)
            {
                while (pi < p.Length && p[pi] == (byte)'*') pi++;
                break;
            }
        }
        return pi == p.Length && si == s.Length;
    }
}
