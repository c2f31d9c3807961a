namespace Basalt.Server.Persistence.Rdb;

/// <summary>RDB format numbers: version, opcodes, value types, length/string encodings.</summary>
public static class RdbConstants
{
    /// <summary>The version Redis 7.0 writes (files and DUMP payloads).</summary>
    public const int Version = 10;
    /// <summary>Newest file version we can read (Redis 7.4+ writes 12).</summary>
    public const int MaxReadVersion = 12;

    // Opcodes (bytes that take the place of a value type in the key stream).
    public const byte OpFunction2 = 245;
    public const byte OpFunctionPreGa = 246;
    public const byte OpModuleAux = 247;
    public const byte OpIdle = 248;
    public const byte OpFreq = 249;
    public const byte OpAux = 250;
    public const byte OpResizeDb = 251;
    public const byte OpExpireTimeMs = 252;
    public const byte OpExpireTime = 253;
    public const byte OpSelectDb = 254;
    public const byte OpEof = 255;

    // Value types.
    public const byte TypeString = 0;
    public const byte TypeList = 1;
    public const byte TypeSet = 2;
    public const byte TypeZSet = 3;            // scores as text doubles
    public const byte TypeHash = 4;
    public const byte TypeZSet2 = 5;           // scores as binary doubles
    public const byte TypeModule = 6;          // pre-GA module format, never loadable
    public const byte TypeModule2 = 7;
    // 8 is not assigned.
    public const byte TypeHashZipmap = 9;
    public const byte TypeListZiplist = 10;
    public const byte TypeSetIntset = 11;
    public const byte TypeZSetZiplist = 12;
    public const byte TypeHashZiplist = 13;
    public const byte TypeListQuicklist = 14;  // quicklist of ziplists
    public const byte TypeStreamListpacks = 15;
    public const byte TypeHashListpack = 16;
    public const byte TypeZSetListpack = 17;
    public const byte TypeListQuicklist2 = 18; // quicklist of listpacks (or plain nodes)
    public const byte TypeStreamListpacks2 = 19;
    public const byte TypeSetListpack = 20;
    public const byte TypeStreamListpacks3 = 21;
    // RDB 12 (Redis 7.4+) adds hashes with field TTLs: 22/23 (pre-GA) and 24/25. Not supported: refused on load.
    public const byte MaxKnownType = 21;

    // QUICKLIST_2 node containers.
    public const int QuicklistNodePlain = 1;
    public const int QuicklistNodePacked = 2;

    // Length encodings: first byte's top two bits 00 = 6-bit, 01 = 14-bit, 10 = 32/64-bit (these bytes), 11 = special.
    public const byte Len32 = 0x80;
    public const byte Len64 = 0x81;
    public const byte EncInt8 = 0xC0;
    public const byte EncInt16 = 0xC1;
    public const byte EncInt32 = 0xC2;
    public const byte EncLzf = 0xC3;

    /// <summary>Highest value type RDB version 10 defines (types 20, 21 came with version 11).</summary>
    public const byte MaxTypeVersion10 = 19;

    public static bool IsKnownValueType(byte t) => t <= MaxKnownType && t != 8;
}
