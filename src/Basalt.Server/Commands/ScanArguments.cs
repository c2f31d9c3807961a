namespace Basalt.Server.Commands;

/// <summary>Argument parsing shared by SCAN, HSCAN, SSCAN and ZSCAN (Redis's scanGenericCommand rules).</summary>
internal static class Scan
{
    /// <summary>Parses argument <paramref name="i"/> as a SCAN cursor, replying "invalid cursor" when it is not one.</summary>
    public static bool ParseCursorOrReply(CommandContext ctx, int i, out ulong cursor)
    {
        if (TryParseCursor(ctx.Arg(i), out cursor)) return true;
        ctx.Reply.WriteError("ERR invalid cursor");
        return false;
    }

    /// <summary>
    /// Parses a cursor as C's strtoul does for Redis: optional sign, decimal digits, no leading space,
    /// nothing after; negative values wrap; the empty string is cursor 0.
    /// </summary>
    public static bool TryParseCursor(ReadOnlySpan<byte> s, out ulong cursor)
    {
        cursor = 0;
        if (s.Length == 0) return true;
        int i = 0;
        bool neg = false;
        if (s[0] == (byte)'+' || s[0] == (byte)'-') { neg = s[0] == (byte)'-'; i = 1; }
        if (i == s.Length) return false;
        for (; i < s.Length; i++)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9) return false;
            if (cursor > (ulong.MaxValue - d) / 10) return false; // ERANGE
            cursor = cursor * 10 + d;
        }
        if (neg) cursor = unchecked(0UL - cursor);
        return true;
    }

    /// <summary>COUNT n (n &gt;= 1) and MATCH pattern; anything else is a syntax error.</summary>
    public static bool ParseOptionsOrReply(CommandContext ctx, int start, out long count, out int matchArg)
    {
        count = 10;
        matchArg = 0;
        for (int i = start; i < ctx.Count; i += 2)
        {
            bool hasValue = i + 1 < ctx.Count;
            if (hasValue && ctx.ArgIs(i, "count"u8))
            {
                if (!ctx.GetInt64OrReply(i + 1, out count)) return false;
                if (count < 1) { ctx.SyntaxError(); return false; }
            }
            else if (hasValue && ctx.ArgIs(i, "match"u8)) matchArg = i + 1;
            else { ctx.SyntaxError(); return false; }
        }
        return true;
    }

    public static void WriteEmpty(CommandContext ctx)
    {
        ctx.Reply.WriteArrayHeader(2);
        ctx.Reply.WriteBulk("0"u8);
        ctx.Reply.WriteArrayHeader(0);
    }
}
