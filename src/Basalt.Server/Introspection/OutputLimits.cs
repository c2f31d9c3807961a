using Basalt.Server.Config;

namespace Basalt.Server.Introspection;

/// <summary>
/// client-output-buffer-limit: per client class a hard limit (close at once), and a soft limit that closes the
/// client when exceeded continuously for the given seconds. 0 disables a limit. Checked whenever replies are
/// added to a client (end of its batch, pushes from other clients).
/// </summary>
public sealed class OutputLimits
{
    public readonly record struct Limit(long Hard, long Soft, long SoftSeconds);

    private readonly RedisServer _server;
    private string? _parsedFrom;
    private readonly Limit[] _limits = new Limit[4];

    public OutputLimits(RedisServer server) => _server = server;

    /// <summary>Redis's defaults; a value that names only some classes changes only those.</summary>
    private static readonly Limit[] Defaults = [new(0, 0, 0), new(256L << 20, 64L << 20, 60), new(32L << 20, 8L << 20, 60), new(0, 0, 0)];

    public Limit For(ClientType type)
    {
        var text = _server.Config.Get("client-output-buffer-limit");
        if (!ReferenceEquals(text, _parsedFrom))
        {
            Parse(text, _limits);
            _parsedFrom = text;
        }
        // Masters are held to the normal class.
        return _limits[(int)(type == ClientType.Master ? ClientType.Normal : type)];
    }

    /// <summary>Parses "class hard soft seconds ..." over the defaults; returns false on a malformed value.</summary>
    public static bool Parse(string text, Limit[] into)
    {
        Defaults.CopyTo(into, 0);
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length % 4 != 0) return false;
        for (int i = 0; i < parts.Length; i += 4)
        {
            ClientType type;
            switch (parts[i].ToLowerInvariant())
            {
                case "normal": type = ClientType.Normal; break;
                case "slave": case "replica": type = ClientType.Replica; break;
                case "pubsub": type = ClientType.PubSub; break;
                default: return false;
            }
            if (!ConfigDirectives.TryParseMemory(parts[i + 1], out long hard) || hard < 0) return false;
            if (!ConfigDirectives.TryParseMemory(parts[i + 2], out long soft) || soft < 0) return false;
            if (!long.TryParse(parts[i + 3], out long secs) || secs < 0) return false;
            into[(int)type] = new Limit(hard, soft, secs);
        }
        return true;
    }

    /// <summary>
    /// Under the execution lock, after replies were added to <paramref name="c"/>. Returns true when the client
    /// went over its limit and is being closed (its pending replies are dropped).
    /// </summary>
    public bool Check(Client c)
    {
        if (c.Has(ClientFlags.CloseAsap) || c.Has(ClientFlags.Internal)) return c.Has(ClientFlags.CloseAsap);
        long used = c.PendingOutputBytes;
        if (used < 64)
        {
            c.OutputSoftLimitSinceMs = 0;
            return false;
        }
        var limit = For(ClientInfo.TypeOf(c));
        bool hard = limit.Hard > 0 && used >= limit.Hard;
        bool soft = false;
        if (limit.Soft > 0 && used >= limit.Soft)
        {
            long now = Environment.TickCount64;
            if (c.OutputSoftLimitSinceMs == 0) c.OutputSoftLimitSinceMs = now;
            else soft = now - c.OutputSoftLimitSinceMs > limit.SoftSeconds * 1000;
        }
        else c.OutputSoftLimitSinceMs = 0;
        if (!hard && !soft) return false;
        Log.Warning($"Client {ClientInfo.Line(c, null)} scheduled to be closed ASAP for overcoming of output buffer limits.");
        c.Flags |= ClientFlags.CloseAsap;
        c.Out.Reset();
        c.Connection?.Shutdown();
        return true;
    }
}
