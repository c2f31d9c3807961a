using System.Collections;
using System.Globalization;
using Basalt.Server.Types;

namespace Basalt.Server.Introspection;

/// <summary>Value types that can estimate their own memory use (MEMORY USAGE); <paramref name="samples"/> 0 means all elements.</summary>
public interface IMemoryEstimate
{
    long EstimateBytes(int samples);
}

/// <summary>
/// Memory figures for INFO memory, MEMORY STATS and MEMORY USAGE. The managed heap stands in for the allocator;
/// per-key sizes are estimated the way Redis sizes its allocations (sds headers, robj, dict entry, jemalloc classes)
/// so that MEMORY USAGE of strings matches Redis.
/// </summary>
public static class MemoryStats
{
    public const int RobjSize = 16;
    public const int DictEntrySize = 24;

    /// <summary>Bytes allocated on the managed heap (INFO used_memory).</summary>
    public static long UsedMemory() => GC.GetTotalMemory(false);

    /// <summary>Resident set size from /proc/self/statm (pages), falling back to the working set.</summary>
    public static long Rss()
    {
        try
        {
            var text = File.ReadAllText("/proc/self/statm");
            var parts = text.Split(' ');
            if (parts.Length > 1 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long pages))
                return pages * Environment.SystemPageSize;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return Environment.WorkingSet;
    }

    public static long TotalSystemMemory()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemTotal:", StringComparison.Ordinal)) continue;
                var num = line["MemTotal:".Length..].Trim().Split(' ')[0];
                return long.Parse(num, CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    /// <summary>Redis's bytesToHuman: 123B, 1.50K, 2.00M ...</summary>
    public static string Human(long n)
    {
        var ci = CultureInfo.InvariantCulture;
        if (n < 1024) return n.ToString(ci) + "B";
        string[] units = ["K", "M", "G", "T", "P", "E"];
        double d = n;
        int u = -1;
        while (d >= 1024 && u < units.Length - 1) { d /= 1024; u++; }
        return d.ToString("0.00", ci) + units[u];
    }

    /// <summary>The size class jemalloc would round an allocation of <paramref name="size"/> bytes up to.</summary>
    public static long AllocSize(long size)
    {
        if (size <= 8) return 8;
        if (size <= 128) return (size + 15) & ~15L;
        int log = 63 - (int)long.LeadingZeroCount(size - 1); // 2^log < size <= 2^(log+1)
        long step = 1L << (log - 2);
        return (size + step - 1) & ~(step - 1);
    }

    /// <summary>Allocation size of an sds string of <paramref name="len"/> bytes (header by length class + NUL).</summary>
    public static long SdsSize(long len)
    {
        int header = len < 32 ? 1 : len < 256 ? 3 : len < 65536 ? 5 : len < 4294967296L ? 9 : 17;
        if (len == 0) header = 3;
        return AllocSize(header + len + 1);
    }

    /// <summary>Bytes of a stored string value: shared/int objects, embedded strings up to 44 bytes, raw sds beyond.</summary>
    public static long StringValueSize(byte[] b)
    {
        if (b.Length <= 20 && Protocol.RespNumbers.TryParseInt64(b, out _)) return RobjSize;
        if (b.Length <= 44) return AllocSize(RobjSize + 3 + b.Length + 1);
        return SdsSize(b.Length) + RobjSize;
    }

    /// <summary>MEMORY USAGE: key + value + dictionary entry.</summary>
    public static long KeyUsage(ReadOnlySpan<byte> key, object value, int samples)
    {
        long v = value switch
        {
            byte[] b => StringValueSize(b),
            IMemoryEstimate m => m.EstimateBytes(samples),
            ICollection c => RobjSize + 64 + EstimateCollection(c, samples),
            _ => RobjSize + 64,
        };
        return SdsSize(key.Length) + DictEntrySize + v;
    }

    /// <summary>Fallback for types without their own estimate: samples elements and scales by the count.</summary>
    private static long EstimateCollection(ICollection c, int samples)
    {
        int count = c.Count;
        if (count == 0) return 0;
        int limit = samples <= 0 ? int.MaxValue : samples;
        long bytes = 0;
        int seen = 0;
        foreach (var item in c)
        {
            if (seen >= limit) break;
            bytes += item switch
            {
                byte[] b => SdsSize(b.Length) + 16,
                DictionaryEntry { Key: byte[] k, Value: byte[] v } => SdsSize(k.Length) + SdsSize(v.Length) + DictEntrySize,
                _ => 32,
            };
            seen++;
        }
        return seen == 0 ? 0 : bytes * count / seen;
    }

    /// <summary>A rough per-key overhead of the key tables (MEMORY STATS overhead.hashtable.*).</summary>
    public static long TableOverhead(long entries) => entries == 0 ? 0 : AllocSize(8 * NextPowerOfTwo(entries)) + entries * DictEntrySize;

    private static long NextPowerOfTwo(long n)
    {
        long p = 4;
        while (p < n) p <<= 1;
        return p;
    }

    public static string TypeName(object v) => ValueTypes.TypeName(v);
}
