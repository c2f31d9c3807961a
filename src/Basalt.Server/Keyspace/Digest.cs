using System.Buffers.Binary;
using System.Security.Cryptography;
using Basalt.Server.Types;

namespace Basalt.Server.Keyspace;

/// <summary>
/// Lets a value type take part in DEBUG DIGEST. Redis's rules per type: list elements are mixed in order,
/// set members are xored (order-free), hash fields get a fresh 20-byte digest mixed with the field then the
/// value and xored in, zset members likewise with the score formatted as %.17g.
/// </summary>
public interface IDigestible
{
    void AddToDigest(Span<byte> digest);
}

/// <summary>
/// The dataset digest of DEBUG DIGEST / DIGEST-VALUE, computed as Redis 7.0 does so the two servers
/// agree on equal data: SHA1-based "mix" (order-dependent) and "xor" (order-free) steps.
/// </summary>
public static class Digest
{
    public const int Size = 20;

    /// <summary>digest ^= SHA1(data).</summary>
    public static void Xor(Span<byte> digest, ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Size];
        SHA1.HashData(data, hash);
        for (int i = 0; i < Size; i++) digest[i] ^= hash[i];
    }

    /// <summary>digest = SHA1(digest ^ SHA1(data)): order matters.</summary>
    public static void Mix(Span<byte> digest, ReadOnlySpan<byte> data)
    {
        Xor(digest, data);
        Span<byte> copy = stackalloc byte[Size];
        digest.CopyTo(copy);
        SHA1.HashData(copy, digest);
    }

    /// <summary>Redis's type numbers (string 0, list 1, set 2, zset 3, hash 4, module 5, stream 6).</summary>
    public static uint TypeId(object value) => ValueTypes.TypeName(value) switch
    {
        "string" => 0, "list" => 1, "set" => 2, "zset" => 3, "hash" => 4, "stream" => 6, _ => 5,
    };

    /// <summary>The digest of one value (DEBUG DIGEST-VALUE): its type, its content, and an expire marker.</summary>
    public static void AddValue(Span<byte> digest, object value, bool hasExpire)
    {
        Span<byte> type = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(type, TypeId(value));
        Mix(digest, type);
        if (value is byte[] s) Mix(digest, s);
        else if (value is Types.GrowableString g) Mix(digest, g.Span);
        else if (value is IDigestible d) d.AddToDigest(digest);
        else if (Types.RedisHash.Readable(value) is { } h) h.AddToDigest(digest);
        else if (Types.RedisSortedSet.Readable(value) is { } z) z.AddToDigest(digest);
        // Only the presence of a TTL counts, not its time (which differs between servers).
        if (hasExpire) Xor(digest, "!!expire!!"u8);
    }

    /// <summary>The digest of every database (DEBUG DIGEST); 20 zero bytes when all are empty.</summary>
    public static byte[] Dataset(Database[] dbs)
    {
        var final = new byte[Size];
        Span<byte> kv = stackalloc byte[Size];
        Span<byte> id = stackalloc byte[4];
        foreach (var db in dbs)
        {
            if (db.Count == 0) continue;
            BinaryPrimitives.WriteUInt32BigEndian(id, (uint)db.Index);
            Mix(final, id);
            foreach (var (key, value) in db.Keys.Enumerate())
            {
                kv.Clear();
                Mix(kv, key);
                AddValue(kv, value, db.GetExpire(key) != -1);
                Xor(final, kv); // final ^= SHA1(key-value digest)
            }
        }
        return final;
    }

    public static string ToHex(ReadOnlySpan<byte> digest) => Convert.ToHexString(digest).ToLowerInvariant();
}
