using System.Runtime.CompilerServices;

namespace Basalt.Server.Eviction;

/// <summary>
/// Redis's LFU data in the 24-bit access field of a key: high 16 bits = minutes clock of the last decrement,
/// low 8 bits = logarithmic access counter (new keys start at 5). The counter grows with probability
/// 1/((counter-5)*lfu-log-factor+1) per access and loses one per lfu-decay-time minutes without access.
/// </summary>
public static class LfuCounter
{
    public const byte InitialValue = 5;

    /// <summary>lfu-log-factor and lfu-decay-time, copied from the config by the evictor before each command.</summary>
    public static long LogFactor = 10;
    public static long DecayTime = 1;

    /// <summary>Minutes clock, 16 bits (monotonic; only differences matter).</summary>
    public static uint NowMinutes => (uint)(Environment.TickCount64 / 60_000) & 0xFFFF;

    /// <summary>The access field of a newly created key.</summary>
    public static uint NewStamp() => (NowMinutes << 8) | InitialValue;

    private static long MinutesSince(uint stampMinutes)
    {
        uint now = NowMinutes;
        return now >= stampMinutes ? now - stampMinutes : 0xFFFF - stampMinutes + now;
    }

    /// <summary>The counter after applying the decay for the time since the last decrement (OBJECT FREQ shows this).</summary>
    public static byte Decayed(uint field)
    {
        uint counter = field & 0xFF;
        long periods = DecayTime > 0 ? MinutesSince(field >> 8 & 0xFFFF) / DecayTime : 0;
        return periods >= counter ? (byte)0 : (byte)(counter - periods);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Increment(byte counter)
    {
        if (counter == 255) return 255;
        double baseline = Math.Max(0, counter - InitialValue);
        double p = 1.0 / (baseline * LogFactor + 1);
        return Random.Shared.NextDouble() < p ? (byte)(counter + 1) : counter;
    }

    /// <summary>The access field after one access: decay, then probabilistic increment, stamped now.</summary>
    public static uint Touched(uint field) => (NowMinutes << 8) | Increment(Decayed(field));
}
