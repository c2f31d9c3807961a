using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: longest common subsequence by dynamic programming.</summary>
public static class LcsCommand
{
    public static void Register(CommandTable t)
    {
        t.Add("lcs", -3, ReadOnly, 1, 2, 1, Lcs);
    }

    private static void Lcs(CommandContext ctx)
    {
        var db = ctx.Db;
        var strings = new byte[2][];
        for (int k = 0; k < 2; k++)
        {
            var obj = db.Lookup(ctx.Arg(k + 1));
            if (obj is null) { ctx.Server.Stats.KeyspaceMisses++; Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.KeyMiss, "keymiss", ctx.Arg(k + 1)); }
            else ctx.Server.Stats.KeyspaceHits++;
            if (obj is not null and not byte[])
            {
                ctx.Reply.WriteError("ERR The specified keys must contain string values");
                return;
            }
            strings[k] = obj as byte[] ?? [];
        }

        bool getIdx = false, getLen = false, withMatchLen = false;
        long minMatchLen = 0;
        for (int i = 3; i < ctx.Count; i++)
        {
            bool more = i + 1 < ctx.Count;
            if (ctx.ArgIs(i, "idx"u8)) getIdx = true;
            else if (ctx.ArgIs(i, "len"u8)) getLen = true;
            else if (ctx.ArgIs(i, "withmatchlen"u8)) withMatchLen = true;
            else if (ctx.ArgIs(i, "minmatchlen"u8) && more)
            {
                if (!ctx.GetInt64OrReply(++i, out minMatchLen)) return;
                if (minMatchLen < 0) minMatchLen = 0;
            }
            else { ctx.SyntaxError(); return; }
        }
        if (getIdx && getLen)
        {
            ctx.Reply.WriteError("ERR If you want both the length and indexes, please just use IDX.");
            return;
        }

        var a = strings[0];
        var b = strings[1];
        int alen = a.Length, blen = b.Length;
        long cells = (long)(alen + 1) * (blen + 1);
        uint[] table;
        try
        {
            if (cells > Array.MaxLength) throw new OutOfMemoryException();
            table = new uint[cells];
        }
        catch (OutOfMemoryException)
        {
            ctx.Reply.WriteError("ERR Insufficient memory, failed allocating transient memory for LCS");
            return;
        }

        // table[i * (blen + 1) + j] = LCS length of a[..i] and b[..j].
        int w = blen + 1;
        for (int i = 1; i <= alen; i++)
        {
            int row = i * w, prev = row - w;
            byte ai = a[i - 1];
            for (int j = 1; j <= blen; j++)
            {
                table[row + j] = ai == b[j - 1]
                    ? table[prev + j - 1] + 1
                    : Math.Max(table[prev + j], table[row + j - 1]);
            }
        }
        uint total = table[(long)alen * w + blen];

        if (getLen && !getIdx)
        {
            ctx.Reply.WriteInteger(total);
            return;
        }

        // Walk back from the end, collecting the LCS bytes and the matching ranges (last ones first, as Redis).
        var result = new byte[total];
        var ranges = getIdx ? new List<(long A0, long A1, long B0, long B1)>() : null;
        long idx = total;
        int x = alen, y = blen;
        long aStart = -1, aEnd = 0, bStart = 0, bEnd = 0; // aStart -1: no range open
        while (x > 0 && y > 0)
        {
            bool emit = false;
            if (a[x - 1] == b[y - 1])
            {
                result[idx - 1] = a[x - 1];
                if (aStart < 0)
                {
                    aStart = aEnd = x - 1;
                    bStart = bEnd = y - 1;
                }
                else if (aStart == x && bStart == y)
                {
                    aStart--;
                    bStart--;
                }
                else emit = true;
                if (aStart == 0 || bStart == 0) emit = true;
                idx--; x--; y--;
            }
            else
            {
                if (table[(long)(x - 1) * w + y] > table[(long)x * w + y - 1]) x--; else y--;
                if (aStart >= 0) emit = true;
            }
            if (emit)
            {
                long matchLen = aEnd - aStart + 1;
                if (ranges is not null && (minMatchLen == 0 || matchLen >= minMatchLen)) ranges.Add((aStart, aEnd, bStart, bEnd));
                aStart = -1;
            }
        }

        if (ranges is null)
        {
            ctx.Reply.WriteBulk(result);
            return;
        }
        var r = ctx.Reply;
        r.WriteMapHeader(2);
        r.WriteBulk("matches"u8);
        r.WriteArrayHeader(ranges.Count);
        foreach (var (a0, a1, b0, b1) in ranges)
        {
            r.WriteArrayHeader(withMatchLen ? 3 : 2);
            r.WriteArrayHeader(2);
            r.WriteInteger(a0);
            r.WriteInteger(a1);
            r.WriteArrayHeader(2);
            r.WriteInteger(b0);
            r.WriteInteger(b1);
            if (withMatchLen) r.WriteInteger(a1 - a0 + 1);
        }
        r.WriteBulk("len"u8);
        r.WriteInteger(total);
    }
}
