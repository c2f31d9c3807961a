using System.Numerics;
using System.Runtime.InteropServices;
using Basalt.Protocol;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>Bitmap commands over string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.</summary>
public static class BitCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("setbit", 4, Write | DenyOom, 1, 1, 1, SetBit);
        t.Add("getbit", 3, ReadOnly | Fast, 1, 1, 1, GetBit);
        t.Add("bitcount", -2, ReadOnly, 1, 1, 1, BitCount);
        t.Add("bitpos", -3, ReadOnly, 1, 1, 1, BitPos);
        t.Add("bitop", -4, Write | DenyOom, 2, -1, 1, BitOp);
        t.Add("bitfield", -2, Write | DenyOom, 1, 1, 1, ctx => BitFieldCommand(ctx, readOnly: false));
        t.Add("bitfield_ro", -2, ReadOnly | Fast, 1, 1, 1, ctx => BitFieldCommand(ctx, readOnly: true));
    }

    /// <summary>
    /// Parses a bit offset; with <paramref name="hash"/>, "#n" means n * <paramref name="bits"/>.
    /// Offsets must address a byte below proto-max-bulk-len.
    /// </summary>
    private static bool TryGetBitOffset(CommandContext ctx, int arg, bool hash, int bits, out long offset)
    {
        var p = ctx.Arg(arg);
        bool useHash = hash && bits > 0 && p.Length > 1 && p[0] == '#';
        if (RespNumbers.TryParseInt64(useHash ? p[1..] : p, out offset))
        {
            if (useHash) offset = unchecked(offset * bits);
            if (offset >= 0 && (offset >> 3) < StringCommands.MaxStringLength(ctx)) return true;
        }
        ctx.Reply.WriteError(Errors.BitOffset);
        return false;
    }

    /// <summary>
    /// The string at argument 1 made long enough to hold bit <paramref name="maxBit"/> (created or grown with zeros).
    /// <paramref name="changed"/> tells whether that created or grew it. Null after replying WRONGTYPE.
    /// </summary>
    private static byte[]? LookupForBitWrite(CommandContext ctx, long maxBit, out bool changed)
    {
        changed = false;
        var key = ctx.Arg(1);
        if (!StringCommands.TryGetStringForWrite(ctx, key, out var v)) return null;
        long need = (maxBit >> 3) + 1;
        if (v is null || v.Length < need)
        {
            var grown = new byte[need];
            v?.CopyTo(grown, 0);
            ctx.Db.Set(key, grown, keepTtl: true);
            v = grown;
            changed = true;
        }
        return v;
    }

    private static void SetBit(CommandContext ctx)
    {
        const string bitErr = "ERR bit is not an integer or out of range";
        if (!TryGetBitOffset(ctx, 2, false, 0, out long offset)) return;
        if (!ctx.TryArgInt64(3, out long on) || (on & ~1L) != 0) { ctx.Reply.WriteError(bitErr); return; }
        var v = LookupForBitWrite(ctx, offset, out bool grown);
        if (v is null) return;
        int index = (int)(offset >> 3);
        int mask = 1 << (7 - (int)(offset & 7));
        bool was = (v[index] & mask) != 0;
        if (grown || was != (on == 1))
        {
            v[index] = (byte)(on == 1 ? v[index] | mask : v[index] & ~mask);
            if (!grown) ctx.Db.KeyModified?.Invoke(ctx.Db, ctx.Arg(1));
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "setbit", ctx.Arg(1));
            ctx.Server.Dirty++;
        }
        ctx.Reply.WriteInteger(was ? 1 : 0);
    }

    private static void GetBit(CommandContext ctx)
    {
        if (!TryGetBitOffset(ctx, 2, false, 0, out long offset)) return;
        if (!StringCommands.TryGetString(ctx, ctx.Arg(1), out var v)) return;
        long index = offset >> 3;
        int bit = v is not null && index < v.Length ? (v[index] >> (7 - (int)(offset & 7))) & 1 : 0;
        ctx.Reply.WriteInteger(bit);
    }

    /// <summary>Parses the optional BYTE|BIT unit at argument <paramref name="arg"/>; false after a syntax error.</summary>
    private static bool TryParseUnit(CommandContext ctx, int arg, out bool isBit)
    {
        isBit = false;
        if (arg >= ctx.Count) return true;
        if (ctx.ArgIs(arg, "bit"u8)) isBit = true;
        else if (!ctx.ArgIs(arg, "byte"u8)) { ctx.SyntaxError(); return false; }
        return true;
    }

    /// <summary>Clamps start/end (already made non-negative-relative) into [0, total-1] the way Redis does.</summary>
    private static void Normalize(ref long start, ref long end, long total)
    {
        if (start < 0) start += total;
        if (end < 0) end += total;
        if (start < 0) start = 0;
        if (end < 0) end = 0;
        if (end >= total) end = total - 1;
    }

    private static long PopCount(ReadOnlySpan<byte> s)
    {
        long n = 0;
        var words = MemoryMarshal.Cast<byte, ulong>(s);
        foreach (var w in words) n += BitOperations.PopCount(w);
        for (int i = words.Length * 8; i < s.Length; i++) n += BitOperations.PopCount(s[i]);
        return n;
    }

    private static void BitCount(CommandContext ctx)
    {
        if (!StringCommands.TryGetString(ctx, ctx.Arg(1), out var v)) return;
        if (v is null) { ctx.Reply.WriteInteger(0); return; }
        long start, end;
        bool isBit = false;
        if (ctx.Count is 4 or 5)
        {
            if (!ctx.GetInt64OrReply(2, out start) || !ctx.GetInt64OrReply(3, out end)) return;
            if (!TryParseUnit(ctx, 4, out isBit)) return;
            long total = isBit ? (long)v.Length << 3 : v.Length;
            if (start < 0 && end < 0 && start > end) { ctx.Reply.WriteInteger(0); return; }
            Normalize(ref start, ref end, total);
        }
        else if (ctx.Count == 2)
        {
            start = 0;
            end = v.Length - 1;
        }
        else { ctx.SyntaxError(); return; }

        if (start > end) { ctx.Reply.WriteInteger(0); return; }
        if (!isBit) { ctx.Reply.WriteInteger(PopCount(v.AsSpan((int)start, (int)(end - start + 1)))); return; }
        // Whole bytes in between, then the partial edge bytes bit by bit.
        long count = 0;
        long firstFull = (start + 7) >> 3, lastFull = ((end + 1) >> 3) - 1;
        if (firstFull <= lastFull)
        {
            count += PopCount(v.AsSpan((int)firstFull, (int)(lastFull - firstFull + 1)));
            for (long b = start; b < firstFull << 3; b++) count += BitAt(v, b);
            for (long b = (lastFull + 1) << 3; b <= end; b++) count += BitAt(v, b);
        }
        else
        {
            for (long b = start; b <= end; b++) count += BitAt(v, b);
        }
        ctx.Reply.WriteInteger(count);
    }

    private static int BitAt(byte[] v, long bit) => (v[bit >> 3] >> (7 - (int)(bit & 7))) & 1;

    private static void BitPos(CommandContext ctx)
    {
        if (!ctx.TryArgInt64(2, out long bit)) { ctx.Reply.WriteError(Errors.NotInteger); return; }
        if (bit != 0 && bit != 1) { ctx.Reply.WriteError("ERR The bit argument must be 1 or 0."); return; }
        if (!StringCommands.TryGetString(ctx, ctx.Arg(1), out var v)) return;
        if (v is null) { ctx.Reply.WriteInteger(bit == 1 ? -1 : 0); return; }

        long start, end;
        bool isBit = false, endGiven = false;
        if (ctx.Count is >= 4 and <= 6)
        {
            if (!ctx.GetInt64OrReply(3, out start)) return;
            if (ctx.Count == 6 && !TryParseUnit(ctx, 5, out isBit)) return;
            long total = isBit ? (long)v.Length << 3 : v.Length;
            if (ctx.Count >= 5)
            {
                if (!ctx.GetInt64OrReply(4, out end)) return;
                endGiven = true;
            }
            else end = total - 1;
            Normalize(ref start, ref end, total);
        }
        else if (ctx.Count == 3)
        {
            start = 0;
            end = v.Length - 1;
        }
        else { ctx.SyntaxError(); return; }

        if (start > end) { ctx.Reply.WriteInteger(-1); return; }
        // Work in bits from here on.
        long from = isBit ? start : start << 3, to = isBit ? end : (end << 3) + 7;
        long pos = FindBit(v, from, to, bit == 1);
        if (pos < 0)
        {
            // Looking for a 0 without an explicit end: the string continues with zeros right after it.
            pos = bit == 0 && !endGiven ? to + 1 : -1;
        }
        ctx.Reply.WriteInteger(pos);
    }

    /// <summary>Position of the first bit equal to <paramref name="one"/> in [from, to], or -1.</summary>
    private static long FindBit(byte[] v, long from, long to, bool one)
    {
        long b = from;
        while (b <= to && (b & 7) != 0)
        {
            if ((BitAt(v, b) == 1) == one) return b;
            b++;
        }
        byte skip = one ? (byte)0 : (byte)0xFF;
        while (b + 7 <= to && v[b >> 3] == skip) b += 8;
        for (; b <= to; b++) if ((BitAt(v, b) == 1) == one) return b;
        return -1;
    }

    private enum Op { And, Or, Xor, Not }

    private static void BitOp(CommandContext ctx)
    {
        Op op;
        if (ctx.ArgIs(1, "and"u8)) op = Op.And;
        else if (ctx.ArgIs(1, "or"u8)) op = Op.Or;
        else if (ctx.ArgIs(1, "xor"u8)) op = Op.Xor;
        else if (ctx.ArgIs(1, "not"u8)) op = Op.Not;
        else { ctx.SyntaxError(); return; }
        if (op == Op.Not && ctx.Count != 4)
        {
            ctx.Reply.WriteError("ERR BITOP NOT must be called with a single source key.");
            return;
        }

        int n = ctx.Count - 3;
        var sources = new byte[n][];
        int maxLen = 0;
        for (int i = 0; i < n; i++)
        {
            if (!StringCommands.TryGetString(ctx, ctx.Arg(i + 3), out var v)) return;
            sources[i] = v ?? [];
            maxLen = Math.Max(maxLen, sources[i].Length);
        }

        var db = ctx.Db;
        var dest = ctx.Arg(2);
        if (maxLen == 0)
        {
            if (db.Lookup(dest, touch: false) is not null && db.Delete(dest))
            {
                Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", dest);
                ctx.Server.Dirty++;
            }
            ctx.Reply.WriteInteger(0);
            return;
        }

        var res = new byte[maxLen];
        sources[0].CopyTo(res, 0);
        if (op == Op.Not)
        {
            for (int j = 0; j < res.Length; j++) res[j] = (byte)~res[j];
        }
        else
        {
            for (int i = 1; i < n; i++)
            {
                var src = sources[i];
                // Missing bytes of shorter strings count as zeros.
                if (op == Op.And)
                {
                    Combine(res.AsSpan(0, src.Length), src, op);
                    res.AsSpan(src.Length).Clear();
                }
                else Combine(res.AsSpan(0, src.Length), src, op);
            }
        }
        db.Set(dest, res);
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "set", dest);
        ctx.Server.Dirty++;
        ctx.Reply.WriteInteger(maxLen);
    }

    private static void Combine(Span<byte> dst, ReadOnlySpan<byte> src, Op op)
    {
        var dw = MemoryMarshal.Cast<byte, ulong>(dst);
        var sw = MemoryMarshal.Cast<byte, ulong>(src);
        for (int k = 0; k < dw.Length; k++)
            dw[k] = op switch { Op.And => dw[k] & sw[k], Op.Or => dw[k] | sw[k], _ => dw[k] ^ sw[k] };
        for (int k = dw.Length * 8; k < dst.Length; k++)
            dst[k] = op switch { Op.And => (byte)(dst[k] & src[k]), Op.Or => (byte)(dst[k] | src[k]), _ => (byte)(dst[k] ^ src[k]) };
    }

    private enum FieldOp { Get, Set, IncrBy }

    private readonly record struct FieldAction(FieldOp Op, long Offset, int Bits, bool Signed, long Value, BitFieldOverflow Overflow);

    private const string BadType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

    private static bool TryParseFieldType(CommandContext ctx, int arg, out bool signed, out int bits)
    {
        var p = ctx.Arg(arg);
        signed = p.Length > 0 && p[0] == 'i';
        bits = 0;
        if (p.Length > 0 && (p[0] == 'i' || p[0] == 'u') && RespNumbers.TryParseInt64(p[1..], out long n) &&
            n >= 1 && n <= (signed ? 64 : 63))
        {
            bits = (int)n;
            return true;
        }
        ctx.Reply.WriteError(BadType);
        return false;
    }

    private static void BitFieldCommand(CommandContext ctx, bool readOnly)
    {
        var actions = new List<FieldAction>();
        var overflow = BitFieldOverflow.Wrap;
        bool writes = false;
        long highestWrite = 0;
        for (int j = 2; j < ctx.Count; j++)
        {
            int remaining = ctx.Count - j - 1;
            FieldOp op;
            if (ctx.ArgIs(j, "get"u8) && remaining >= 2) op = FieldOp.Get;
            else if (ctx.ArgIs(j, "set"u8) && remaining >= 3) op = FieldOp.Set;
            else if (ctx.ArgIs(j, "incrby"u8) && remaining >= 3) op = FieldOp.IncrBy;
            else if (ctx.ArgIs(j, "overflow"u8) && remaining >= 1)
            {
                j++;
                if (ctx.ArgIs(j, "wrap"u8)) overflow = BitFieldOverflow.Wrap;
                else if (ctx.ArgIs(j, "sat"u8)) overflow = BitFieldOverflow.Sat;
                else if (ctx.ArgIs(j, "fail"u8)) overflow = BitFieldOverflow.Fail;
                else { ctx.Reply.WriteError("ERR Invalid OVERFLOW type specified"); return; }
                continue;
            }
            else { ctx.SyntaxError(); return; }

            if (!TryParseFieldType(ctx, j + 1, out bool signed, out int bits)) return;
            if (!TryGetBitOffset(ctx, j + 2, true, bits, out long offset)) return;
            long value = 0;
            if (op != FieldOp.Get)
            {
                writes = true;
                highestWrite = Math.Max(highestWrite, offset + bits - 1);
                if (!ctx.GetInt64OrReply(j + 3, out value)) return;
            }
            actions.Add(new FieldAction(op, offset, bits, signed, value, overflow));
            j += op == FieldOp.Get ? 2 : 3;
        }

        byte[]? v;
        bool grown = false;
        if (!writes)
        {
            if (!StringCommands.TryGetString(ctx, ctx.Arg(1), out v)) return;
        }
        else
        {
            if (readOnly) { ctx.Reply.WriteError("ERR BITFIELD_RO only supports the GET subcommand"); return; }
            v = LookupForBitWrite(ctx, highestWrite, out grown);
            if (v is null) return;
        }

        var r = ctx.Reply;
        r.WriteArrayHeader(actions.Count);
        long changes = 0;
        bool differs;
        foreach (var a in actions)
        {
            if (a.Op == FieldOp.Get)
            {
                var span = v is null ? ReadOnlySpan<byte>.Empty : v;
                if (a.Signed) r.WriteInteger(BitField.GetSigned(span, a.Offset, a.Bits));
                else r.WriteInteger((long)BitField.GetUnsigned(span, a.Offset, a.Bits));
                continue;
            }
            bool failed;
            ulong store;
            long reply;
            if (a.Signed)
            {
                long old = BitField.GetSigned(v, a.Offset, a.Bits);
                long next;
                int of;
                if (a.Op == FieldOp.IncrBy)
                {
                    of = BitField.CheckSignedOverflow(old, a.Value, a.Bits, a.Overflow, out long limit);
                    next = of != 0 ? limit : old + a.Value;
                    reply = next;
                }
                else
                {
                    of = BitField.CheckSignedOverflow(a.Value, 0, a.Bits, a.Overflow, out long limit);
                    next = of != 0 ? limit : a.Value;
                    reply = old;
                }
                failed = of != 0 && a.Overflow == BitFieldOverflow.Fail;
                store = (ulong)next;
                differs = next != old;
            }
            else
            {
                ulong old = BitField.GetUnsigned(v, a.Offset, a.Bits);
                ulong next;
                int of;
                if (a.Op == FieldOp.IncrBy)
                {
                    of = BitField.CheckUnsignedOverflow(old, a.Value, a.Bits, a.Overflow, out ulong limit);
                    next = of != 0 ? limit : unchecked(old + (ulong)a.Value);
                    reply = (long)next;
                }
                else
                {
                    of = BitField.CheckUnsignedOverflow((ulong)a.Value, 0, a.Bits, a.Overflow, out ulong limit);
                    next = of != 0 ? limit : (ulong)a.Value;
                    reply = (long)old;
                }
                failed = of != 0 && a.Overflow == BitFieldOverflow.Fail;
                store = next;
                differs = next != old;
            }
            if (failed) { r.WriteNull(); continue; }
            r.WriteInteger(reply);
            BitField.Set(v!, a.Offset, a.Bits, store);
            // As Redis: an op counts as a change when it altered the value or the key was created or grown.
            if (grown || differs) changes++;
        }
        if (changes > 0)
        {
            ctx.Db.KeyModified?.Invoke(ctx.Db, ctx.Arg(1));
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "setbit", ctx.Arg(1));
            ctx.Server.Dirty += changes;
        }
    }
}
