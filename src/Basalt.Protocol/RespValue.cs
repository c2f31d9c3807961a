using System.Text;

namespace Basalt.Protocol;

public enum RespType : byte
{
    SimpleString = (byte)'+',
    Error = (byte)'-',
    Integer = (byte)':',
    BulkString = (byte)'$',
    Array = (byte)'*',
    Null = (byte)'_',
    Boolean = (byte)'#',
    Double = (byte)',',
    BigNumber = (byte)'(',
    BulkError = (byte)'!',
    Verbatim = (byte)'=',
    Map = (byte)'%',
    Set = (byte)'~',
    Push = (byte)'>',
    Attribute = (byte)'|',
}

/// <summary>A parsed reply (client side: tools, tests, the replica's master link). Allocates; not for the server's hot path.</summary>
public sealed class RespValue
{
    public RespType Type { get; init; }
    public byte[]? Bytes { get; init; }        // strings, errors, doubles, big numbers (text form)
    public long Integer { get; init; }
    public RespValue[]? Items { get; init; }   // arrays, sets, pushes; maps as flat key,value pairs
    public bool IsNull { get; init; }

    public string? Text => Bytes is null ? null : Encoding.UTF8.GetString(Bytes);

    public bool IsError => Type is RespType.Error or RespType.BulkError;

    public override string ToString() => Type switch
    {
        _ when IsNull => "(nil)",
        RespType.Integer => Integer.ToString(),
        RespType.Boolean => Integer != 0 ? "true" : "false",
        RespType.Array or RespType.Set or RespType.Push or RespType.Map => "[" + string.Join(", ", Items!.Select(i => i.ToString())) + "]",
        RespType.Error => "ERR:" + Text,
        _ => Text ?? "",
    };

    /// <summary>
    /// Parses one complete reply from <paramref name="data"/>; returns null when more bytes are needed.
    /// <paramref name="consumed"/> is the length of the reply.
    /// </summary>
    public static RespValue? TryParse(ReadOnlySpan<byte> data, out int consumed)
    {
        consumed = 0;
        int pos = 0;
        var v = Parse(data, ref pos);
        if (v is null) return null;
        consumed = pos;
        return v;
    }

    private static RespValue? Parse(ReadOnlySpan<byte> data, ref int pos)
    {
        if (pos >= data.Length) return null;
        byte t = data[pos];
        int nl = data[pos..].IndexOf("\r\n"u8);
        if (nl < 0) return null;
        var line = data.Slice(pos + 1, nl - 1);
        int next = pos + nl + 2;
        switch ((RespType)t)
        {
            case RespType.SimpleString:
            case RespType.Error:
            case RespType.Double:
            case RespType.BigNumber:
                pos = next;
                return new RespValue { Type = (RespType)t, Bytes = line.ToArray() };
            case RespType.Integer:
                pos = next;
                RespNumbers.TryParseInt64(line, out long i);
                return new RespValue { Type = RespType.Integer, Integer = i };
            case RespType.Null:
                pos = next;
                return new RespValue { Type = RespType.Null, IsNull = true };
            case RespType.Boolean:
                pos = next;
                return new RespValue { Type = RespType.Boolean, Integer = line.Length > 0 && line[0] == 't' ? 1 : 0 };
            case RespType.BulkString:
            case RespType.BulkError:
            case RespType.Verbatim:
            {
                RespNumbers.TryParseInt64(line, out long len);
                if (len < 0) { pos = next; return new RespValue { Type = (RespType)t, IsNull = true }; }
                if (next + len + 2 > data.Length) return null;
                var body = data.Slice(next, (int)len).ToArray();
                pos = next + (int)len + 2;
                return new RespValue { Type = (RespType)t, Bytes = body };
            }
            case RespType.Array:
            case RespType.Set:
            case RespType.Push:
            case RespType.Map:
            case RespType.Attribute:
            {
                RespNumbers.TryParseInt64(line, out long n);
                if (n < 0) { pos = next; return new RespValue { Type = (RespType)t, IsNull = true }; }
                long count = (RespType)t is RespType.Map or RespType.Attribute ? n * 2 : n;
                var items = new RespValue[count];
                int p = next;
                for (long k = 0; k < count; k++)
                {
                    var item = Parse(data, ref p);
                    if (item is null) return null;
                    items[k] = item;
                }
                pos = p;
                if ((RespType)t == RespType.Attribute) return Parse(data, ref pos); // attributes decorate the next value
                return new RespValue { Type = (RespType)t, Items = items };
            }
            default:
                throw new FormatException($"Protocol error: unexpected type byte '{(char)t}'");
        }
    }

    /// <summary>Encodes a command as a RESP multibulk request.</summary>
    public static byte[] EncodeCommand(params object[] args)
    {
        var w = new RespWriter(256);
        w.WriteArrayHeader(args.Length);
        foreach (var a in args)
        {
            switch (a)
            {
                case byte[] b: w.WriteBulk(b); break;
                default: w.WriteBulk(Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? ""); break;
            }
        }
        var result = w.WrittenSpan.ToArray();
        w.Dispose();
        return result;
    }
}
