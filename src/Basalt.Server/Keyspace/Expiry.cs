namespace Basalt.Server.Keyspace;

/// <summary>Conversions of the EX/PX/EXAT/PXAT style arguments into absolute unix milliseconds, with Redis's overflow rules.</summary>
public static class Expiry
{
    /// <summary>
    /// Computes the absolute expiry. Returns false ("invalid expire time") when the value is not positive
    /// or overflows when converted to milliseconds or made absolute.
    /// </summary>
    public static bool TryComputeExpireAt(long value, bool seconds, bool absolute, out long unixMs)
    {
        unixMs = 0;
        if (value <= 0) return false;
        if (seconds)
        {
            if (value > long.MaxValue / 1000) return false;
            value *= 1000;
        }
        if (!absolute)
        {
            long now = Database.NowMs;
            if (value > long.MaxValue - now) return false;
            value += now;
        }
        unixMs = value;
        return true;
    }
}
