using System.Buffers.Binary;
using Basalt.Server.Notifications;
using Basalt.Server.Persistence.Rdb;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>
/// DUMP and RESTORE. A payload is the RDB serialization of the value (type byte + body), the 2-byte
/// little-endian RDB version and the CRC64 of everything before it.
/// </summary>
public static class DumpRestoreCommands
{
    private const string BadPayload = "ERR DUMP payload version or checksum are wrong";
    private const string BadFormat = "ERR Bad data format";

    public static void Register(CommandTable t)
    {
        t.Add("dump", 2, ReadOnly, 1, 1, 1, Dump);
        t.Add("restore", -4, Write | DenyOom, 1, 1, 1, Restore);
    }

    /// <summary>The DUMP payload of a value.</summary>
    public static byte[] CreatePayload(object value, bool compress)
    {
        var ms = new MemoryStream();
        var o = new RdbOutput(ms, compress);
        RdbValueWriter.Write(o, value);
        o.WriteByte((byte)RdbConstants.Version);
        o.WriteByte((byte)(RdbConstants.Version >> 8));
        o.WriteUInt64LE(o.Crc);
        o.Flush();
        return ms.ToArray();
    }

    /// <summary>Version (at most ours) and checksum of a payload, as Redis's verifyDumpPayload.</summary>
    public static bool VerifyPayload(ReadOnlySpan<byte> p)
    {
        if (p.Length < 10) return false;
        int version = BinaryPrimitives.ReadUInt16LittleEndian(p.Slice(p.Length - 10, 2));
        if (version > RdbConstants.Version) return false;
        return Crc64.Compute(p[..^8]) == BinaryPrimitives.ReadUInt64LittleEndian(p[^8..]);
    }

    /// <summary>
    /// The value in a verified payload, or null when it is malformed. Like Redis, the object is parsed from the
    /// whole buffer (footer included) and trailing bytes are ignored.
    /// </summary>
    public static object? ParsePayload(byte[] p, RedisServer server)
    {
        try
        {
            var i = new RdbInput(p, 0, p.Length);
            byte type = i.ReadByte();
            // Payloads are at most version 10, whose types end at 19 (as Redis 7.0 knows them).
            if (!RdbConstants.IsKnownValueType(type) || type > RdbConstants.MaxTypeVersion10) return null;
            return RdbValueReader.Read(i, type, server);
        }
        catch (RdbFormatException)
        {
            return null;
        }
    }

    private static void Dump(CommandContext ctx)
    {
        var value = KeyCommands.LookupRead(ctx, ctx.Arg(1), touch: true);
        if (value is null) { ctx.Reply.WriteNull(); return; }
        ctx.Reply.WriteBulk(CreatePayload(value, ctx.Server.Config.RdbCompression));
    }

    private static void Restore(CommandContext ctx)
    {
        bool replace = false, absTtl = false;
        long idle = -1, freq = -1;
        for (int j = 4; j < ctx.Count; j++)
        {
            bool more = j + 1 < ctx.Count;
            if (ctx.ArgIs(j, "replace"u8)) replace = true;
            else if (ctx.ArgIs(j, "absttl"u8)) absTtl = true;
            else if (ctx.ArgIs(j, "idletime"u8) && more && freq == -1)
            {
                if (!ctx.GetInt64OrReply(j + 1, out idle)) return;
                if (idle < 0) { ctx.Reply.WriteError("ERR Invalid IDLETIME value, must be >= 0"); return; }
                j++;
            }
            else if (ctx.ArgIs(j, "freq"u8) && more && idle == -1)
            {
                if (!ctx.GetInt64OrReply(j + 1, out freq)) return;
                if (freq < 0 || freq > 255) { ctx.Reply.WriteError("ERR Invalid FREQ value, must be >= 0 and <= 255"); return; }
                j++;
            }
            else { ctx.SyntaxError(); return; }
        }

        var db = ctx.Db;
        var key = ctx.Arg(1);
        if (!replace && db.Lookup(key, touch: false) is not null)
        {
            ctx.Reply.WriteError("BUSYKEY Target key name already exists.");
            return;
        }
        if (!ctx.GetInt64OrReply(2, out long ttl)) return;
        if (ttl < 0) { ctx.Reply.WriteError("ERR Invalid TTL value, must be >= 0"); return; }

        var payload = ctx.Arg(3);
        if (!VerifyPayload(payload)) { ctx.Reply.WriteError(BadPayload); return; }
        var value = ParsePayload(payload.ToArray(), ctx.Server);
        if (value is null) { ctx.Reply.WriteError(BadFormat); return; }

        bool deleted = replace && db.Delete(key);
        long now = Keyspace.Database.NowMs;
        if (ttl != 0 && !absTtl) ttl += now;
        // A replica keeps it (Database.ExpireOnRead is off there): its master decides when it goes.
        if (ttl != 0 && ttl <= now && Keyspace.Database.ExpireOnRead)
        {
            // Already expired: the key is not created; a replaced key is gone (propagated as a DEL, as Redis does).
            if (deleted)
            {
                KeyspaceEvents.Notify(ctx, KeyspaceEvents.Generic, "del", key);
                if (ctx.Propagator.Active)
                {
                    ctx.SuppressPropagation();
                    ctx.Propagator.Begin(ctx.Client.DbIndex, 2).Arg("DEL"u8).Arg(key).End();
                }
                ctx.Server.Dirty++;
            }
            ctx.Reply.WriteOk();
            return;
        }

        // The key is written here. Propagation: a relative TTL goes out as an absolute one plus ABSTTL, so
        // replicas and the AOF expire the key at the same instant as we do.
        db.Set(key, value);
        if (ttl != 0)
        {
            db.SetExpire(key, ttl);
            if (!absTtl && ctx.Propagator.Active)
            {
                ctx.SuppressPropagation();
                var op = ctx.Propagator.Begin(ctx.Client.DbIndex, ctx.Count + 1);
                for (int k = 0; k < ctx.Count; k++)
                    if (k == 2) op.Arg(ttl); else op.Arg(ctx.Arg(k));
                op.Arg("ABSTTL"u8).End();
            }
        }
        RdbFile.ApplyAccessInfo(db, key, idle, (int)freq);
        KeyspaceEvents.Notify(ctx, KeyspaceEvents.Generic, "restore", key);
        ctx.Server.Dirty++;
        ctx.Reply.WriteOk();
    }
}
