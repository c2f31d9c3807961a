using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>SORT and SORT_RO: sorts a list, set or sorted set, with BY/GET patterns, LIMIT, ALPHA, DESC and STORE.</summary>
public static class SortCommand
{
    public static void Register(CommandTable t)
    {
        t.Add("sort", -2, Write | DenyOom, 1, 1, 1, ctx => Sort(ctx, readOnly: false));
        t.Add("sort_ro", -2, ReadOnly, 1, 1, 1, ctx => Sort(ctx, readOnly: true));
    }

    private struct Item
    {
        public byte[] Obj;
        public double Score;
        public byte[]? Cmp;   // ALPHA with BY: the looked-up value (null when missing)
        public int Index;     // input position: ties keep input order, like glibc's stable qsort
    }

    private static void Sort(CommandContext ctx, bool readOnly)
    {
        bool desc = false, alpha = false, dontSort = false;
        long limitStart = 0, limitCount = -1;
        int byArg = -1, storeArg = -1;
        List<int>? gets = null;

        for (int j = 2; j < ctx.Count; j++)
        {
            int left = ctx.Count - j - 1;
            if (ctx.ArgIs(j, "asc"u8)) desc = false;
            else if (ctx.ArgIs(j, "desc"u8)) desc = true;
            else if (ctx.ArgIs(j, "alpha"u8)) alpha = true;
            else if (ctx.ArgIs(j, "limit"u8) && left >= 2)
            {
                if (!ctx.GetInt64OrReply(j + 1, out limitStart) || !ctx.GetInt64OrReply(j + 2, out limitCount)) return;
                j += 2;
            }
            else if (ctx.ArgIs(j, "store"u8) && left >= 1 && !readOnly) { storeArg = j + 1; j++; }
            else if (ctx.ArgIs(j, "by"u8) && left >= 1)
            {
                byArg = j + 1;
                // A pattern without '*' means "don't sort" (BY nosort).
                if (CString(ctx.Arg(byArg)).IndexOf((byte)'*') < 0) dontSort = true;
                j++;
            }
            else if (ctx.ArgIs(j, "get"u8) && left >= 1) { (gets ??= new()).Add(j + 1); j++; }
            else { ctx.SyntaxError(); return; }
        }

        var db = ctx.Db;
        var stats = ctx.Server.Stats;
        var src = db.Lookup(ctx.Arg(1));
        // A bare listpack sorted set: SORT converts it (below), so it needs a view that writes back to the slot.
        if (RedisSortedSet.IsPack(src)) src = RedisSortedSet.Writable(db.Keys, ctx.Arg(1));
        if (src is null) { stats.KeyspaceMisses++; Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.KeyMiss, "keymiss", ctx.Arg(1)); }
        else stats.KeyspaceHits++;
        if (src is not null && src is not RedisList && src is not RedisSet && !Zset.IsZset(src))
        {
            ctx.WrongType();
            return;
        }
        bool store = storeArg >= 0;
        // Redis converts a listpack sorted set to a skiplist for SORT (even SORT_RO); OBJECT ENCODING shows it.
        if (src is RedisSortedSet zs) zs.ConvertToSkipList();

        // Sets have no stable order: when storing, Redis sorts them anyway (ALPHA) so replicas agree.
        if (dontSort && src is RedisSet && store)
        {
            dontSort = false;
            alpha = true;
            byArg = -1;
        }

        long len = src switch
        {
            RedisList l => l.Count,
            RedisSet s => s.Count,
            null => 0,
            _ => Zset.Count(src),
        };

        long start = Math.Min(Math.Max(limitStart, 0), len);
        long count = Math.Min(Math.Max(limitCount, -1), len);
        long end = count < 0 ? len - 1 : start + count - 1;
        if (start >= len) { start = len - 1; end = len - 2; }
        if (end >= len) end = len - 1;

        Item[] items;
        if (dontSort && src is not null && src is not RedisSet)
        {
            // Lists and sorted sets keep their own order: fetch just the range, reversed for DESC.
            int n = (int)Math.Max(end - start + 1, 0);
            items = new Item[n];
            if (n > 0)
            {
                if (src is RedisList list)
                {
                    var cur = list.Iterate(desc);
                    long skip = start;
                    while (skip-- > 0) cur.Next(out _);
                    for (int i = 0; i < n && cur.Next(out var v); i++) items[i] = new Item { Obj = v.ToArray(), Index = i };
                }
                else Zset.LoadRange(src, start, n, desc, items);
            }
            end -= start;
            start = 0;
        }
        else
        {
            items = new Item[len];
            int i = 0;
            switch (src)
            {
                case RedisList list:
                {
                    var cur = list.Iterate(false);
                    while (cur.Next(out var v)) { items[i] = new Item { Obj = v.ToArray(), Index = i }; i++; }
                    break;
                }
                case RedisSet set:
                {
                    var e = set.GetEnumerator();
                    while (e.MoveNext()) { items[i] = new Item { Obj = e.Current.ToArray(), Index = i }; i++; }
                    break;
                }
                case null: break;
                default: Zset.LoadAll(src, items); break;
            }
        }

        bool conversionError = false;
        if (!dontSort)
        {
            bool byPattern = byArg >= 0;
            for (int i = 0; i < items.Length; i++)
            {
                ReadOnlySpan<byte> by;
                if (byPattern)
                {
                    if (!LookupByPattern(db, stats, ctx.Arg(byArg), items[i].Obj, out by)) continue;
                }
                else by = items[i].Obj;

                if (alpha)
                {
                    if (byPattern) items[i].Cmp = by.ToArray();
                }
                else if (!TryStrtod(by, out items[i].Score)) conversionError = true;
            }
            var cmp = new Comparison<Item>((a, b) =>
            {
                int c;
                if (!alpha)
                {
                    c = a.Score > b.Score ? 1 : a.Score < b.Score ? -1 : a.Obj.AsSpan().SequenceCompareTo(b.Obj);
                }
                else if (byPattern)
                {
                    if (a.Cmp is null || b.Cmp is null) c = a.Cmp == b.Cmp ? 0 : a.Cmp is null ? -1 : 1;
                    else c = store ? a.Cmp.AsSpan().SequenceCompareTo(b.Cmp) : Collate(a.Cmp, b.Cmp);
                }
                else c = store ? a.Obj.AsSpan().SequenceCompareTo(b.Obj) : Collate(a.Obj, b.Obj);
                if (desc) c = -c;
                return c != 0 ? c : a.Index.CompareTo(b.Index);
            });
            if (!conversionError) Array.Sort(items, cmp);
        }

        if (conversionError)
        {
            ctx.Reply.WriteError("ERR One or more scores can't be converted into double");
            return;
        }

        int getCount = gets?.Count ?? 0;
        long rows = end - start + 1;
        long outputLen = getCount > 0 ? getCount * rows : rows;
        if (!store)
        {
            var w = ctx.Reply;
            w.WriteArrayHeader(outputLen);
            for (long j = start; j <= end; j++)
            {
                var obj = items[j].Obj;
                if (gets is null) { w.WriteBulk(obj); continue; }
                foreach (int g in gets)
                {
                    if (LookupByPattern(db, stats, ctx.Arg(g), obj, out var val)) w.WriteBulk(val);
                    else w.WriteNull();
                }
            }
            return;
        }

        var dstKey = ctx.Arg(storeArg);
        if (outputLen > 0)
        {
            var dst = new RedisList();
            int fill = ListCommands.Fill(ctx);
            for (long j = start; j <= end; j++)
            {
                var obj = items[j].Obj;
                if (gets is null) { dst.PushTail(obj, fill); continue; }
                foreach (int g in gets)
                {
                    // Missing GET values are stored as empty strings.
                    if (LookupByPattern(db, stats, ctx.Arg(g), obj, out var val)) dst.PushTail(val, fill);
                    else dst.PushTail(default, fill);
                }
            }
            db.Set(dstKey, dst);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.List, "sortstore", dstKey);
            ctx.Server.Dirty += outputLen;
        }
        else if (db.Delete(dstKey))
        {
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", dstKey);
            ctx.Server.Dirty++;
        }
        ctx.Reply.WriteInteger(outputLen);
    }

    /// <summary>
    /// Resolves a BY/GET pattern for one element: "#" is the element itself, the first '*' is replaced by the element,
    /// and "->field" after it reads a hash field. Patterns are scanned as C strings (up to a NUL), as Redis does.
    /// </summary>
    private static bool LookupByPattern(Database db, ServerStats stats, ReadOnlySpan<byte> pattern,
        byte[] element, out ReadOnlySpan<byte> value)
    {
        value = default;
        var cpat = CString(pattern);
        if (cpat.Length == 1 && cpat[0] == '#') { value = element; return true; }
        int star = cpat.IndexOf((byte)'*');
        if (star < 0) return false;

        int fieldLen = 0;
        int arrow = cpat[(star + 1)..].IndexOf("->"u8);
        if (arrow >= 0)
        {
            int f = star + 1 + arrow;
            if (f + 2 < cpat.Length) fieldLen = pattern.Length - f - 2;
        }
        int postfixLen = pattern.Length - star - 1 - (fieldLen > 0 ? fieldLen + 2 : 0);
        int keyLen = star + element.Length + postfixLen;
        Span<byte> key = keyLen <= 256 ? stackalloc byte[keyLen] : new byte[keyLen];
        pattern[..star].CopyTo(key);
        element.CopyTo(key[star..]);
        pattern.Slice(star + 1, postfixLen).CopyTo(key[(star + element.Length)..]);

        var o = db.Lookup(key);
        if (o is null) stats.KeyspaceMisses++; else stats.KeyspaceHits++; // Redis 7.0 counts these even with STORE
        if (o is null) return false;
        if (fieldLen > 0)
        {
            if (RedisHash.Readable(o) is not { } h) return false;
            if (!h.TryGet(pattern[^fieldLen..], out value)) return false;
            return true;
        }
        if (o is not byte[] s) return false;
        value = s;
        return true;
    }

    /// <summary>The part of <paramref name="s"/> before its first NUL byte (what C string functions see).</summary>
    private static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> s)
    {
        int z = s.IndexOf((byte)0);
        return z < 0 ? s : s[..z];
    }

    /// <summary>strcoll in the C/C.UTF-8 locale: byte order, stopping at NUL.</summary>
    private static int Collate(byte[] a, byte[] b) => CString(a).SequenceCompareTo(CString(b));

    /// <summary>
    /// Parses like C's strtod as SORT uses it: leading white space, hex and inf forms are accepted; the whole
    /// (C) string must be consumed; NaN, overflow and inexact underflow (ERANGE) fail. An empty string is 0.
    /// </summary>
    internal static bool TryStrtod(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        s = CString(s);
        if (s.Length == 0) return true;
        int i = 0;
        while (i < s.Length && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) i++;
        bool neg = false;
        int signPos = i;
        if (i < s.Length && (s[i] == '+' || s[i] == '-')) { neg = s[i] == '-'; i++; }
        var rest = s[i..];
        if (StartsWithIgnoreCase(rest, "inf"u8))
        {
            int n = StartsWithIgnoreCase(rest, "infinity"u8) ? 8 : 3;
            value = neg ? double.NegativeInfinity : double.PositiveInfinity;
            return i + n == s.Length;
        }
        if (StartsWithIgnoreCase(rest, "nan"u8)) return false;
        if (rest.Length >= 2 && rest[0] == '0' && (rest[1] | 0x20) == 'x' &&
            (rest.Length > 2 && (IsHex(rest[2]) || (rest[2] == '.' && rest.Length > 3 && IsHex(rest[3])))))
            return ParseHex(rest[2..], neg, out value);

        int digits = 0;
        bool nonZero = false;
        while (i < s.Length && IsDigit(s[i])) { nonZero |= s[i] != '0'; i++; digits++; }
        if (i < s.Length && s[i] == '.')
        {
            i++;
            while (i < s.Length && IsDigit(s[i])) { nonZero |= s[i] != '0'; i++; digits++; }
        }
        if (digits == 0) return false; // no conversion: strtod points at the start, which is not the end
        if (i < s.Length && (s[i] | 0x20) == 'e')
        {
            int k = i + 1;
            if (k < s.Length && (s[k] == '+' || s[k] == '-')) k++;
            if (k < s.Length && IsDigit(s[k]))
            {
                while (k < s.Length && IsDigit(s[k])) k++;
                i = k;
            }
        }
        if (i != s.Length) return false;
        int len = i - signPos;
        Span<char> chars = len <= 512 ? stackalloc char[len] : new char[len];
        for (int k = 0; k < len; k++) chars[k] = (char)s[signPos + k];
        if (!double.TryParse(chars, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value))
            return false;
        if (double.IsInfinity(value)) return false;
        if (nonZero && Math.Abs(value) < DblMin) return false;
        return true;
    }

    private const double DblMin = 2.2250738585072014e-308;

    private static bool ParseHex(ReadOnlySpan<byte> s, bool neg, out double value)
    {
        value = 0;
        ulong mant = 0;
        long exp = 0;
        bool sticky = false;
        int i = 0;
        bool seenDot = false;
        for (; i < s.Length; i++)
        {
            byte c = s[i];
            if (c == '.' && !seenDot) { seenDot = true; continue; }
            if (!IsHex(c)) break;
            int d = HexVal(c);
            if (mant >> 60 == 0) { mant = mant << 4 | (uint)d; if (seenDot) exp -= 4; }
            else { if (d != 0) sticky = true; if (!seenDot) exp += 4; }
        }
        if (i < s.Length && (s[i] | 0x20) == 'p')
        {
            int k = i + 1;
            bool eneg = false;
            if (k < s.Length && (s[k] == '+' || s[k] == '-')) { eneg = s[k] == '-'; k++; }
            if (k < s.Length && IsDigit(s[k]))
            {
                long e = 0;
                while (k < s.Length && IsDigit(s[k])) { if (e < 100000) e = e * 10 + (s[k] - '0'); k++; }
                exp += eneg ? -e : e;
                i = k;
            }
        }
        if (i != s.Length) return false;
        if (mant == 0) { value = neg ? -0.0 : 0.0; return true; }
        double m = mant;
        bool exactMant = !sticky && (ulong)m == mant && m < 18446744073709551615.0;
        double r = Math.ScaleB(m, (int)Math.Clamp(exp, -100000, 100000));
        if (double.IsInfinity(r)) return false;
        if (Math.Abs(r) < DblMin)
        {
            if (r == 0 || !exactMant || Math.ScaleB(r, (int)-Math.Clamp(exp, -100000, 100000)) != m) return false;
        }
        value = neg ? -r : r;
        return true;
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> s, ReadOnlySpan<byte> lower)
    {
        if (s.Length < lower.Length) return false;
        for (int i = 0; i < lower.Length; i++) if ((s[i] | 0x20) != lower[i]) return false;
        return true;
    }

    private static bool IsDigit(byte c) => c >= '0' && c <= '9';
    private static bool IsHex(byte c) => IsDigit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
    private static int HexVal(byte c) => IsDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>Sorted-set input: members in score order (Redis walks its dict when sorting; only ALPHA BY ties can tell).</summary>
    private static class Zset
    {
        public static bool IsZset(object o) => o is RedisSortedSet;

        public static long Count(object o) => ((RedisSortedSet)o).Count;

        public static void LoadAll(object o, Item[] items)
        {
            var z = (RedisSortedSet)o;
            var list = new List<ZItem>(z.Count);
            z.CollectAll(list);
            for (int i = 0; i < list.Count; i++) items[i] = new Item { Obj = list[i].CopyMember(), Index = i };
        }

        /// <summary>Ranks [start, start+n) counted from the lowest score, or from the highest when <paramref name="desc"/>.</summary>
        public static void LoadRange(object o, long start, int n, bool desc, Item[] items)
        {
            var z = (RedisSortedSet)o;
            var list = new List<ZItem>(n);
            z.Collect(desc ? z.Count - 1 - start : start, n, desc, list);
            for (int i = 0; i < list.Count; i++) items[i] = new Item { Obj = list[i].CopyMember(), Index = i };
        }
    }
}
