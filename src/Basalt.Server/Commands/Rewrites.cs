namespace Basalt.Server.Commands;

/// <summary>
/// Shared helpers for commands that propagate a rewritten form of themselves (Redis's rewriteClientCommandVector /
/// alsoPropagate): callers check <see cref="Begin"/> first, so nothing is built while no sink listens.
/// </summary>
internal static class Rewrites
{
    /// <summary>True (and the received form suppressed) when propagation is on: the caller then records its own ops.</summary>
    public static bool Begin(CommandContext ctx)
    {
        if (!ctx.Propagator.Active) return false;
        ctx.SuppressPropagation();
        return true;
    }

    /// <summary>DEL key (SPOP of the whole set, ...).</summary>
    public static void Del(CommandContext ctx, ReadOnlySpan<byte> key) =>
        ctx.Propagator.Begin(ctx.Client.DbIndex, 2).Arg("DEL"u8).Arg(key).End();

    /// <summary>DEL key, or UNLINK when the lazyfree directive <paramref name="lazyfreeDirective"/> is on (as Redis picks).</summary>
    public static void Del(CommandContext ctx, ReadOnlySpan<byte> key, string lazyfreeDirective) =>
        ctx.Propagator.Begin(ctx.Client.DbIndex, 2).Arg(ctx.Server.Config.GetBool(lazyfreeDirective) ? "UNLINK"u8 : "DEL"u8).Arg(key).End();

    /// <summary>PEXPIREAT key ms, plus arguments [from..] of the received command (EXPIRE's NX/XX/GT/LT).</summary>
    public static void PExpireAt(CommandContext ctx, ReadOnlySpan<byte> key, long ms, int from = 0)
    {
        int extra = from > 0 ? ctx.Count - from : 0;
        var op = ctx.Propagator.Begin(ctx.Client.DbIndex, 3 + extra).Arg("PEXPIREAT"u8).Arg(key).Arg(ms);
        for (int i = 0; i < extra; i++) op = op.Arg(ctx.Arg(from + i));
        op.End();
    }

    /// <summary>The received command without argument <paramref name="skip"/> (SET ... GET).</summary>
    public static void AsReceivedWithout(CommandContext ctx, int skip)
    {
        var op = ctx.Propagator.Begin(ctx.Client.DbIndex, ctx.Count - 1);
        for (int i = 0; i < ctx.Count; i++) if (i != skip) op = op.Arg(ctx.Arg(i));
        op.End();
    }

    /// <summary>A command of a name and two or three arguments (LPOP key, LMOVE a b dir dir, ...).</summary>
    public static void Op(CommandContext ctx, ReadOnlySpan<byte> name, ReadOnlySpan<byte> a) =>
        ctx.Propagator.Begin(ctx.Client.DbIndex, 2).Arg(name).Arg(a).End();

    public static void Op(CommandContext ctx, ReadOnlySpan<byte> name, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) =>
        ctx.Propagator.Begin(ctx.Client.DbIndex, 3).Arg(name).Arg(a).Arg(b).End();

    public static void Op(CommandContext ctx, ReadOnlySpan<byte> name, ReadOnlySpan<byte> a, long b) =>
        ctx.Propagator.Begin(ctx.Client.DbIndex, 3).Arg(name).Arg(a).Arg(b).End();

    public static void Op(CommandContext ctx, ReadOnlySpan<byte> name, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c) =>
        ctx.Propagator.Begin(ctx.Client.DbIndex, 4).Arg(name).Arg(a).Arg(b).Arg(c).End();
}
