using System.Globalization;
using System.Text;
using Basalt.Protocol;
using Basalt.Server.Keyspace;
using Basalt.Server.Types;
using static Basalt.Server.Commands.CommandFlags;

namespace Basalt.Server.Commands;

/// <summary>
/// DEBUG (gated by enable-debug-command like Redis 7.0) with the subcommands tests rely on.
/// Also registers COMMAND and OBJECT, whose metadata work lives with this family.
/// </summary>
public static class DebugCommands
{
    private const string NotAllowed = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

    /// <summary>DEBUG SLEEP holds the execution lock like Redis blocks its thread; bounded so a typo cannot hang the server.</summary>
    public const double MaxSleepSeconds = 30;

    public static void Register(CommandTable t)
    {
        t.Add("debug", -2, Admin | NoScript | Loading | Stale | Protected, 0, 0, 0, Debug);
        // Registered here rather than in IntrospectionCommands (another family's file).
        CommandCommand.Register(t);
        ObjectCommand.Register(t);
    }

    private static bool Allowed(CommandContext ctx)
    {
        string mode = ctx.Server.Config.Get("enable-debug-command");
        if (mode == "yes") return true;
        if (mode != "local") return false;
        var c = ctx.Client;
        return c.Has(ClientFlags.UnixSocket) || c.Has(ClientFlags.Internal)
            || c.Address.StartsWith("127.0.0.1:", StringComparison.Ordinal) || c.Address.StartsWith("::1:", StringComparison.Ordinal)
            || c.Address.StartsWith("[::1]:", StringComparison.Ordinal);
    }

    private static void Debug(CommandContext ctx)
    {
        if (!Allowed(ctx)) { ctx.Reply.WriteError(NotAllowed); return; }
        int argc = ctx.Count;
        var w = ctx.Reply;
        if (ctx.ArgIs(1, "help"u8) && argc == 2) Help(w);
        else if (ctx.ArgIs(1, "sleep"u8) && argc == 3) Sleep(ctx);
        else if (ctx.ArgIs(1, "object"u8) && argc == 3) DebugObject(ctx);
        else if (ctx.ArgIs(1, "populate"u8) && argc is >= 3 and <= 5) Populate(ctx);
        else if (ctx.ArgIs(1, "digest"u8) && argc == 2) w.WriteSimpleString(Digest.ToHex(Digest.Dataset(ctx.Server.Databases)));
        else if (ctx.ArgIs(1, "digest-value"u8) && argc >= 2) DigestValue(ctx);
        else if (ctx.ArgIs(1, "set-active-expire"u8) && argc == 3)
        {
            ctx.Server.Config.ActiveExpireEnabled = Atoi(ctx.Arg(2)) != 0;
            w.WriteOk();
        }
        else if (ctx.ArgIs(1, "error"u8) && argc == 3) w.WriteError(ctx.Arg(2));
        else if (ctx.ArgIs(1, "log"u8) && argc == 3)
        {
            Log.Warning("DEBUG LOG: " + ctx.ArgString(2));
            w.WriteOk();
        }
        else if (ctx.ArgIs(1, "htstats"u8) && argc == 3) HtStats(ctx);
        else if (ctx.ArgIs(1, "reload"u8)) DebugReload(ctx);
        else if (ctx.ArgIs(1, "loadaof"u8))
            w.WriteError("ERR DEBUG LOADAOF not supported yet");
        else
            w.WriteError($"ERR unknown subcommand or wrong number of arguments for '{Truncate(ctx.ArgString(1))}'. Try DEBUG HELP.");
    }

    /// <summary>DEBUG HTSTATS dbid: bucket chain statistics of the keys and expires tables, as Redis 7.0 lays them out.</summary>
    private static void HtStats(CommandContext ctx)
    {
        var dbs = ctx.Server.Databases;
        if (!RespNumbers.TryParseInt64(ctx.Arg(2), out long id)) { ctx.Reply.WriteError("ERR value is not an integer or out of range"); return; }
        if (id < 0 || id >= dbs.Length) { ctx.Reply.WriteError("ERR Out of range database"); return; }
        var sb = new System.Text.StringBuilder("[Dictionary HT]\n");
        dbs[id].Keys.WriteChainStats(sb);
        sb.Append("[Expires HT]\n");
        dbs[id].Expires.WriteChainStats(sb);
        ctx.Reply.WriteVerbatim(sb.ToString());
    }

    /// <summary>DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dump, empty the dataset, load the dump back.</summary>
    private static void DebugReload(CommandContext ctx)
    {
        bool save = true, flush = true, merge = false;
        for (int i = 2; i < ctx.Count; i++)
        {
            if (ctx.ArgIs(i, "merge"u8)) merge = true;
            else if (ctx.ArgIs(i, "noflush"u8)) flush = false;
            else if (ctx.ArgIs(i, "nosave"u8)) save = false;
            else
            {
                ctx.Reply.WriteError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
                return;
            }
        }
        var server = ctx.Server;
        if (save && !server.Rdb.SaveBlocking())
        {
            ctx.Reply.WriteError("ERR");
            return;
        }
        if (flush && !merge)
            foreach (var db in server.Databases) db.Clear();
        if (!server.Rdb.LoadFile(server.Rdb.FilePath))
        {
            ctx.Reply.WriteError("ERR Error trying to load the RDB dump, check server logs.");
            return;
        }
        Log.Notice("DB reloaded by DEBUG RELOAD");
        ctx.Reply.WriteOk();
    }

    private static string Truncate(string s) => s.Length > 128 ? s[..128] : s;

    /// <summary>C atoi: leading integer digits, 0 when none.</summary>
    private static long Atoi(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && (s[i] == ' ' || s[i] == '\t')) i++;
        bool neg = false;
        if (i < s.Length && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
        long v = 0;
        while (i < s.Length && s[i] >= '0' && s[i] <= '9' && v < int.MaxValue) v = v * 10 + (s[i++] - '0');
        return neg ? -v : v;
    }

    /// <summary>C strtod on the leading number (0 when it does not parse), as Redis reads the SLEEP time.</summary>
    private static double Strtod(string s)
    {
        s = s.Trim();
        for (int len = s.Length; len > 0; len--)
            if (double.TryParse(s.AsSpan(0, len), NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
        return 0;
    }

    private static void Sleep(CommandContext ctx)
    {
        double seconds = Strtod(ctx.ArgString(2));
        if (double.IsNaN(seconds) || seconds < 0) seconds = 0;
        seconds = Math.Min(seconds, MaxSleepSeconds);
        if (seconds > 0) Thread.Sleep(TimeSpan.FromSeconds(seconds));
        ctx.Reply.WriteOk();
    }

    private static void DebugObject(CommandContext ctx)
    {
        var db = ctx.Db;
        int i = db.Keys.IndexOf(ctx.Arg(2)); // like Redis: logically expired keys are still shown
        if (i < 0) { ctx.Reply.WriteError(Errors.NoSuchKey); return; }
        var value = Types.GrowableString.Plain(db.Keys.ValueAt(i));
        uint lru = db.Keys.LruAt(i);
        long address = 0x7f0000000000L | ((long)System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(value) << 4);
        string line = $"Value at:0x{address:x} refcount:{ObjectCommand.RefCountOf(ctx, value)} encoding:{ValueTypes.Encoding(value)} " +
                      $"serializedlength:{SerializedLength(value)} lru:{lru} lru_seconds_idle:{LruClock.IdleSeconds(lru)}";
        ctx.Reply.WriteSimpleString(line);
    }

    /// <summary>
    /// Bytes of the value in an RDB payload: small integers in 2/3/5 bytes, other strings length-prefixed.
    /// Redis LZF-compresses strings over 20 bytes, which is not modelled yet (uncompressed size reported).
    /// </summary>
    public static long SerializedLength(object value)
    {
        if (value is not byte[] s) return 0;
        if (s.Length <= 11 && RespNumbers.TryParseInt64(s, out long n))
        {
            if (n is >= sbyte.MinValue and <= sbyte.MaxValue) return 2;
            if (n is >= short.MinValue and <= short.MaxValue) return 3;
            if (n is >= int.MinValue and <= int.MaxValue) return 5;
        }
        long len = s.Length;
        int prefix = len < 64 ? 1 : len < 16384 ? 2 : len <= uint.MaxValue ? 5 : 9;
        return prefix + len;
    }

    private static void Populate(CommandContext ctx)
    {
        if (!ctx.TryArgInt64(2, out long count) || count < 0) { ctx.Reply.WriteError(Errors.NotNegative); return; }
        long size = 0;
        if (ctx.Count == 5 && (!ctx.TryArgInt64(4, out size) || size < 0)) { ctx.Reply.WriteError(Errors.NotNegative); return; }
        // Redis formats the prefix as a C string, so it ends at the first NUL byte.
        var prefixArg = ctx.Count >= 4 ? ctx.Arg(3) : "key"u8;
        int nul = prefixArg.IndexOf((byte)0);
        var prefix = (nul >= 0 ? prefixArg[..nul] : prefixArg).ToArray();
        var db = ctx.Db;
        Span<byte> num = stackalloc byte[24];
        for (long j = 0; j < count; j++)
        {
            j.TryFormat(num, out int nlen, default, CultureInfo.InvariantCulture);
            var key = new byte[prefix.Length + 1 + nlen];
            prefix.CopyTo(key, 0);
            key[prefix.Length] = (byte)':';
            num[..nlen].CopyTo(key.AsSpan(prefix.Length + 1));
            if (db.Lookup(key) is not null) continue;
            var text = Encoding.ASCII.GetBytes("value:" + j.ToString(CultureInfo.InvariantCulture));
            byte[] value = text;
            if (size > 0)
            {
                value = new byte[size]; // zero padded, like Redis's sdsnewlen
                text.AsSpan(0, (int)Math.Min(size, text.Length)).CopyTo(value);
            }
            db.Add(key, value);
        }
        ctx.Reply.WriteOk();
    }

    private static void DigestValue(CommandContext ctx)
    {
        var db = ctx.Db;
        ctx.Reply.WriteArrayHeader(ctx.Count - 2);
        Span<byte> d = stackalloc byte[Digest.Size];
        for (int i = 2; i < ctx.Count; i++)
        {
            d.Clear();
            var key = ctx.Arg(i);
            int idx = db.Keys.IndexOf(key); // no expiry check, as in Redis
            if (idx >= 0) Digest.AddValue(d, db.Keys.ValueAt(idx), db.GetExpire(key) != -1);
            ctx.Reply.WriteSimpleString(Digest.ToHex(d));
        }
    }

    private static void Help(RespWriter w) => CommandCommand.WriteHelp(w, "DEBUG",
    [
        "DIGEST", "    Hex digest of the whole dataset (same algorithm as Redis, so equal data gives equal digests).",
        "DIGEST-VALUE <key> [<key> ...]", "    Hex digest of each key's value.",
        "ERROR <string>", "    Reply with <string> as an error.",
        "HTSTATS <dbid>", "    Bucket chain statistics of the keys and expires tables of database <dbid>.",
        "LOG <message>", "    Write <message> to the server log.",
        "OBJECT <key>", "    Internal details of the value at <key>.",
        "POPULATE <count> [<prefix>] [<size>]", "    Create <count> string keys <prefix>:<n> (prefix 'key') holding value:<n>,",
        "    padded or cut to <size> bytes; existing keys are left alone.",
        "RELOAD", "    Not supported yet (needs persistence).",
        "SET-ACTIVE-EXPIRE <0|1>", "    Turn the background expiry cycle off (0) or on (1).",
        "SLEEP <seconds>", $"    Stop the server for <seconds> (fractions allowed, at most {MaxSleepSeconds}).",
    ]);
}
