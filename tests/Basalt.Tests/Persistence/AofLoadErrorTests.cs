using System.Text;
using Basalt.Tests.Support;

namespace Basalt.Tests.Persistence;

/// <summary>Damaged AOF files: truncated tails (cut or refused per aof-load-truncated), incomplete MULTI, corruption.</summary>
public class AofLoadErrorTests
{
    private const string Manifest = "file appendonly.aof.1.incr.aof seq 1 type i\n";
    private static readonly string Good = AofDir.Cmd("SELECT", "0") + AofDir.Cmd("SET", "a", "1") + AofDir.Cmd("SET", "b", "2");

    private static AofDir Prepare(string incr)
    {
        var d = new AofDir();
        d.Write("appendonly.aof.manifest", Manifest);
        d.Write("appendonly.aof.1.incr.aof", incr);
        return d;
    }

    [Fact]
    public void Truncated_tail_is_cut_to_the_last_whole_command_when_allowed()
    {
        string partial = AofDir.Cmd("SET", "c", "3")[..12];
        using var dir = Prepare(Good + partial);
        var s = dir.StartBasalt();
        try
        {
            using var c = s.Connect();
            Assert.Equal("2", c.Call("GET", "b").Text);
            Assert.True(c.Call("EXISTS", "c").Integer == 0);
            Assert.Equal(Good.Length, new FileInfo(dir.File("appendonly.aof.1.incr.aof")).Length);
            AofDir.WaitLog(s, "!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!");
            AofDir.WaitLog(s, $"!!! Truncating the AOF appendonly.aof.1.incr.aof at offset {Good.Length} !!!");
            AofDir.WaitLog(s, "AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled");
            // Writes continue after the cut, so the file stays well formed.
            c.Call("SET", "d", "4");
        }
        finally { AofDir.Shutdown(s); }
        var s2 = dir.StartBasalt();
        try { using var c = s2.Connect(); Assert.Equal("4", c.Call("GET", "d").Text); }
        finally { s2.Dispose(); }
    }

    [Fact]
    public void Truncated_tail_is_refused_when_aof_load_truncated_is_no()
    {
        const string tail = "*3\r\n$3\r\nSET\r\n$1";
        using var dir = Prepare(Good + tail);
        var (exit, log) = dir.RunBasaltExpectingFailure("--aof-load-truncated", "no");
        Assert.NotEqual(0, exit);
        Assert.Contains("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.", log);
        Assert.Equal(Good.Length + tail.Length, new FileInfo(dir.File("appendonly.aof.1.incr.aof")).Length);
    }

    [Fact]
    public void Multi_without_exec_at_the_end_is_reverted_like_redis()
    {
        string content = Good + AofDir.Cmd("MULTI") + AofDir.Cmd("SET", "x", "1") + AofDir.Cmd("INCR", "b");
        using var bd = Prepare(content);
        using var rd = Prepare(content);
        var b = bd.StartBasalt();
        var r = rd.StartRedis();
        try
        {
            Assert.Equal(AofDir.Digest(r), AofDir.Digest(b));
            using var c = b.Connect();
            Assert.Equal("2", c.Call("GET", "b").Text);
            Assert.Equal(0, c.Call("EXISTS", "x").Integer);
            Assert.Equal(new FileInfo(rd.File("appendonly.aof.1.incr.aof")).Length, new FileInfo(bd.File("appendonly.aof.1.incr.aof")).Length);
            Assert.Equal(Good.Length, new FileInfo(bd.File("appendonly.aof.1.incr.aof")).Length);
            AofDir.WaitLog(b, "Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof");
        }
        finally
        {
            b.Dispose();
            r.Dispose();
        }
    }

    [Fact]
    public void Corruption_in_the_middle_refuses_to_start_naming_file_and_offset()
    {
        string bad = AofDir.Cmd("SET", "c", "3").Replace("$1\r\nc", "x1\r\nc");
        using var dir = Prepare(Good + bad + AofDir.Cmd("SET", "d", "4"));
        var (exit, log) = dir.RunBasaltExpectingFailure();
        Assert.NotEqual(0, exit);
        Assert.Contains("Bad file format reading the append only file appendonly.aof.1.incr.aof: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", log);
        // The damaged argument header starts after "*3\r\n$3\r\nSET\r\n" of the fourth command.
        Assert.Contains($"offset {Good.Length + 13}", log);
        // The file is left as it was.
        Assert.Equal(Encoding.Latin1.GetBytes(Good + bad + AofDir.Cmd("SET", "d", "4")), dir.Read("appendonly.aof.1.incr.aof"));
    }

    [Fact]
    public void Unknown_command_refuses_to_start()
    {
        using var dir = Prepare(Good + AofDir.Cmd("NOSUCHCMD", "x"));
        var (exit, log) = dir.RunBasaltExpectingFailure();
        Assert.NotEqual(0, exit);
        Assert.Contains("Unknown command 'NOSUCHCMD' reading the append only file appendonly.aof.1.incr.aof", log);
    }

    [Fact]
    public void Truncation_in_a_file_that_is_not_the_last_one_is_fatal()
    {
        using var dir = new AofDir();
        dir.Write("appendonly.aof.manifest", "file appendonly.aof.1.base.aof seq 1 type b\n" + Manifest);
        dir.Write("appendonly.aof.1.base.aof", Good + "*2\r\n$3");
        dir.Write("appendonly.aof.1.incr.aof", AofDir.Cmd("SET", "z", "1"));
        var (exit, log) = dir.RunBasaltExpectingFailure();
        Assert.NotEqual(0, exit);
        Assert.Contains("not the last file", log);
    }

    [Fact]
    public void Invalid_manifest_refuses_to_start()
    {
        using var dir = new AofDir();
        dir.Write("appendonly.aof.manifest", "file appendonly.aof.1.incr.aof seq 1\n");
        var (exit, log) = dir.RunBasaltExpectingFailure();
        Assert.NotEqual(0, exit);
        Assert.Contains("Invalid AOF manifest file format", log);
    }
}
