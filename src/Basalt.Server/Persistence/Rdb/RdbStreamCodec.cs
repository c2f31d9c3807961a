using Basalt.Server.Types;

namespace Basalt.Server.Persistence.Rdb;

// CONTRACT STUB (owner: h-rdbenc). Bodies are filled in on h-rdbenc.
/// <summary>Streams in RDB: RDB_TYPE_STREAM_LISTPACKS (15), _2 (19) and _3 (21), with consumer groups and PELs.</summary>
public static class RdbStreamCodec
{
    /// <summary>The type byte this writer uses (19 for RDB version 10).</summary>
    public const byte WriteType = 19;
    /// <summary>Writes the body that follows the type byte.</summary>
    public static void Write(RdbOutput o, RedisStream s) => throw new NotImplementedException();
    /// <summary>Reads the body that follows a stream type byte (15, 19 or 21).</summary>
    public static RedisStream Read(RdbInput i, byte rdbType) => throw new NotImplementedException();
}
