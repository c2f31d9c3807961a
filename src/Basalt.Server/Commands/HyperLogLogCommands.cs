using System.Text;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>HyperLogLog commands over string values in Redis's HLL layout: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.</summary>
public static class HyperLogLogCommands
{
    private const string InvalidHll = "INVALIDOBJ Corrupted HLL object detected";
    private const string NotHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";

    // Shared work areas; handlers run one at a time under the execution lock.
    private static readonly HllEditor Editor = new();
    // Per thread rather than per lock: several in-process servers (tests) may run at once.
    [ThreadStatic] private static byte[]? t_maxRegisters;
    private static byte[] MaxRegisters => t_maxRegisters ??= new byte[HyperLogLog.Registers];

    public static void Register(CommandTable t)
    {
        t.Add("pfadd", -2, Write | DenyOom | Fast, 1, 1, 1, PfAdd);
        t.Add("pfcount", -2, ReadOnly, 1, -1, 1, PfCount);
        t.Add("pfmerge", -2, Write | DenyOom, 1, -1, 1, PfMerge);
        t.Add("pfdebug", 3, Write | DenyOom | Admin, 2, 2, 1, PfDebug);
        t.Add("pfselftest", 1, Admin, 0, 0, 0, PfSelfTest);
    }

    /// <summary>The HLL at <paramref name="key"/> (null when missing); false after replying WRONGTYPE.</summary>
    private static bool TryGetHll(CommandContext ctx, ReadOnlySpan<byte> key, bool read, out byte[]? value)
    {
        bool ok = read ? ctx.TryLookup(key, out value) : ctx.TryLookupForWrite(key, out value);
        if (!ok) return false;
        if (value is not null && !HyperLogLog.IsValid(value))
        {
            ctx.Reply.WriteError(NotHll);
            return false;
        }
        return true;
    }

    /// <summary>Stores the editor's result under the key unless the edits went into the stored array.</summary>
    private static void StoreBack(CommandContext ctx, ReadOnlySpan<byte> key, bool created)
    {
        var db = ctx.Db;
        if (created) { db.Add(ctx.ArgBytes(1), Editor.Result()); return; }
        if (Editor.InPlace) db.KeyModified?.Invoke(db, key);
        else db.Set(key, Editor.Result(), keepTtl: true);
    }

    private static void PfAdd(CommandContext ctx)
    {
        try { PfAddCore(ctx); }
        finally { Editor.Release(); }
    }

    private static void PfAddCore(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (!TryGetHll(ctx, key, read: false, out var v)) return;
        bool created = v is null;
        int updated = created ? 1 : 0;
        Editor.Load(v ?? HyperLogLog.CreateSparse());
        long sparseMax = ctx.Server.Config.HllSparseMaxBytes;
        for (int i = 2; i < ctx.Count; i++)
        {
            int r = Editor.Add(ctx.Arg(i), sparseMax);
            if (r < 0)
            {
                // Redis keeps the registers already raised by this command (its edits are in place).
                if (updated > 0) StoreBack(ctx, key, created);
                ctx.Reply.WriteError(InvalidHll);
                return;
            }
            updated += r;
        }
        if (updated > 0)
        {
            HyperLogLog.InvalidateCache(Editor.Buf);
            StoreBack(ctx, key, created);
            Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "pfadd", key);
            ctx.Server.Dirty += updated;
        }
        ctx.Reply.WriteInteger(updated > 0 ? 1 : 0);
    }

    private static void PfCount(CommandContext ctx)
    {
        if (ctx.Count > 2)
        {
            // Union: the max of every register across the keys, in 8-bit registers.
            var max = MaxRegisters;
            Array.Clear(max);
            for (int i = 1; i < ctx.Count; i++)
            {
                if (!TryGetHll(ctx, ctx.Arg(i), read: true, out var o)) return;
                if (o is null) continue;
                if (!HyperLogLog.MergeInto(o, max)) { ctx.Reply.WriteError(InvalidHll); return; }
            }
            ctx.Reply.WriteInteger((long)HyperLogLog.CountRaw(max));
            return;
        }

        var key = ctx.Arg(1);
        if (!TryGetHll(ctx, key, read: true, out var v)) return;
        if (v is null) { ctx.Reply.WriteInteger(0); return; }
        ulong card;
        if (HyperLogLog.CacheValid(v)) card = HyperLogLog.ReadCache(v);
        else
        {
            card = HyperLogLog.Count(v, out bool invalid);
            if (invalid) { ctx.Reply.WriteError(InvalidHll); return; }
            // Caching the estimate modifies the value, so it counts as a change like in Redis.
            HyperLogLog.WriteCache(v, card);
            ctx.Db.KeyModified?.Invoke(ctx.Db, key);
            ctx.Server.Dirty++;
        }
        ctx.Reply.WriteInteger((long)card);
    }

    private static void PfMerge(CommandContext ctx)
    {
        try { PfMergeCore(ctx); }
        finally { Editor.Release(); }
    }

    private static void PfMergeCore(CommandContext ctx)
    {
        var max = MaxRegisters;
        Array.Clear(max);
        bool useDense = false;
        for (int i = 1; i < ctx.Count; i++)
        {
            if (!TryGetHll(ctx, ctx.Arg(i), read: true, out var o)) return;
            if (o is null) continue;
            if (HyperLogLog.IsDense(o)) useDense = true;
            if (!HyperLogLog.MergeInto(o, max)) { ctx.Reply.WriteError(InvalidHll); return; }
        }

        var key = ctx.Arg(1);
        var v = ctx.Db.Lookup(key) as byte[]; // checked above as the first source
        bool created = v is null;
        Editor.Load(v ?? HyperLogLog.CreateSparse());
        if (useDense && !Editor.ToDense()) { ctx.Reply.WriteError(InvalidHll); return; }

        long sparseMax = ctx.Server.Config.HllSparseMaxBytes;
        for (int j = 0; j < max.Length; j++)
        {
            if (max[j] == 0) continue;
            if (Editor.IsDense) Editor.DenseSet(j, max[j]);
            else Editor.SparseSet(j, max[j], sparseMax); // a corrupted target is left as is, like Redis
        }
        HyperLogLog.InvalidateCache(Editor.Buf);
        StoreBack(ctx, key, created);
        Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.String, "pfadd", key);
        ctx.Server.Dirty++;
        ctx.Reply.WriteOk();
    }

    private static void PfDebug(CommandContext ctx)
    {
        var key = ctx.Arg(2);
        if (!TryGetHll(ctx, key, read: false, out var v)) return;
        if (v is null) { ctx.Reply.WriteError("ERR The specified key does not exist"); return; }

        if (ctx.ArgIs(1, "getreg"u8))
        {
            if (!HyperLogLog.IsDense(v))
            {
                var dense = HyperLogLog.SparseToDense(v);
                if (dense is null) { ctx.Reply.WriteError(InvalidHll); return; }
                ctx.Db.Set(key, dense, keepTtl: true);
                ctx.Server.Dirty++;
                v = dense;
            }
            var regs = v.AsSpan(HyperLogLog.HeaderSize);
            ctx.Reply.WriteArrayHeader(HyperLogLog.Registers);
            for (int j = 0; j < HyperLogLog.Registers; j++) ctx.Reply.WriteInteger(HyperLogLog.GetDense(regs, j));
        }
        else if (ctx.ArgIs(1, "decode"u8))
        {
            if (HyperLogLog.IsDense(v)) { ctx.Reply.WriteError("ERR HLL encoding is not sparse"); return; }
            ctx.Reply.WriteBulk(Decode(v));
        }
        else if (ctx.ArgIs(1, "encoding"u8))
        {
            ctx.Reply.WriteSimpleString(HyperLogLog.IsDense(v) ? "dense" : "sparse");
        }
        else if (ctx.ArgIs(1, "todense"u8))
        {
            bool converted = false;
            if (!HyperLogLog.IsDense(v))
            {
                var dense = HyperLogLog.SparseToDense(v);
                if (dense is null) { ctx.Reply.WriteError(InvalidHll); return; }
                ctx.Db.Set(key, dense, keepTtl: true);
                ctx.Server.Dirty++;
                converted = true;
            }
            ctx.Reply.WriteInteger(converted ? 1 : 0);
        }
        else
        {
            var msg = new List<byte>("ERR Unknown PFDEBUG subcommand '"u8.ToArray());
            msg.AddRange(ctx.Arg(1).ToArray());
            msg.Add((byte)'\'');
            var bytes = msg.ToArray();
            for (int i = 0; i < bytes.Length; i++) if (bytes[i] == '\r' || bytes[i] == '\n') bytes[i] = (byte)' ';
            ctx.Reply.WriteError(bytes);
        }
    }

    /// <summary>The sparse opcodes as text: "z:len" for ZERO, "Z:len" for XZERO, "v:value,len" for VAL.</summary>
    private static string Decode(ReadOnlySpan<byte> v)
    {
        var sb = new StringBuilder();
        int p = HyperLogLog.HeaderSize;
        while (p < v.Length)
        {
            byte op = v[p];
            if (sb.Length > 0) sb.Append(' ');
            if (HyperLogLog.IsZero(op)) { sb.Append("z:").Append(HyperLogLog.ZeroLen(op)); p++; }
            else if (HyperLogLog.IsXZero(op))
            {
                byte next = p + 1 < v.Length ? v[p + 1] : (byte)0;
                sb.Append("Z:").Append(HyperLogLog.XZeroLen(op, next));
                p += 2;
            }
            else { sb.Append("v:").Append(HyperLogLog.ValValue(op)).Append(',').Append(HyperLogLog.ValLen(op)); p++; }
        }
        return sb.ToString();
    }

    private static void PfSelfTest(CommandContext ctx)
    {
        var error = HyperLogLogSelfTest.Run(ctx.Server.Config.HllSparseMaxBytes);
        if (error is null) ctx.Reply.WriteOk();
        else ctx.Reply.WriteError(error);
    }
}
