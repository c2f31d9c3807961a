using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>
/// KEYS and SCAN. The SCAN cursor is a key-table entry index: entries never move, so a key present for the
/// whole iteration is returned at least once, and the walk ends when the cursor passes the table's high-water mark.
/// </summary>
public static class ScanCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("keys", 2, ReadOnly, 0, 0, 0, Keys);
        t.Add("scan", -2, ReadOnly, 0, 0, 0, Scan);
    }

    private static void Keys(CommandContext ctx)
    {
        var db = ctx.Db;
        var pattern = ctx.Arg(1);
        bool all = pattern.Length == 1 && pattern[0] == (byte)'*';
        var table = db.Keys;
        var found = new List<byte[]>();
        for (int i = 0; i < table.Capacity; i++)
        {
            if (!table.IsUsed(i)) continue;
            var key = table.KeyAt(i);
            // KEYS hides expired keys without deleting them (as Redis's keyIsExpired check).
            if ((all || Glob.Match(pattern, key, nocase: false)) && !db.IsExpiredKey(key)) found.Add(key);
        }
        ctx.Reply.WriteArrayHeader(found.Count);
        foreach (var k in found) ctx.Reply.WriteBulk(k);
    }

    private static void Scan(CommandContext ctx)
    {
        if (!Commands.Scan.ParseCursorOrReply(ctx, 1, out ulong cursor)) return;
        long count = 10;
        int patternArg = -1, typeArg = -1;
        for (int j = 2; j < ctx.Count; j++)
        {
            bool hasValue = j + 1 < ctx.Count;
            if (ctx.ArgIs(j, "count"u8) && hasValue)
            {
                if (!ctx.GetInt64OrReply(j + 1, out count)) return;
                if (count < 1) { ctx.SyntaxError(); return; }
                j++;
            }
            else if (ctx.ArgIs(j, "match"u8) && hasValue) patternArg = ++j;
            else if (ctx.ArgIs(j, "type"u8) && hasValue) typeArg = ++j;
            else { ctx.SyntaxError(); return; }
        }

        var db = ctx.Db;
        var table = db.Keys;
        var batch = new List<byte[]>();
        ulong next = 0;
        if (cursor < (ulong)table.Capacity)
        {
            int i = (int)cursor;
            // Visit at most count*10 slots so a sparse table cannot make one call slow (Redis bounds empty buckets alike).
            long maxVisits = count > int.MaxValue / 10 ? int.MaxValue : count * 10;
            for (long visited = 0; i < table.Capacity && batch.Count < count && visited < maxVisits; i++, visited++)
                if (table.IsUsed(i)) batch.Add(table.KeyAt(i));
            next = i < table.Capacity ? (ulong)i : 0;
        }

        // Filter after collecting, as Redis does: a call may return fewer keys than COUNT, or none.
        bool all = patternArg < 0 || (ctx.Arg(patternArg).Length == 1 && ctx.Arg(patternArg)[0] == (byte)'*');
        int kept = 0;
        for (int k = 0; k < batch.Count; k++)
        {
            var key = batch[k];
            if (!all && !Glob.Match(ctx.Arg(patternArg), key, nocase: false)) continue;
            if (typeArg >= 0)
            {
                var o = KeyCommands.LookupRead(ctx, key, touch: false);
                if (!System.Text.Ascii.EqualsIgnoreCase(ctx.Arg(typeArg), ValueTypes.TypeName(o))) continue;
            }
            if (db.IsExpiredKey(key))
            {
                if (Database.ExpireOnRead) db.ExpireKey(key);
                continue;
            }
            batch[kept++] = key;
        }

        ctx.Reply.WriteArrayHeader(2);
        ctx.Reply.WriteBulkInteger((long)next);
        ctx.Reply.WriteArrayHeader(kept);
        for (int k = 0; k < kept; k++) ctx.Reply.WriteBulk(batch[k]);
    }
}
