using Basalt.Protocol;

namespace Basalt.Server.Replication;

/// <summary>Where a propagated command goes (Redis's PROPAGATE_AOF / PROPAGATE_REPL).</summary>
[Flags]
public enum PropagateTargets : byte
{
    None = 0,
    Aof = 1,
    Replicas = 2,
    All = Aof | Replicas,
}

/// <summary>A consumer of the write stream: the AOF and the replication backlog/replicas.</summary>
public interface IPropagationSink
{
    /// <summary>
    /// One execution unit, under the execution lock, in the one total order of writes. The sink adds SELECT
    /// where an op's database differs from the last one it emitted, and wraps the unit in MULTI/EXEC when
    /// <see cref="PropagationUnit.Transaction"/> is set.
    /// </summary>
    void Feed(PropagationUnit unit);
}

/// <summary>The RESP-encoded commands of one execution unit (a command, a transaction, a script).</summary>
public sealed class PropagationUnit
{
    internal readonly RespWriter Buffer = new(4096);
    internal readonly List<(int Db, PropagateTargets Targets, int Offset, int Length)> Ops = new();

    public int Count => Ops.Count;

    /// <summary>True when the ops must be applied atomically (wrapped in MULTI/EXEC).</summary>
    public bool Transaction { get; internal set; }

    public int Db(int i) => Ops[i].Db;
    public PropagateTargets Targets(int i) => Ops[i].Targets;
    public ReadOnlySpan<byte> Command(int i) => Buffer.WrittenSpan.Slice(Ops[i].Offset, Ops[i].Length);

    internal void Clear()
    {
        Ops.Clear();
        Buffer.Reset();
        Transaction = false;
    }
}

/// <summary>
/// The one ordered stream of keyspace writes (Redis's call()/alsoPropagate/propagatePendingCommands).
/// A command that changed the dataset (server.Dirty moved) is propagated as it was received unless its handler
/// rewrote it (<see cref="Commands.CommandContext.SuppressPropagation"/> plus its own ops through <see cref="Begin"/>);
/// a command that ran other commands (EXEC, scripts) is propagated through them instead. Ops recorded during one
/// top-level command form a unit, wrapped in MULTI/EXEC when it has more than one op; ops recorded outside any
/// command (active expiry, eviction, blocked clients served after a push) go out one by one.
/// Everything runs under the execution lock; nothing is recorded while no sink is attached.
/// </summary>
public sealed class Propagator
{
    private readonly List<IPropagationSink> _sinks = new();
    private readonly PropagationUnit _unit = new();
    private int _depth;

    /// <summary>True when some sink listens; callers skip building ops otherwise.</summary>
    public bool Active { get; private set; }

    public void AddSink(IPropagationSink sink)
    {
        _sinks.Add(sink);
        Active = true;
    }

    public void RemoveSink(IPropagationSink sink)
    {
        _sinks.Remove(sink);
        Active = _sinks.Count > 0;
    }

    /// <summary>Opens an execution unit (nested calls join the outer one).</summary>
    public void BeginUnit() => _depth++;

    /// <summary>Closes a unit; the outermost close hands the ops to the sinks.</summary>
    public void EndUnit()
    {
        if (--_depth > 0) return;
        _depth = 0;
        Flush();
    }

    /// <summary>True while a top-level command is executing (ops join its unit).</summary>
    public bool InUnit => _depth > 0;

    /// <summary>
    /// Starts an op of <paramref name="argc"/> arguments for database <paramref name="db"/>; add exactly argc
    /// arguments with <see cref="OpBuilder.Arg(ReadOnlySpan{byte})"/> and finish with <see cref="OpBuilder.End"/>.
    /// </summary>
    public OpBuilder Begin(int db, int argc, PropagateTargets targets = PropagateTargets.All)
    {
        targets &= TargetMask;
        int offset = _unit.Buffer.Length;
        _unit.Buffer.WriteArrayHeader(argc);
        return new OpBuilder(this, db, targets, offset);
    }

    /// <summary>Propagates a whole command given as arguments.</summary>
    public void Propagate(int db, ReadOnlySpan<byte[]> argv, PropagateTargets targets = PropagateTargets.All)
    {
        var op = Begin(db, argv.Length, targets);
        foreach (var a in argv) op.Arg(a);
        op.End();
    }

    /// <summary>Propagates the command in <paramref name="ctx"/> as it was received.</summary>
    public void PropagateAsReceived(Commands.CommandContext ctx, PropagateTargets targets = PropagateTargets.All)
    {
        var op = Begin(ctx.Client.DbIndex, ctx.Count, targets);
        for (int i = 0; i < ctx.Count; i++) op.Arg(ctx.Arg(i));
        op.End();
    }

    /// <summary>A DEL of a key removed by expiry or eviction (UNLINK when lazy freeing is configured).</summary>
    public void PropagateDeletion(int db, ReadOnlySpan<byte> key, bool unlink)
    {
        var op = Begin(db, 2);
        op.Arg(unlink ? "UNLINK"u8 : "DEL"u8);
        op.Arg(key);
        op.End();
    }

    /// <summary>Targets allowed for ops recorded now (a script's redis.set_repl narrows it during its calls).</summary>
    public PropagateTargets TargetMask { get; set; } = PropagateTargets.All;

    internal void Commit(int db, PropagateTargets targets, int offset)
    {
        if (targets == PropagateTargets.None)
        {
            _unit.Buffer.Truncate(offset);
            if (_depth == 0) Flush();
            return;
        }
        _unit.Ops.Add((db, targets, offset, _unit.Buffer.Length - offset));
        if (_depth == 0) Flush();
    }

    private void Flush()
    {
        if (_unit.Count == 0) return;
        _unit.Transaction = _unit.Count > 1;
        try
        {
            foreach (var sink in _sinks) sink.Feed(_unit);
        }
        finally
        {
            _unit.Clear();
        }
    }

    public ref struct OpBuilder
    {
        private readonly Propagator _owner;
        private readonly int _db;
        private readonly PropagateTargets _targets;
        private readonly int _offset;

        internal OpBuilder(Propagator owner, int db, PropagateTargets targets, int offset)
        {
            _owner = owner;
            _db = db;
            _targets = targets;
            _offset = offset;
        }

        public OpBuilder Arg(ReadOnlySpan<byte> value)
        {
            _owner._unit.Buffer.WriteBulk(value);
            return this;
        }

        public OpBuilder Arg(long value)
        {
            Span<byte> tmp = stackalloc byte[20];
            int n = RespNumbers.FormatInt64(value, tmp);
            _owner._unit.Buffer.WriteBulk(tmp[..n]);
            return this;
        }

        public void End() => _owner.Commit(_db, _targets, _offset);
    }
}

/// <summary>Pre-encoded commands sinks emit around ops.</summary>
public static class PropagationFrames
{
    public static ReadOnlySpan<byte> Multi => "*1\r\n$5\r\nMULTI\r\n"u8;
    public static ReadOnlySpan<byte> Exec => "*1\r\n$4\r\nEXEC\r\n"u8;

    /// <summary>A writer of stream bytes (a sink's buffer).</summary>
    public delegate void Writer(ReadOnlySpan<byte> bytes);

    /// <summary>
    /// Emits one unit as Redis 7.0 writes it to the AOF and replicas: the ops for <paramref name="want"/>, SELECT
    /// where the database changes (a transaction's SELECT goes before its MULTI, as Redis does), MULTI/EXEC around
    /// a transaction. <paramref name="selectedDb"/> is the sink's last emitted database (-1 = none yet).
    /// </summary>
    public static void Emit(PropagationUnit unit, PropagateTargets want, ref int selectedDb, Writer write)
    {
        int first = -1, count = 0;
        for (int i = 0; i < unit.Count; i++)
        {
            if ((unit.Targets(i) & want) == 0) continue;
            if (first < 0) first = i;
            count++;
        }
        if (count == 0) return;
        bool transaction = unit.Transaction && count > 1;
        if (transaction)
        {
            if (unit.Db(first) != selectedDb)
            {
                write(Select(unit.Db(first)));
                selectedDb = unit.Db(first);
            }
            write(Multi);
        }
        for (int i = first; i < unit.Count; i++)
        {
            if ((unit.Targets(i) & want) == 0) continue;
            if (unit.Db(i) != selectedDb)
            {
                write(Select(unit.Db(i)));
                selectedDb = unit.Db(i);
            }
            write(unit.Command(i));
        }
        if (transaction) write(Exec);
    }

    private static readonly byte[][] SmallSelects = Enumerable.Range(0, 16).Select(EncodeSelect).ToArray();

    /// <summary>SELECT db, as Redis writes it into the AOF and the replication stream.</summary>
    public static ReadOnlySpan<byte> Select(int db) => db < SmallSelects.Length ? SmallSelects[db] : EncodeSelect(db);

    private static byte[] EncodeSelect(int db)
    {
        string n = db.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return System.Text.Encoding.ASCII.GetBytes($"*2\r\n$6\r\nSELECT\r\n${n.Length}\r\n{n}\r\n");
    }
}
