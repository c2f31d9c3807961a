using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>GEOSEARCH, GEOSEARCHSTORE and the legacy GEORADIUS* family: 9-cell geohash search, then exact filtering.</summary>
public static class GeoSearchCommands
{
    [Flags]
    private enum Mode { Coords = 1, Member = 2, Search = 4, SearchStore = 8, NoStore = 16 }

    private struct Shape
    {
        public bool Box;
        public double Lon, Lat, Radius, Width, Height, Conversion;
    }

    private struct Point
    {
        public double Lon, Lat, Dist, Score;
        public ZItem Item;
        public int Seq;
    }

    public static void Register(CommandTable t)
    {
        t.Add("geosearch", -7, ReadOnly, 1, 1, 1, ctx => Search(ctx, Mode.Search, 1));
        t.Add("geosearchstore", -8, Write | DenyOom, 1, 2, 1, ctx => Search(ctx, Mode.Search | Mode.SearchStore, 2));
        t.Add("georadius", -6, Write | DenyOom, 1, 1, 1, ctx => Search(ctx, Mode.Coords, 1));
        t.Add("georadius_ro", -6, ReadOnly, 1, 1, 1, ctx => Search(ctx, Mode.Coords | Mode.NoStore, 1));
        t.Add("georadiusbymember", -5, Write | DenyOom, 1, 1, 1, ctx => Search(ctx, Mode.Member, 1));
        t.Add("georadiusbymember_ro", -5, ReadOnly, 1, 1, 1, ctx => Search(ctx, Mode.Member | Mode.NoStore, 1));
    }

    private static bool MemberLonLat(RedisSortedSet z, ReadOnlySpan<byte> member, ref Shape shape)
    {
        if (!z.TryGetScore(member, out double score)) return false;
        (shape.Lon, shape.Lat) = GeoHash.DecodeScore(score);
        return true;
    }

    private static bool RadiusOrReply(CommandContext ctx, int i, ref Shape shape)
    {
        if (!RespNumbersTry(ctx, i, "ERR need numeric radius", out shape.Radius)) return false;
        if (shape.Radius < 0) { ctx.Reply.WriteError("ERR radius cannot be negative"); return false; }
        shape.Conversion = GeoCommands.UnitOrReply(ctx, i + 1);
        shape.Box = false;
        return shape.Conversion >= 0;
    }

    private static bool BoxOrReply(CommandContext ctx, int i, ref Shape shape)
    {
        if (!RespNumbersTry(ctx, i, "ERR need numeric width", out shape.Width)) return false;
        if (!RespNumbersTry(ctx, i + 1, "ERR need numeric height", out shape.Height)) return false;
        if (shape.Height < 0 || shape.Width < 0) { ctx.Reply.WriteError("ERR height or width cannot be negative"); return false; }
        shape.Conversion = GeoCommands.UnitOrReply(ctx, i + 2);
        shape.Box = true;
        return shape.Conversion >= 0;
    }

    private static bool RespNumbersTry(CommandContext ctx, int i, string error, out double v)
        => GeoCommands.DoubleOrReply(ctx, i, error, out v);

    private static void Search(CommandContext ctx, Mode mode, int srcIndex)
    {
        if (!ctx.TryLookup<RedisSortedSet>(ctx.Arg(srcIndex), out var z)) return;
        var shape = new Shape();
        int baseArgs;
        if ((mode & Mode.Coords) != 0)
        {
            baseArgs = 6;
            if (!GeoCommands.LonLatOrReply(ctx, 2, out shape.Lon, out shape.Lat)) return;
            if (!RadiusOrReply(ctx, 4, ref shape)) return;
        }
        else if ((mode & Mode.Member) != 0 && z is null) baseArgs = 5; // parse the options only, to pick the reply
        else if ((mode & Mode.Member) != 0)
        {
            baseArgs = 5;
            if (!MemberLonLat(z!, ctx.Arg(2), ref shape)) { ctx.Reply.WriteError(GeoCommands.BadMember); return; }
            if (!RadiusOrReply(ctx, 3, ref shape)) return;
        }
        else baseArgs = (mode & Mode.SearchStore) != 0 ? 3 : 2;

        bool withDist = false, withHash = false, withCoord = false, any = false, storeDist = false;
        bool fromMember = false, fromLoc = false, byRadius = false, byBox = false;
        int sort = 0; // 0 none, 1 asc, 2 desc
        long count = 0;
        int storeIndex = (mode & Mode.SearchStore) != 0 ? 1 : -1;
        bool search = (mode & Mode.Search) != 0;
        bool canStore = (mode & Mode.NoStore) == 0 && !search;
        int remaining = ctx.Count - baseArgs;
        for (int j = 0; j < remaining; j++)
        {
            int a = baseArgs + j;
            if (ctx.ArgIs(a, "withdist"u8)) withDist = true;
            else if (ctx.ArgIs(a, "withhash"u8)) withHash = true;
            else if (ctx.ArgIs(a, "withcoord"u8)) withCoord = true;
            else if (ctx.ArgIs(a, "any"u8)) any = true;
            else if (ctx.ArgIs(a, "asc"u8)) sort = 1;
            else if (ctx.ArgIs(a, "desc"u8)) sort = 2;
            else if (ctx.ArgIs(a, "count"u8) && j + 1 < remaining)
            {
                if (!ctx.GetInt64OrReply(a + 1, out count)) return;
                if (count <= 0) { ctx.Reply.WriteError("ERR COUNT must be > 0"); return; }
                j++;
            }
            else if (ctx.ArgIs(a, "store"u8) && j + 1 < remaining && canStore) { storeIndex = a + 1; storeDist = false; j++; }
            else if (ctx.ArgIs(a, "storedist"u8) && j + 1 < remaining && canStore) { storeIndex = a + 1; storeDist = true; j++; }
            else if (ctx.ArgIs(a, "storedist"u8) && (mode & Mode.SearchStore) != 0) storeDist = true;
            else if (ctx.ArgIs(a, "frommember"u8) && j + 1 < remaining && search && !fromLoc)
            {
                if (z is not null && !MemberLonLat(z, ctx.Arg(a + 1), ref shape)) { ctx.Reply.WriteError(GeoCommands.BadMember); return; }
                fromMember = true; j++;
            }
            else if (ctx.ArgIs(a, "fromlonlat"u8) && j + 2 < remaining && search && !fromMember)
            {
                if (!GeoCommands.LonLatOrReply(ctx, a + 1, out shape.Lon, out shape.Lat)) return;
                fromLoc = true; j += 2;
            }
            else if (ctx.ArgIs(a, "byradius"u8) && j + 2 < remaining && search && !byBox)
            {
                if (!RadiusOrReply(ctx, a + 1, ref shape)) return;
                byRadius = true; j += 2;
            }
            else if (ctx.ArgIs(a, "bybox"u8) && j + 3 < remaining && search && !byRadius)
            {
                if (!BoxOrReply(ctx, a + 1, ref shape)) return;
                byBox = true; j += 3;
            }
            else { ctx.SyntaxError(); return; }
        }

        bool store = storeIndex >= 0;
        if (store && (withDist || withHash || withCoord))
        {
            ctx.Reply.WriteError((mode & Mode.SearchStore) != 0
                ? "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
                : "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
            return;
        }
        string name = search ? ctx.ArgString(0) : "";
        if (search && !(fromMember || fromLoc))
        {
            ctx.Reply.WriteError($"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}");
            return;
        }
        if (search && !(byRadius || byBox))
        {
            ctx.Reply.WriteError($"ERR exactly one of BYRADIUS and BYBOX can be specified for {name}");
            return;
        }
        if (any && count == 0) { ctx.Reply.WriteError("ERR the ANY argument requires COUNT argument"); return; }

        if (z is null)
        {
            if (store)
            {
                if (ctx.Db.Delete(ctx.Arg(storeIndex)))
                {
                    Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", ctx.Arg(storeIndex));
                    ctx.Server.Dirty++;
                }
                ctx.Reply.WriteInteger(0);
            }
            else ctx.Reply.WriteArrayHeader(0);
            return;
        }
        if (count != 0 && sort == 0 && !any) sort = 1;

        var points = new List<Point>();
        Collect(z, in shape, any ? count : 0, points);
        if (points.Count == 0 && !store) { ctx.Reply.WriteArrayHeader(0); return; }
        int returned = count == 0 || points.Count < count ? points.Count : (int)count;
        if (sort != 0)
        {
            int sign = sort == 2 ? -1 : 1;
            if (returned == points.Count)
                // glibc's qsort is a merge sort here: stable, so ties keep collection order.
                points.Sort((p, q) => { int c = sign * CmpDist(p, q); return c != 0 ? c : p.Seq.CompareTo(q.Seq); });
            else
                PartialSort(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(points), 0, points.Count, sign, 0, returned - 1);
        }

        if (store)
        {
            var items = new List<(byte[] Member, double Score)>(returned);
            for (int k = 0; k < returned; k++)
                items.Add((points[k].Item.CopyMember(), storeDist ? points[k].Dist / shape.Conversion : points[k].Score));
            items.Sort((p, q) => ZSkipList.Compare(p.Score, p.Member, q.Score, q.Member));
            var dst = ctx.Arg(storeIndex);
            if (returned > 0)
            {
                ctx.Db.Set(dst, RedisSortedSet.FromSorted(items, SortedSetCommands.MaxEntries(ctx), SortedSetCommands.MaxValue(ctx)).Stored);
                Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.ZSet, ctx.Command.Name == "geosearchstore" ? "geosearchstore" : "georadiusstore", dst);
                ctx.Server.Dirty += returned;
            }
            else if (ctx.Db.Delete(dst))
            {
                Notifications.KeyspaceEvents.Notify(ctx, Notifications.KeyspaceEvents.Generic, "del", dst);
                ctx.Server.Dirty++;
            }
            ctx.Reply.WriteInteger(returned);
            return;
        }

        var w = ctx.Reply;
        int options = (withDist ? 1 : 0) + (withHash ? 1 : 0) + (withCoord ? 1 : 0);
        w.WriteArrayHeader(returned);
        for (int k = 0; k < returned; k++)
        {
            var p = points[k];
            if (options > 0) w.WriteArrayHeader(options + 1);
            w.WriteBulk(p.Item.Member);
            if (options == 0) continue;
            if (withDist) GeoCommands.WriteDistance(w, p.Dist / shape.Conversion);
            if (withHash) w.WriteInteger((long)p.Score);
            if (withCoord)
            {
                w.WriteArrayHeader(2);
                GeoCommands.WriteCoord(w, p.Lon);
                GeoCommands.WriteCoord(w, p.Lat);
            }
        }
    }

    /// <summary>Finds the search cells (center + 8 neighbours, useless ones dropped) and collects matching members.</summary>
    private static void Collect(RedisSortedSet z, in Shape shape, long limit, List<Point> output)
    {
        double radiusM = shape.Box
            ? Math.Sqrt((shape.Width / 2) * (shape.Width / 2) + (shape.Height / 2) * (shape.Height / 2)) * shape.Conversion
            : shape.Radius * shape.Conversion;
        // Bounding box of the shape.
        double h = shape.Conversion * (shape.Box ? shape.Height / 2 : shape.Radius);
        double wd = shape.Conversion * (shape.Box ? shape.Width / 2 : shape.Radius);
        double latDelta = GeoHash.RadDeg(h / GeoHash.EarthRadius);
        double lonDeltaTop = GeoHash.RadDeg(wd / GeoHash.EarthRadius / Math.Cos(GeoHash.DegRad(shape.Lat + latDelta)));
        double lonDeltaBottom = GeoHash.RadDeg(wd / GeoHash.EarthRadius / Math.Cos(GeoHash.DegRad(shape.Lat - latDelta)));
        bool south = shape.Lat < 0;
        double minLon = south ? shape.Lon - lonDeltaBottom : shape.Lon - lonDeltaTop;
        double maxLon = south ? shape.Lon + lonDeltaBottom : shape.Lon + lonDeltaTop;
        double minLat = shape.Lat - latDelta, maxLat = shape.Lat + latDelta;

        int steps = GeoHash.EstimateSteps(radiusM, shape.Lat);
        GeoHash.EncodeWgs84(shape.Lon, shape.Lat, steps, out var hash);
        Span<GeoHashBits> n = stackalloc GeoHashBits[9];
        Neighbours(hash, n);
        var area = GeoHash.Decode(hash);
        bool decrease = GeoHash.Decode(n[1]).LatMax < maxLat || GeoHash.Decode(n[2]).LatMin > minLat
                        || GeoHash.Decode(n[3]).LonMax < maxLon || GeoHash.Decode(n[4]).LonMin > minLon;
        if (steps > 1 && decrease)
        {
            steps--;
            GeoHash.EncodeWgs84(shape.Lon, shape.Lat, steps, out hash);
            Neighbours(hash, n);
            area = GeoHash.Decode(hash);
        }
        if (steps >= 2)
        {
            // n: 0 center, 1 north, 2 south, 3 east, 4 west, 5 NE, 6 NW, 7 SE, 8 SW
            if (area.LatMin < minLat) { n[2] = default; n[8] = default; n[7] = default; }
            if (area.LatMax > maxLat) { n[1] = default; n[5] = default; n[6] = default; }
            if (area.LonMin < minLon) { n[4] = default; n[8] = default; n[6] = default; }
            if (area.LonMax > maxLon) { n[3] = default; n[7] = default; n[5] = default; }
        }

        int last = 0;
        var items = new List<ZItem>();
        for (int i = 0; i < 9; i++)
        {
            if (n[i].IsZero) continue;
            // Huge radii can make adjacent cells identical; Redis skips a repeat of the last processed one (never the center).
            if (last != 0 && n[i].Bits == n[last].Bits && n[i].Step == n[last].Step) continue;
            if (output.Count > 0 && limit > 0 && output.Count >= limit) break;
            int shift = 52 - n[i].Step * 2;
            double min = n[i].Bits << shift, max = (n[i].Bits + 1) << shift;
            var (lo, hi) = z.ScoreSpan(new ZScoreRange(min, false, max, true));
            items.Clear();
            z.Collect(lo, hi - lo, false, items);
            foreach (var it in items)
            {
                var (lon, lat) = GeoHash.DecodeScore(it.Score);
                if (!InShape(in shape, lon, lat, out double dist)) continue;
                output.Add(new Point { Lon = lon, Lat = lat, Dist = dist, Score = it.Score, Item = it, Seq = output.Count });
                if (limit > 0 && output.Count >= limit) break;
            }
            last = i;
        }
    }

    private static int CmpDist(in Point p, in Point q) => p.Dist > q.Dist ? 1 : p.Dist == q.Dist ? 0 : -1;

    /// <summary>
    /// Redis orders a COUNT-limited result with a partial Bentley-McIlroy quicksort that only recurses into
    /// partitions overlapping ranks [lr, rr]; reproduced so ties come out in the same order.
    /// </summary>
    private static void PartialSort(Span<Point> v, int a, int n, int sign, int lr, int rr)
    {
        while (true)
        {
            bool swapped = false;
            if (n < 7) { Insertion(v, a, n, sign); return; }
            int pm = a + n / 2;
            if (n > 7)
            {
                int pl = a, pn = a + n - 1;
                if (n > 40)
                {
                    int d = n / 8;
                    pl = Med3(v, pl, pl + d, pl + 2 * d, sign);
                    pm = Med3(v, pm - d, pm, pm + d, sign);
                    pn = Med3(v, pn - 2 * d, pn - d, pn, sign);
                }
                pm = Med3(v, pl, pm, pn, sign);
            }
            Swap(v, a, pm);
            int pa = a + 1, pb = a + 1, pc = a + n - 1, pd = a + n - 1;
            while (true)
            {
                int r;
                while (pb <= pc && (r = sign * CmpDist(v[pb], v[a])) <= 0)
                {
                    if (r == 0) { swapped = true; Swap(v, pa, pb); pa++; }
                    pb++;
                }
                while (pb <= pc && (r = sign * CmpDist(v[pc], v[a])) >= 0)
                {
                    if (r == 0) { swapped = true; Swap(v, pc, pd); pd--; }
                    pc--;
                }
                if (pb > pc) break;
                Swap(v, pb, pc);
                swapped = true;
                pb++; pc--;
            }
            if (!swapped) { Insertion(v, a, n, sign); return; }
            int end = a + n;
            int s = Math.Min(pa - a, pb - pa);
            VecSwap(v, a, pb - s, s);
            s = Math.Min(pd - pc, end - pd - 1);
            VecSwap(v, pb, end - s, s);
            if ((s = pb - pa) > 1)
            {
                int l = a, rgt = a + s - 1;
                if (!((lr < l && rr < l) || (lr > rgt && rr > rgt))) PartialSort(v, a, s, sign, lr, rr);
            }
            if ((s = pd - pc) > 1)
            {
                a = end - s; n = s;
                int l = a, rgt = a + s - 1;
                if (!((lr < l && rr < l) || (lr > rgt && rr > rgt))) continue;
            }
            return;
        }
    }

    private static void Insertion(Span<Point> v, int a, int n, int sign)
    {
        for (int m = a + 1; m < a + n; m++)
            for (int l = m; l > a && sign * CmpDist(v[l - 1], v[l]) > 0; l--) Swap(v, l, l - 1);
    }

    private static int Med3(Span<Point> v, int a, int b, int c, int sign)
    {
        if (sign * CmpDist(v[a], v[b]) < 0) return sign * CmpDist(v[b], v[c]) < 0 ? b : sign * CmpDist(v[a], v[c]) < 0 ? c : a;
        return sign * CmpDist(v[b], v[c]) > 0 ? b : sign * CmpDist(v[a], v[c]) < 0 ? a : c;
    }

    private static void Swap(Span<Point> v, int i, int j) => (v[i], v[j]) = (v[j], v[i]);

    private static void VecSwap(Span<Point> v, int i, int j, int n)
    {
        for (int k = 0; k < n; k++) Swap(v, i + k, j + k);
    }

    private static bool InShape(in Shape s, double lon, double lat, out double dist)
    {
        if (!s.Box)
        {
            dist = GeoHash.Distance(s.Lon, s.Lat, lon, lat);
            return dist <= s.Radius * s.Conversion;
        }
        dist = 0;
        if (GeoHash.LatDistance(lat, s.Lat) > s.Height * s.Conversion / 2) return false;
        if (GeoHash.Distance(lon, lat, s.Lon, lat) > s.Width * s.Conversion / 2) return false;
        dist = GeoHash.Distance(s.Lon, s.Lat, lon, lat);
        return true;
    }

    private static void Neighbours(GeoHashBits h, Span<GeoHashBits> n)
    {
        for (int i = 0; i < 9; i++) n[i] = h;
        GeoHash.MoveY(ref n[1], 1);
        GeoHash.MoveY(ref n[2], -1);
        GeoHash.MoveX(ref n[3], 1);
        GeoHash.MoveX(ref n[4], -1);
        GeoHash.MoveX(ref n[5], 1); GeoHash.MoveY(ref n[5], 1);
        GeoHash.MoveX(ref n[6], -1); GeoHash.MoveY(ref n[6], 1);
        GeoHash.MoveX(ref n[7], 1); GeoHash.MoveY(ref n[7], -1);
        GeoHash.MoveX(ref n[8], -1); GeoHash.MoveY(ref n[8], -1);
    }
}
