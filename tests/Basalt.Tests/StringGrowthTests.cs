using Basalt.Tests.Support;

namespace Basalt.Tests;

/// <summary>
/// Strings grown by APPEND and SETRANGE are kept with spare room (amortized growth, as Redis's sds); every other
/// path must still see exactly the value. Each test uses its own server because DEBUG RELOAD touches the whole dataset.
/// </summary>
public class StringGrowthTests
{
    [Fact]
    public void Many_appends_build_the_exact_value_and_survive_a_reload()
    {
        using var s = ServerProcess.StartBasalt("--enable-debug-command", "yes");
        using var c = s.Connect();
        var expected = new System.Text.StringBuilder();
        for (int i = 0; i < 5000; i++)
        {
            string chunk = "c" + i + ";";
            expected.Append(chunk);
            Assert.Equal(expected.Length, c.Call("APPEND", "log", chunk).Integer);
        }
        Assert.Equal(expected.ToString(), c.Call("GET", "log").Text);
        c.Call("APPEND", "log", "end");
        expected.Append("end");
        Assert.Equal("OK", c.Call("DEBUG", "RELOAD").Text);
        Assert.Equal(expected.ToString(), c.Call("GET", "log").Text);
        Assert.Equal("string", c.Call("TYPE", "log").Text);
    }

    [Fact]
    public void A_string_ending_past_512_mb_is_saved_and_loaded_like_redis()
    {
        // BITFIELD may write the last bits of a u8 at the last valid bit offset: the string is 512 MB + 1 byte,
        // which Redis saves and loads; the RDB loader used to refuse it.
        using var s = ServerProcess.StartBasalt("--enable-debug-command", "yes");
        using var c = new RespConnection("127.0.0.1", s.Port, timeoutMs: 120_000); // 512 MB saved and loaded, under a busy suite
        c.Call("BITFIELD", "big", "SET", "u8", "4294967289", "255");
        Assert.Equal(536870913, c.Call("STRLEN", "big").Integer);
        Assert.Equal("OK", c.Call("DEBUG", "RELOAD").Text);
        Assert.Equal(536870913, c.Call("STRLEN", "big").Integer);
        Assert.Equal(8, c.Call("BITCOUNT", "big").Integer);
    }
}
