using System.Text;
using Basalt.Protocol;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>Geo commands over sorted sets: GEOADD, GEODIST, GEOHASH, GEOPOS. Searches live in GeoSearchCommands.</summary>
public static class GeoCommands
{
    internal const string BadUnit = "ERR unsupported unit provided. please use M, KM, FT, MI";
    internal const string BadMember = "ERR could not decode requested zset member";

    public static void Register(CommandTable t)
    {
        t.Add("geoadd", -5, Write | DenyOom, 1, 1, 1, GeoAdd);
        t.Add("geodist", -4, ReadOnly, 1, 1, 1, GeoDist);
        t.Add("geohash", -2, ReadOnly, 1, 1, 1, GeoHashCmd);
        t.Add("geopos", -2, ReadOnly, 1, 1, 1, GeoPos);
        GeoSearchCommands.Register(t);
    }

    /// <summary>Meters per unit, or -1 (after replying the error) for an unknown unit.</summary>
    internal static double UnitOrReply(CommandContext ctx, int i)
    {
        if (ctx.ArgIs(i, "m"u8)) return 1;
        if (ctx.ArgIs(i, "km"u8)) return 1000;
        if (ctx.ArgIs(i, "ft"u8)) return 0.3048;
        if (ctx.ArgIs(i, "mi"u8)) return 1609.34;
        ctx.Reply.WriteError(BadUnit);
        return -1;
    }

    /// <summary>Parses a longitude,latitude pair at i, i+1 and checks the geo limits.</summary>
    internal static bool LonLatOrReply(CommandContext ctx, int i, out double lon, out double lat)
    {
        lat = 0;
        if (!DoubleOrReply(ctx, i, "ERR value is not a valid float", out lon) || !DoubleOrReply(ctx, i + 1, "ERR value is not a valid float", out lat)) return false;
        if (GeoHash.ValidLonLat(lon, lat)) return true;
        ctx.Reply.WriteError($"ERR invalid longitude,latitude pair {GeoHash.FormatF6(lon)},{GeoHash.FormatF6(lat)}");
        return false;
    }

    /// <summary>Coordinates and radii parse as Redis's getDoubleFromObject, like scores (hex floats included, ERANGE refused).</summary>
    internal static bool TryParseDouble(ReadOnlySpan<byte> s, out double v) => Types.ZNumbers.TryParseScore(s, out v);

    internal static bool DoubleOrReply(CommandContext ctx, int i, string error, out double v)
    {
        if (TryParseDouble(ctx.Arg(i), out v)) return true;
        ctx.Reply.WriteError(error);
        return false;
    }

    /// <summary>A coordinate as Redis replies it: human long double, bulk in RESP2 and ',' double in RESP3.</summary>
    internal static void WriteCoord(RespWriter w, double v)
    {
        string s = GeoHash.FormatHuman(v);
        if (w.IsResp3) { w.WriteRaw(","); w.WriteRaw(s); w.WriteRaw("\r\n"u8); }
        else w.WriteBulk(s);
    }

    internal static void WriteDistance(RespWriter w, double v) => w.WriteBulk(GeoHash.FormatDistance(v));

    private static void GeoAdd(CommandContext ctx)
    {
        bool nx = false, xx = false, ch = false;
        int i = 2;
        for (; i < ctx.Count; i++)
        {
            if (ctx.ArgIs(i, "nx"u8)) nx = true;
            else if (ctx.ArgIs(i, "xx"u8)) xx = true;
            else if (ctx.ArgIs(i, "ch"u8)) ch = true;
            else break;
        }
        int elements = ctx.Count - i;
        if (elements % 3 != 0 || (nx && xx) || elements == 0) { ctx.SyntaxError(); return; }
        int n = elements / 3;
        var scores = new double[n];
        for (int p = 0; p < n; p++)
        {
            if (!LonLatOrReply(ctx, i + p * 3, out double lon, out double lat)) return;
            scores[p] = GeoHash.EncodeScore(lon, lat);
        }
        var key = ctx.Arg(1);
        if (!ctx.TryLookupForWrite<RedisSortedSet>(key, out var z)) return;
        bool created = false;
        if (z is null)
        {
            if (xx) { ctx.Reply.WriteInteger(0); return; }
            z = new RedisSortedSet();
            created = true;
        }
        var flags = nx ? ZAddFlags.NX : xx ? ZAddFlags.XX : ZAddFlags.None;
        long added = 0, updated = 0;
        long maxEntries = SortedSetCommands.MaxEntries(ctx), maxValue = SortedSetCommands.MaxValue(ctx);
        for (int p = 0; p < n; p++)
        {
            switch (z.Add(ctx.Arg(i + p * 3 + 2), scores[p], flags, maxEntries, maxValue, out _))
            {
                case ZAddOutcome.Added: added++; break;
                case ZAddOutcome.Updated: updated++; break;
            }
        }
        if (created)
        {
            if (z.Count > 0) ctx.Db.Add(ctx.ArgBytes(1), z.Stored);
        }
        else if (added + updated > 0) ctx.Db.KeyModified?.Invoke(ctx.Db, key);
        if (added + updated > 0) Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.ZSet, "zadd", key);  // GEOADD is ZADD underneath
        if (added + updated > 0 && Rewrites.Begin(ctx))
        {
            // Replicas get the ZADD underneath: options as received, each position as its integer geohash score.
            var op = ctx.Propagator.Begin(ctx.Client.DbIndex, i + 2 * n).Arg("zadd"u8);
            for (int j = 1; j < i; j++) op = op.Arg(ctx.Arg(j));
            for (int p = 0; p < n; p++) op = op.Arg((long)scores[p]).Arg(ctx.Arg(i + p * 3 + 2));
            op.End();
        }
        ctx.Server.Dirty += added + updated;
        ctx.Reply.WriteInteger(ch ? added + updated : added);
    }

    private static void GeoDist(CommandContext ctx)
    {
        double toMeter = 1;
        if (ctx.Count == 5) { toMeter = UnitOrReply(ctx, 4); if (toMeter < 0) return; }
        else if (ctx.Count > 5) { ctx.SyntaxError(); return; }
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var z)) return;
        if (z is null || !z.TryGetScore(ctx.Arg(2), out double s1) || !z.TryGetScore(ctx.Arg(3), out double s2))
        {
            ctx.Reply.WriteNull();
            return;
        }
        var (lon1, lat1) = GeoHash.DecodeScore(s1);
        var (lon2, lat2) = GeoHash.DecodeScore(s2);
        WriteDistance(ctx.Reply, GeoHash.Distance(lon1, lat1, lon2, lat2) / toMeter);
    }

    private static void GeoHashCmd(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var z)) return;
        ctx.Reply.WriteArrayHeader(ctx.Count - 2);
        Span<byte> buf = stackalloc byte[11];
        for (int i = 2; i < ctx.Count; i++)
        {
            if (z is null || !z.TryGetScore(ctx.Arg(i), out double score)) { ctx.Reply.WriteNull(); continue; }
            GeoHash.StandardHash(score, buf);
            ctx.Reply.WriteBulk(buf);
        }
    }

    private static void GeoPos(CommandContext ctx)
    {
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(1), out var z)) return;
        ctx.Reply.WriteArrayHeader(ctx.Count - 2);
        for (int i = 2; i < ctx.Count; i++)
        {
            if (z is null || !z.TryGetScore(ctx.Arg(i), out double score)) { ctx.Reply.WriteNullArray(); continue; }
            var (lon, lat) = GeoHash.DecodeScore(score);
            ctx.Reply.WriteArrayHeader(2);
            WriteCoord(ctx.Reply, lon);
            WriteCoord(ctx.Reply, lat);
        }
    }
}
