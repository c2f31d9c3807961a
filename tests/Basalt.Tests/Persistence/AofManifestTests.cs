using Basalt.Server.Persistence.Aof;

namespace Basalt.Tests.Persistence;

public class AofManifestTests
{
    [Fact]
    public void Parses_and_writes_base_history_incr_in_redis_order()
    {
        var m = AofManifest.Parse("# comment\nfile a.2.incr.aof seq 2 type i\nfile a.1.base.rdb seq 1 type b\nfile a.1.incr.aof seq 1 type h\n");
        Assert.Equal("file a.1.base.rdb seq 1 type b\nfile a.1.incr.aof seq 1 type h\nfile a.2.incr.aof seq 2 type i\n", m.ToText());
        Assert.Equal(2, m.IncrSeq);
        Assert.Equal(1, m.BaseSeq);
    }

    [Fact]
    public void Rewrite_bookkeeping_moves_old_files_to_history()
    {
        var m = AofManifest.Parse("file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
        Assert.Equal("appendonly.aof.2.incr.aof", m.NewIncrName("appendonly.aof"));
        Assert.Equal("appendonly.aof.2.base.aof", m.NewBaseName("appendonly.aof", rdb: false));
        m.MarkRewrittenIncrAsHistory();
        Assert.Equal("file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.base.rdb seq 1 type h\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n", m.ToText());
    }

    [Theory]
    [InlineData("", "Found an empty AOF manifest")]
    [InlineData("file x seq 1\n", "Invalid AOF manifest file format")]
    [InlineData("file x seq 1 type b\nfile y seq 2 type b\n", "Found duplicate base file information")]
    [InlineData("file x seq 2 type i\nfile y seq 1 type i\n", "Found a non-monotonic sequence number")]
    public void Invalid_manifests_are_rejected(string text, string error)
    {
        var ex = Assert.Throws<AofFatalException>(() => AofManifest.Parse(text));
        Assert.Equal(error, ex.Message);
    }

    [Fact]
    public void Names_with_spaces_are_quoted_and_read_back()
    {
        var m = AofManifest.Parse("file \"my file.aof\" seq 1 type i\n");
        Assert.Equal("my file.aof", m.Incr[0].Name);
        Assert.Equal("file \"my file.aof\" seq 1 type i\n", m.ToText());
    }
}
