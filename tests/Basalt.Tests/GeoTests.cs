using System.Globalization;
using System.Text;
using Basalt.Server.Types;
using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>Geo behaviour beyond the corpus: random point clouds compared with real Redis, encoding unit checks.</summary>
public class GeoTests : IClassFixture<DifferentialFixture>
{
    private readonly DifferentialFixture _f;
    public GeoTests(DifferentialFixture f) => _f = f;

    private static string F(double d) => d.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Sends the same command to both servers and returns the mismatch description, or null.</summary>
    private static string? Compare(RespConnection b, RespConnection r, object[] args)
    {
        string rb = Encoding.Latin1.GetString(b.CallRaw(args)), rr = Encoding.Latin1.GetString(r.CallRaw(args));
        return rb == rr ? null : $"{string.Join(' ', args)}\n  basalt: {rb}\n  redis:  {rr}";
    }

    /// <summary>Random clouds around a few centers (incl. poles and antimeridian); every query compared byte for byte.</summary>
    [Fact]
    public void Random_point_clouds_search_like_redis()
    {
        using var b = _f.Basalt.Connect();
        using var r = _f.Redis.Connect();
        var rnd = new Random(4242);
        var centers = new (double Lon, double Lat)[] { (13.4, 38.1), (0, 0), (179.5, 10), (-179.8, -20), (20, 84.5), (-60, -84.9), (-73.9, 40.7) };
        var mismatches = new List<string>();
        int ci = 0;
        foreach (var (clon, clat) in centers)
        {
            string key = $"geo:rnd:{ci++}";
            var add = new List<object> { "GEOADD", key };
            var names = new List<string>();
            for (int i = 0; i < 150; i++)
            {
                double spread = i < 100 ? 2 : 20;
                double lon = clon + (rnd.NextDouble() - 0.5) * spread;
                double lat = Math.Clamp(clat + (rnd.NextDouble() - 0.5) * spread / 2, -85.05, 85.05);
                if (lon > 180) lon -= 360;
                if (lon < -180) lon += 360;
                add.AddRange([F(lon), F(lat), $"p{i}"]);
                names.Add($"p{i}");
            }
            var cmds = new List<object[]> { add.ToArray() };
            cmds.Add(["GEOPOS", key, .. names.Take(40)]);
            cmds.Add(["GEOHASH", key, .. names.Take(40)]);
            for (int i = 0; i < 10; i++) cmds.Add(["GEODIST", key, names[rnd.Next(150)], names[rnd.Next(150)], "km"]);
            foreach (var radius in new[] { "0.5", "10", "75", "300", "2500" })
            {
                string from = names[rnd.Next(150)];
                cmds.Add(["GEOSEARCH", key, "FROMMEMBER", from, "BYRADIUS", radius, "km", "ASC", "WITHDIST", "WITHCOORD", "WITHHASH"]);
                cmds.Add(["GEOSEARCH", key, "FROMMEMBER", from, "BYRADIUS", radius, "km", "DESC", "COUNT", "7"]);
                cmds.Add(["GEOSEARCH", key, "FROMLONLAT", F(clon), F(clat), "BYRADIUS", radius, "km"]); // unsorted: cell order
                cmds.Add(["GEOSEARCH", key, "FROMLONLAT", F(clon), F(clat), "BYBOX", radius, "40", "km", "ASC", "WITHDIST"]);
                cmds.Add(["GEOSEARCH", key, "FROMLONLAT", F(clon), F(clat), "BYBOX", "60", radius, "mi", "DESC", "WITHCOORD"]);
                cmds.Add(["GEOSEARCH", key, "FROMMEMBER", from, "BYRADIUS", radius, "km", "COUNT", "3", "ANY"]);
                cmds.Add(["GEORADIUS", key, F(clon), F(clat), radius, "km", "WITHDIST", "ASC"]);
                cmds.Add(["GEORADIUSBYMEMBER_RO", key, from, radius, "km", "WITHHASH"]);
                cmds.Add(["GEOSEARCHSTORE", key + ":dst", key, "FROMMEMBER", from, "BYRADIUS", radius, "km", "STOREDIST"]);
                cmds.Add(["ZRANGE", key + ":dst", "0", "-1", "WITHSCORES"]);
                cmds.Add(["GEORADIUS", key, F(clon), F(clat), radius, "km", "STORE", key + ":dst2"]);
                cmds.Add(["ZRANGE", key + ":dst2", "0", "-1", "WITHSCORES"]);
            }
            foreach (var c in cmds)
                if (Compare(b, r, c) is { } m) mismatches.Add(m);
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(10)));
    }

    [Fact]
    public void Score_encoding_matches_redis_docs_example()
    {
        // Palermo's score and hash from the Redis GEOADD/GEOHASH documentation.
        double score = GeoHash.EncodeScore(13.361389, 38.115556);
        Assert.Equal(3479099956230698d, score);
        Span<byte> h = stackalloc byte[11];
        GeoHash.StandardHash(score, h);
        Assert.Equal("sqc8b49rny0", Encoding.ASCII.GetString(h));
        var (lon, lat) = GeoHash.DecodeScore(score);
        Assert.Equal("13.36138933897018433", GeoHash.FormatHuman(lon));
        Assert.Equal("38.11555639549629859", GeoHash.FormatHuman(lat));
    }

    [Fact]
    public void Neighbour_moves_wrap_within_the_step()
    {
        var h = new GeoHashBits(0, 3);
        GeoHash.MoveX(ref h, -1); // west of the first cell wraps to the last longitude index
        var (latIdx, lonIdx) = GeoHash.Deinterleave(h.Bits);
        Assert.Equal(0u, latIdx);
        Assert.Equal(7u, lonIdx);
        GeoHash.MoveY(ref h, 1);
        (latIdx, lonIdx) = GeoHash.Deinterleave(h.Bits);
        Assert.Equal(1u, latIdx);
        Assert.Equal(7u, lonIdx);
    }

    [Fact]
    public void Geoadd_counts_dirty_and_keeps_zset_type()
    {
        using var c = _f.Basalt.Connect();
        c.Call("DEL", "geo:t");
        Assert.Equal(2, c.Call("GEOADD", "geo:t", "1", "2", "a", "3", "4", "b").Integer);
        Assert.Equal("zset", c.Call("TYPE", "geo:t").Text);
        Assert.Equal("listpack", c.Call("OBJECT", "ENCODING", "geo:t").Text);
        Assert.Equal(1, c.Call("GEOADD", "geo:t", "CH", "1", "2", "a", "3", "4.5", "b").Integer);
    }
}
