using System.Globalization;

namespace Basalt.Server.Types;

/// <summary>A geohash cell: interleaved bits (latitude on even bits, longitude on odd bits) at a step (bits per axis).</summary>
public struct GeoHashBits
{
    public ulong Bits;
    public int Step;
    public GeoHashBits(ulong bits, int step) { Bits = bits; Step = step; }
    public readonly bool IsZero => Bits == 0 && Step == 0;
}

/// <summary>The rectangle a geohash cell covers.</summary>
public struct GeoArea { public double LonMin, LonMax, LatMin, LatMax; }

/// <summary>
/// Redis's geo encoding: a 52-bit interleaved geohash (26 bits per axis) over the Web-Mercator-safe latitude
/// range, stored as the zset score; haversine distances on a sphere of Redis's Earth radius.
/// </summary>
public static class GeoHash
{
    public const int StepMax = 26;
    public const double LatMin = -85.05112878, LatMax = 85.05112878, LonMin = -180, LonMax = 180;
    public const double EarthRadius = 6372797.560856;
    public const double MercatorMax = 20037726.37;
    private const double DegToRad = Math.PI / 180.0;

    public static double DegRad(double a) => a * DegToRad;
    public static double RadDeg(double a) => a / DegToRad;

    public static bool ValidLonLat(double lon, double lat) => !(lon < LonMin || lon > LonMax || lat < LatMin || lat > LatMax);

    /// <summary>Spreads the low 32 bits of x onto even bit positions, y onto odd ones.</summary>
    public static ulong Interleave(uint xlo, uint ylo)
    {
        ulong x = xlo, y = ylo;
        x = (x | (x << 16)) & 0x0000FFFF0000FFFFUL; y = (y | (y << 16)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x << 8)) & 0x00FF00FF00FF00FFUL; y = (y | (y << 8)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FUL; y = (y | (y << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x << 2)) & 0x3333333333333333UL; y = (y | (y << 2)) & 0x3333333333333333UL;
        x = (x | (x << 1)) & 0x5555555555555555UL; y = (y | (y << 1)) & 0x5555555555555555UL;
        return x | (y << 1);
    }

    private static uint Squash(ulong x)
    {
        x &= 0x5555555555555555UL;
        x = (x | (x >> 1)) & 0x3333333333333333UL;
        x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x >> 4)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x >> 8)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x >> 16)) & 0x00000000FFFFFFFFUL;
        return (uint)x;
    }

    /// <summary>Even bits (latitude index) and odd bits (longitude index).</summary>
    public static (uint Even, uint Odd) Deinterleave(ulong bits) => (Squash(bits), Squash(bits >> 1));

    /// <summary>C's double→uint32 cast for in-range values; the offsets are always in [0, 2^32).</summary>
    private static uint ToU32(double d) => d <= 0 ? 0u : d >= 4294967296.0 ? 0u : (uint)d;

    /// <summary>Encodes a point against the given ranges; false for points outside the geo limits or the ranges.</summary>
    public static bool Encode(double lonMin, double lonMax, double latMin, double latMax, double lon, double lat, int step, out GeoHashBits hash)
    {
        hash = default;
        if (!ValidLonLat(lon, lat)) return false;
        hash.Step = step;
        if (lat < latMin || lat > latMax || lon < lonMin || lon > lonMax) return false;
        double latOff = (lat - latMin) / (latMax - latMin);
        double lonOff = (lon - lonMin) / (lonMax - lonMin);
        latOff *= 1UL << step;
        lonOff *= 1UL << step;
        hash.Bits = Interleave(ToU32(latOff), ToU32(lonOff));
        return true;
    }

    public static bool EncodeWgs84(double lon, double lat, int step, out GeoHashBits hash) =>
        Encode(LonMin, LonMax, LatMin, LatMax, lon, lat, step, out hash);

    public static GeoArea Decode(GeoHashBits hash)
    {
        var (ilat, ilon) = Deinterleave(hash.Bits);
        double scale = 1UL << hash.Step;
        double latScale = LatMax - LatMin, lonScale = LonMax - LonMin;
        return new GeoArea
        {
            LatMin = LatMin + (ilat * 1.0 / scale) * latScale,
            LatMax = LatMin + (unchecked(ilat + 1u) * 1.0 / scale) * latScale,
            LonMin = LonMin + (ilon * 1.0 / scale) * lonScale,
            LonMax = LonMin + (unchecked(ilon + 1u) * 1.0 / scale) * lonScale,
        };
    }

    /// <summary>The cell center, clamped to the geo limits (what GEOPOS reports).</summary>
    public static (double Lon, double Lat) Center(in GeoArea a)
    {
        double x = (a.LonMin + a.LonMax) / 2;
        x = Math.Clamp(x, LonMin, LonMax);
        double y = (a.LatMin + a.LatMax) / 2;
        y = Math.Clamp(y, LatMin, LatMax);
        return (x, y);
    }

    /// <summary>C's (uint64_t) cast of a score as x86-64 compilers emit it (out-of-range values give the "indefinite" pattern).</summary>
    public static ulong ScoreToBits(double score)
    {
        const double two63 = 9223372036854775808.0;
        if (score < two63) return (ulong)CvtToInt64(score);
        return (ulong)CvtToInt64(score - two63) ^ 0x8000000000000000UL;
    }

    private static long CvtToInt64(double d) =>
        double.IsNaN(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0 ? long.MinValue : (long)d;

    /// <summary>Decodes a zset score to the cell-center coordinates.</summary>
    public static (double Lon, double Lat) DecodeScore(double score) =>
        Center(Decode(new GeoHashBits(ScoreToBits(score), StepMax)));

    public static double EncodeScore(double lon, double lat)
    {
        EncodeWgs84(lon, lat, StepMax, out var h);
        return h.Bits;
    }

    private const string Alphabet = "0123456789bcdefghjkmnpqrstuvwxyz";

    /// <summary>The standard 11-char geohash string of a stored score (re-encoded on the [-180,180]x[-90,90] ranges).</summary>
    public static void StandardHash(double score, Span<byte> dest11)
    {
        var (lon, lat) = DecodeScore(score);
        Encode(-180, 180, -90, 90, lon, lat, StepMax, out var h);
        for (int i = 0; i < 11; i++)
        {
            int idx = i == 10 ? 0 : (int)((h.Bits >> (52 - (i + 1) * 5)) & 0x1f);
            dest11[i] = (byte)Alphabet[idx];
        }
    }

    public static double Distance(double lon1, double lat1, double lon2, double lat2)
    {
        double lat1r = DegRad(lat1), lon1r = DegRad(lon1), lat2r = DegRad(lat2), lon2r = DegRad(lon2);
        double u = Math.Sin((lat2r - lat1r) / 2);
        double v = Math.Sin((lon2r - lon1r) / 2);
        return 2.0 * EarthRadius * Math.Asin(Math.Sqrt(u * u + Math.Cos(lat1r) * Math.Cos(lat2r) * v * v));
    }

    public static double LatDistance(double lat1, double lat2) => EarthRadius * Math.Abs(DegRad(lat2) - DegRad(lat1));

    /// <summary>Cell step whose size roughly covers the radius (coarser near the poles).</summary>
    public static int EstimateSteps(double rangeMeters, double lat)
    {
        if (rangeMeters == 0) return 26;
        int step = 1;
        while (rangeMeters < MercatorMax) { rangeMeters *= 2; step++; }
        step -= 2;
        if (lat > 66 || lat < -66)
        {
            step--;
            if (lat > 80 || lat < -80) step--;
        }
        return Math.Clamp(step, 1, 26);
    }

    public static void MoveX(ref GeoHashBits h, int d)
    {
        if (d == 0) return;
        ulong x = h.Bits & 0xaaaaaaaaaaaaaaaaUL, y = h.Bits & 0x5555555555555555UL;
        ulong zz = 0x5555555555555555UL >> (64 - h.Step * 2);
        if (d > 0) x += zz + 1;
        else { x |= zz; x -= zz + 1; }
        x &= 0xaaaaaaaaaaaaaaaaUL >> (64 - h.Step * 2);
        h.Bits = x | y;
    }

    public static void MoveY(ref GeoHashBits h, int d)
    {
        if (d == 0) return;
        ulong x = h.Bits & 0xaaaaaaaaaaaaaaaaUL, y = h.Bits & 0x5555555555555555UL;
        ulong zz = 0xaaaaaaaaaaaaaaaaUL >> (64 - h.Step * 2);
        if (d > 0) y += zz + 1;
        else { y |= zz; y -= zz + 1; }
        y &= 0x5555555555555555UL >> (64 - h.Step * 2);
        h.Bits = x | y;
    }

    /// <summary>C's printf("%f") (used in the invalid-pair error).</summary>
    public static string FormatF6(double v) =>
        double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" : v.ToString("F6", CultureInfo.InvariantCulture);

    /// <summary>Redis's "human" long double format: %.17Lf with trailing zeros (and a bare dot) removed.</summary>
    public static string FormatHuman(double v)
    {
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        string s = v.ToString("F17", CultureInfo.InvariantCulture);
        if (s.Contains('.'))
        {
            s = s.TrimEnd('0');
            if (s.EndsWith('.')) s = s[..^1];
        }
        if (s == "-0") s = "0";
        return s;
    }

    /// <summary>Distances are replied as "%.4f".</summary>
    public static string FormatDistance(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
}
