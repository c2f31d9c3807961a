namespace Basalt.Server.Types;

/// <summary>
/// Values are stored as plain objects: a string value is a byte[] (never shared between keys, so it may be
/// overwritten in place); other types are their own classes implementing <see cref="IRedisValue"/>.
/// </summary>
public interface IRedisValue
{
    /// <summary>TYPE reply: list, set, zset, hash, stream.</summary>
    string TypeName { get; }

    /// <summary>OBJECT ENCODING reply.</summary>
    string Encoding { get; }

    /// <summary>A deep copy (COPY).</summary>
    IRedisValue Clone();
}

public static class ValueTypes
{
    public static string TypeName(object? value) => value switch
    {
        null => "none",
        byte[] => "string",
        IRedisValue v => v.TypeName,
        HashPackByte[] => "hash",
        ZSetPackByte[] => "zset",
        _ => "none",
    };

    /// <summary>Redis's encodings for strings: int when it parses as a 64-bit integer, embstr up to 44 bytes, else raw.</summary>
    public static string Encoding(object value) => value switch
    {
        byte[] b when b.Length <= 20 && Basalt.Protocol.RespNumbers.TryParseInt64(b, out _) => "int",
        byte[] b when b.Length <= 44 => "embstr",
        byte[] => "raw",
        IRedisValue v => v.Encoding,
        HashPackByte[] or ZSetPackByte[] => "listpack",
        _ => "unknown",
    };

    public static object Clone(object value) => value switch
    {
        byte[] b => b.AsSpan().ToArray(),
        RedisHash h => ((RedisHash)h.Clone()).Stored,
        HashPackByte[] p => ((RedisHash)RedisHash.Readable(p)!.Clone()).Stored,
        RedisSortedSet z => ((RedisSortedSet)z.Clone()).Stored,
        ZSetPackByte[] p => ((RedisSortedSet)RedisSortedSet.Readable(p)!.Clone()).Stored,
        IRedisValue v => v.Clone(),
        _ => value,
    };
}
