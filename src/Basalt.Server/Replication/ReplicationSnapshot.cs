using Basalt.Server.Persistence;

namespace Basalt.Server.Replication;

/// <summary>
/// Where replication gets RDB snapshots from and how it loads them. Until the RDB codec and the snapshot
/// coordinator are in place, only an empty dataset can be sent and only an RDB without keys can be loaded.
/// </summary>
internal static class ReplicationSnapshot
{
    /// <summary>Under the execution lock: starts a point-in-time RDB snapshot of the keyspace into <paramref name="target"/>.</summary>
    public static bool TryStart(RedisServer server, ISnapshotTarget target, out string? error)
    {
        if (server.TotalKeys() != 0)
        {
            error = "RDB snapshots are not available yet (full sync of a non-empty dataset)";
            return false;
        }
        error = null;
        Task.Run(() =>
        {
            // "REDIS0010", EOF opcode, zero checksum (= not checked by the loader).
            target.Write("REDIS0010"u8);
            target.Write([0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
            target.Complete(true, null);
        });
        return true;
    }

    /// <summary>Under the execution lock, on an emptied keyspace: loads an RDB received from the master.</summary>
    public static void Load(Stream input, RedisServer server)
    {
        var r = new BinaryReader(input);
        var magic = r.ReadBytes(9);
        if (magic.Length != 9 || !magic.AsSpan(0, 5).SequenceEqual("REDIS"u8)) throw new InvalidDataException("Wrong signature trying to load DB from file");
        while (true)
        {
            int type = input.ReadByte();
            switch (type)
            {
                case 0xFF: return;                     // EOF (the checksum follows)
                case 0xFA: SkipString(r); SkipString(r); break; // AUX
                case 0xFE: ReadLength(r, out _); break;  // SELECTDB
                case 0xFB: ReadLength(r, out _); ReadLength(r, out _); break; // RESIZEDB
                case 0xF5: ReadLength(r, out _); SkipString(r); break; // MODULE_AUX: not supported past its id
                case -1: throw new EndOfStreamException("Short read loading RDB");
                default: throw new InvalidDataException("RDB with keys: the RDB loader is not available yet");
            }
        }
    }

    private static long ReadLength(BinaryReader r, out bool encoded)
    {
        encoded = false;
        byte b = r.ReadByte();
        switch (b >> 6)
        {
            case 0: return b & 0x3F;
            case 1: return ((b & 0x3F) << 8) | r.ReadByte();
            case 2:
                if (b == 0x80) { var x = r.ReadBytes(4); return (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(x); }
                if (b == 0x81) { var x = r.ReadBytes(8); return (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(x); }
                throw new InvalidDataException("Unknown length encoding in RDB");
            default:
                encoded = true;
                return b & 0x3F;
        }
    }

    private static void SkipString(BinaryReader r)
    {
        long len = ReadLength(r, out bool encoded);
        if (!encoded) { r.ReadBytes((int)len); return; }
        switch (len)
        {
            case 0: r.ReadByte(); break;
            case 1: r.ReadBytes(2); break;
            case 2: r.ReadBytes(4); break;
            case 3:
                long clen = ReadLength(r, out _);
                ReadLength(r, out _);
                r.ReadBytes((int)clen);
                break;
            default: throw new InvalidDataException("Unknown RDB string encoding");
        }
    }
}
