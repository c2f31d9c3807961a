using System.Buffers;
using System.Net.Sockets;
using Basalt.Protocol;

namespace Basalt.Server.Networking;

/// <summary>
/// The socket side of a client: receives into a pooled buffer, parses every complete request in it,
/// executes the whole batch under one acquisition of the execution lock, then sends the replies.
/// With inline socket completions this runs on the socket engine's thread, so nothing here may block
/// for long outside the lock.
/// </summary>
public sealed class ClientConnection
{
    private const int InitialBufferSize = 16 * 1024;

    private readonly Socket _socket;
    private readonly RedisServer _server;
    private readonly RequestParser _parser = new();
    private byte[] _recv;
    private int _filled;     // bytes in _recv
    private int _parsed;     // bytes of _recv consumed by complete commands
    private int[] _cmdStarts = new int[64];
    private int[] _cmdCounts = new int[64];
    private volatile bool _closed;
    private bool _moreInput; // complete requests left unexecuted (the batch stopped at AUTH)
    private int _batchCount; // commands parsed into _cmdStarts/_cmdCounts
    private int _batchNext;  // next of them to execute (a batch stopped by CLIENT PAUSE resumes here)
    private string? _batchProtocolError;
    private bool _paused;    // the batch stopped at a command that CLIENT PAUSE delays
    private readonly Action _sendCallback;

    public ClientConnection(Socket socket, RedisServer server, Client client)
    {
        _socket = socket;
        _server = server;
        Client = client;
        client.Connection = this;
        _recv = BufferPool.Rent(InitialBufferSize);
        _sendCallback = () => _ = SendLoopAsync();
    }

    public Client Client { get; }

    public bool IsClosed => _closed;

    public async Task RunAsync()
    {
        try
        {
            while (!_closed)
            {
                if (_filled == _recv.Length) GrowReceiveBuffer(_recv.Length);
                int n;
                if (_sideReceive is not null)
                {
                    // A receive started while blocked is still pending: take its bytes instead of starting another.
                    if (await TakeSideReceiveAsync().ConfigureAwait(false) <= 0) break;
                    if (!await DrainInputAsync().ConfigureAwait(false)) break;
                    continue;
                }
                try
                {
                    n = await _socket.ReceiveAsync(_recv.AsMemory(_filled), SocketFlags.None).ConfigureAwait(false);
                }
                catch (SocketException) { break; }
                catch (ObjectDisposedException) { break; }
                if (n <= 0) break;
                _filled += n;
                Client.NetInputBytes += n;
                Client.LastInteractionMs = Environment.TickCount64; // as Redis: any input counts against the idle timeout
                Interlocked.Add(ref _server.Dispatcher.Introspection.NetInputBytes, n);
                Interlocked.Increment(ref _server.Stats.TotalReadsProcessed);
                if (!await DrainInputAsync().ConfigureAwait(false)) break;
                if (Client.Has(ClientFlags.CloseAfterReply) && Client.SendInProgress == 0 && Client.Out.Length == 0) break;
                if (Client.Has(ClientFlags.CloseAsap)) break;
            }
        }
        catch (Exception ex)
        {
            Log.Warning($"Client id={Client.Id} addr={Client.Address} error: {ex}");
        }
        finally
        {
            Close();
        }
    }

    // --- Blocking commands (BLPOP...): while blocked, no input is executed; bytes still arrive in a side buffer
    // so a disconnect is noticed. Blocking.Finish calls OnUnblocked, which resumes DrainInputAsync on the pool.
    private Task<int>? _sideReceive;
    private byte[]? _side;
    private TaskCompletionSource? _unblocked;

    /// <summary>Executes everything complete in the buffer, waiting out blocked periods. False when the client went away.</summary>
    private async Task<bool> DrainInputAsync()
    {
        while (true)
        {
            do
            {
                bool mustSend = ProcessInput();
                if (_hopToPool)
                {
                    _hopToPool = false;
                    await Task.Yield(); // continues on the thread pool
                    continue;
                }
                if (mustSend) await SendLoopAsync().ConfigureAwait(false);
                if (_paused) await WaitWhilePausedAsync().ConfigureAwait(false);
            } while ((_moreInput || _paused || _resumeParsed) && !_closed && !Client.Has(ClientFlags.CloseAsap));
            if (_closed || !Client.Has(ClientFlags.Blocked)) return true;
            if (!await WaitUnblockedAsync().ConfigureAwait(false)) return false;
        }
    }

    private async Task<bool> WaitUnblockedAsync()
    {
        while (true)
        {
            TaskCompletionSource tcs;
            lock (_server.ExecLock)
            {
                if (!Client.Has(ClientFlags.Blocked)) return true;
                tcs = _unblocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            _sideReceive ??= ReceiveSideAsync();
            var done = await Task.WhenAny(_sideReceive, tcs.Task).ConfigureAwait(false);
            if (done == tcs.Task) return true;
            if (await TakeSideReceiveAsync().ConfigureAwait(false) <= 0 || Client.Has(ClientFlags.CloseAsap)) return false;
        }
    }

    private async Task<int> ReceiveSideAsync()
    {
        _side ??= new byte[16 * 1024];
        try { return await _socket.ReceiveAsync(_side.AsMemory(), SocketFlags.None).ConfigureAwait(false); }
        catch (Exception) { return 0; }
    }

    /// <summary>Appends the bytes of the pending side receive to the receive buffer.</summary>
    private async Task<int> TakeSideReceiveAsync()
    {
        int n = await _sideReceive!.ConfigureAwait(false);
        _sideReceive = null;
        if (n <= 0) return n;
        if (_filled + n > _recv.Length) GrowReceiveBuffer(n);
        if (Client.Has(ClientFlags.CloseAsap)) return 0;
        Buffer.BlockCopy(_side!, 0, _recv, _filled, n);
        _filled += n;
        Client.NetInputBytes += n;
        return n;
    }

    /// <summary>Called under the execution lock when the client was unblocked (served, timed out, CLIENT UNBLOCK).</summary>
    public void OnUnblocked() => _unblocked?.TrySetResult();

    /// <summary>Commands that may block end a batch, so the rest of the input stays unparsed until they complete.</summary>
    private bool MayBlock(int argStart)
    {
        ref var a = ref _parser.ArgArray[argStart];
        if (a.Length == 0) return false;
        byte c = (byte)(_recv[a.Offset] | 0x20);
        if (c != 'b' && c != 'x' && c != 'w') return false;
        var def = _server.Commands.Find(_recv.AsSpan(a.Offset, a.Length));
        // WAIT blocks too, though Redis 7.0 does not flag it "blocking" (COMMAND INFO shows the flags).
        return def is not null && ((def.Flags & Commands.CommandFlags.Blocking) != 0 || def.Name == "wait");
    }

    /// <summary>Script commands may run long: they must not run on a socket engine thread (see ProcessInput).</summary>
    private bool IsScript(int argStart)
    {
        ref var a = ref _parser.ArgArray[argStart];
        if (a.Length < 4) return false;
        // eval, evalsha, eval_ro, evalsha_ro, fcall, fcall_ro: "ev" or "fc", so EXISTS/EXPIRE/FLUSHALL skip the lookup.
        byte c = (byte)(_recv[a.Offset] | 0x20), c2 = (byte)(_recv[a.Offset + 1] | 0x20);
        if (!(c == 'e' && c2 == 'v') && !(c == 'f' && c2 == 'c')) return false;
        var def = _server.Commands.Find(_recv.AsSpan(a.Offset, a.Length));
        return def is not null && def.Name is "eval" or "evalsha" or "eval_ro" or "evalsha_ro" or "fcall" or "fcall_ro";
    }

    private bool _batchHasScript; // the parsed batch contains EVAL/FCALL-like commands
    private bool _resumeParsed;   // the parsed batch waits to run on a pool thread
    private bool _hopToPool;      // DrainInputAsync must move to the thread pool before running the batch

    /// <summary>Parses all complete requests and executes them as one batch. Returns true if replies must be sent now.</summary>
    private bool ProcessInput()
    {
        if (Client.Has(ClientFlags.Blocked)) { _moreInput = false; return false; }
        if (!_paused && !_resumeParsed)
        {
            ParseBatch();
            // Inline socket completions run batches on the socket engine's thread; a long script there would stall
            // every other connection of that engine, including the SCRIPT KILL meant to stop it.
            if (_batchHasScript && !Thread.CurrentThread.IsThreadPoolThread)
            {
                _resumeParsed = _hopToPool = true;
                return false;
            }
        }
        _resumeParsed = false;
        _paused = false;
        int commands = _batchCount;
        string? protocolError = _batchProtocolError;
        bool mustSend;
        if (commands == 0 && protocolError is null)
        {
            _moreInput = false;
            if (_parsed > 0) CompactReceiveBuffer();
            return false;
        }
        if (protocolError is not null || _paused) _server.ExecLock.Enter();
        else if (AnsweredWhileScriptBusy(commands)) return false; // otherwise the lock is now held
        try
        {
            _server.Replicator.BeginBatch(); // replicas get this batch's writes in one send each, at its end
            var args = _parser.ArgArray;
            int c = _batchNext;
            for (; c < commands; c++)
            {
                // A client killed (CLIENT KILL, limits) while its input was in flight runs nothing more, as in Redis.
                if (Client.Has(ClientFlags.CloseAsap)) { c = commands; break; }
                if (_server.PausedUntilMs != 0 && MustWaitForPause(c)) { _paused = true; break; }
                _server.Dispatcher.Execute(Client, _recv, args, _cmdStarts[c], _cmdCounts[c]);
                if (_server.Blocking.HasReadyKeys) _server.Blocking.ServeReadyKeys();
                if (Client.Has(ClientFlags.CloseAfterReply) || Client.Has(ClientFlags.CloseAsap)) { c = commands; break; }
            }
            _batchNext = c;
            if (protocolError is not null && !_paused)
            {
                Log.Verbose($"Protocol error ({protocolError}) from client: id={Client.Id} addr={Client.Address}");
                Client.Out.WriteError("ERR " + protocolError);
                Client.Flags |= ClientFlags.CloseAfterReply;
                _server.Stats.ProtocolErrors++;
            }
            _server.BeforeRepliesSent?.Invoke();
            mustSend = !_server.Dispatcher.Introspection.OutputLimits.Check(Client) && Client.TryBeginSend();
        }
        finally
        {
            _server.Replicator.EndBatch();
            _server.ExecLock.Exit();
        }
        if (_paused) return mustSend; // the parsed arguments stay in the buffer until the batch resumes
        _batchCount = _batchNext = 0;
        _batchProtocolError = null;
        _parser.ResetArgs();
        CompactReceiveBuffer();
        _moreInput = protocolError is null && commands > 0 && _filled > 0
            && !Client.Has(ClientFlags.CloseAfterReply) && !Client.Has(ClientFlags.CloseAsap) && !Client.Has(ClientFlags.Blocked);
        return mustSend;
    }

    /// <summary>
    /// A script holding the execution lock past busy-reply-threshold: the batch is answered without the lock
    /// (-BUSY, or SCRIPT KILL / FUNCTION KILL / SHUTDOWN NOSAVE), the script's thread delivers the replies.
    /// False with the execution lock held.
    /// </summary>
    private bool AnsweredWhileScriptBusy(int commands)
    {
        while (!_server.ExecLock.TryEnter(10))
        {
            var scripting = Scripting.ScriptingState.Peek(_server);
            if (scripting is null || !scripting.Busy) continue;
            if (!scripting.AnswerWhileBusy(Client, _recv, _parser.ArgArray, _cmdStarts, _cmdCounts, _batchNext, commands)) continue;
            _batchCount = _batchNext = 0;
            _parser.ResetArgs();
            CompactReceiveBuffer();
            _moreInput = _filled > 0 && !Client.Has(ClientFlags.CloseAsap);
            return true;
        }
        return false;
    }

    /// <summary>False when a busy script holds the lock: the client was queued for the script's thread to wake.</summary>
    private bool EnterLockUnlessScriptBusy()
    {
        while (!_server.ExecLock.TryEnter(10))
        {
            var scripting = Scripting.ScriptingState.Peek(_server);
            if (scripting is not null && scripting.DeferWakeWhileBusy(Client)) return false;
        }
        return true;
    }

    /// <summary>
    /// CLIENT PAUSE delays commands that passed lookup, arity and auth checks: all of them, or only writes
    /// (and may-replicate commands) in WRITE mode. Replicas and monitors are never paused.
    /// </summary>
    private bool MustWaitForPause(int c)
    {
        if (Environment.TickCount64 >= _server.PausedUntilMs) return false;
        if (Client.Has(ClientFlags.Replica) || Client.Has(ClientFlags.Monitor)) return false;
        var ctx = Client.Context;
        ctx.SetArgs(_recv, _parser.ArgArray, _cmdStarts[c], _cmdCounts[c]);
        var def = _server.Commands.Find(ctx.Arg(0));
        if (def is null) return false;
        if (def.Subcommands is not null)
        {
            if (ctx.Count < 2) return false;
            def = Commands.CommandTable.FindSub(def, ctx.Arg(1));
            if (def is null) return false;
        }
        if (!def.CheckArity(ctx.Count)) return false;
        if (!Client.Authenticated && (def.Flags & Commands.CommandFlags.NoAuth) == 0) return false;
        if (!_server.PauseWritesOnly) return true;
        return (def.Flags & (Commands.CommandFlags.Write | Commands.CommandFlags.MayReplicate)) != 0;
    }

    /// <summary>Waits without holding a thread until the pause that stopped the batch is over (or the client is killed).</summary>
    private async Task WaitWhilePausedAsync()
    {
        while (!_closed && !Client.Has(ClientFlags.CloseAsap))
        {
            long left = _server.PausedUntilMs - Environment.TickCount64;
            if (left <= 0) return;
            bool stillPaused;
            lock (_server.ExecLock) stillPaused = MustWaitForPause(_batchNext);
            if (!stillPaused) return;
            await Task.Delay((int)Math.Clamp(left, 1, 10)).ConfigureAwait(false);
        }
    }

    /// <summary>Parses all complete requests in the buffer into the batch arrays.</summary>
    private void ParseBatch()
    {
        int pos = _parsed;
        int commands = 0;
        string? protocolError = null;
        _batchHasScript = false;
        _parser.Unauthenticated = !Client.Authenticated;
        _parser.MaxBulkLength = _server.Config.ProtoMaxBulkLen; // CONFIG SET may change it at any time
        while (pos < _filled)
        {
            var status = _parser.TryParse(_recv, ref pos, _filled, out int argStart, out int argCount);
            if (status == ParseStatus.Incomplete)
            {
                if (_parser.BytesNeeded > 0 && _filled + _parser.BytesNeeded > _recv.Length)
                    EnsureRoomFor(_parser.BytesNeeded);
                break;
            }
            if (status == ParseStatus.Error) { protocolError = _parser.Error; break; }
            if (argCount == 0) continue;
            if (commands == _cmdStarts.Length)
            {
                Array.Resize(ref _cmdStarts, commands * 2);
                Array.Resize(ref _cmdCounts, commands * 2);
            }
            _cmdStarts[commands] = argStart;
            _cmdCounts[commands] = argCount;
            commands++;
            // AUTH may change the limits for the rest of the batch: stop at it and execute first.
            if (!Client.Authenticated) break;
            if (MayBlock(argStart)) break;
            if (IsScript(argStart)) _batchHasScript = true;
        }
        _parsed = pos;

        Client.QueryBufferLength = _filled - _parsed;
        Client.QueryBufferSize = _recv.Length;
        _batchCount = commands;
        _batchNext = 0;
        _batchProtocolError = protocolError;
    }

    private void CompactReceiveBuffer()
    {
        if (_parsed == 0) return;
        int remaining = _filled - _parsed;
        if (remaining > 0) Buffer.BlockCopy(_recv, _parsed, _recv, 0, remaining);
        _parser.Shift(_parsed);
        _filled = remaining;
        _parsed = 0;
        if (remaining == 0 && _recv.Length > InitialBufferSize * 8)
        {
            BufferPool.Return(_recv);
            _recv = BufferPool.Rent(InitialBufferSize);
        }
    }

    private void EnsureRoomFor(int needed)
    {
        long limit = _server.Config.ClientQueryBufferLimit;
        if ((long)_filled + needed > limit && (long)_filled + needed > _recv.Length)
        {
            Log.Warning($"Closing client that reached max query buffer length: id={Client.Id} addr={Client.Address}");
            Client.Flags |= ClientFlags.CloseAsap;
            return;
        }
        GrowReceiveBuffer(needed);
    }

    private void GrowReceiveBuffer(int extra)
    {
        long want = Math.Max((long)_recv.Length * 2, (long)_filled + extra);
        if (want > _server.Config.ClientQueryBufferLimit + 1024 * 1024)
        {
            want = Math.Max(_server.Config.ClientQueryBufferLimit, (long)_filled + 1);
        }
        if (want > Array.MaxLength) want = Array.MaxLength;
        var nb = BufferPool.Rent((int)want);
        Buffer.BlockCopy(_recv, 0, nb, 0, _filled);
        BufferPool.Return(_recv);
        _recv = nb;
        if (_filled == _recv.Length)
        {
            Log.Warning($"Closing client that reached max query buffer length: id={Client.Id} addr={Client.Address}");
            Client.Flags |= ClientFlags.CloseAsap;
            Shutdown();
        }
    }

    /// <summary>Starts a send from another thread (after a push into this client's buffer).</summary>
    public void ScheduleSend() => ThreadPool.UnsafeQueueUserWorkItem(static cb => cb(), _sendCallback, preferLocal: false);

    /// <summary>
    /// Under the execution lock, after <see cref="Client.TryBeginSend"/>: starts the send on this thread (the socket
    /// write is non-blocking; only a send that cannot complete at once continues elsewhere). Replicas use it to skip
    /// a thread-pool hop per batch.
    /// </summary>
    internal void SendNow() => _ = SendLoopAsync();

    /// <summary>Sends <see cref="Client.Sending"/>, then anything appended meanwhile, then releases the sender role.</summary>
    private async Task SendLoopAsync()
    {
        var client = Client;
        try
        {
            while (true)
            {
                var buf = client.Sending;
                int offset = 0;
                while (offset < buf.Length)
                {
                    int n = await _socket.SendAsync(buf.WrittenMemory[offset..], SocketFlags.None).ConfigureAwait(false);
                    if (n <= 0) throw new SocketException((int)SocketError.ConnectionReset);
                    offset += n;
                    client.NetOutputBytes += n;
                    Interlocked.Add(ref _server.Dispatcher.Introspection.NetOutputBytes, n);
                    // As Redis: what replicas receive also counts as replication traffic.
                    if ((client.Flags & ClientFlags.Replica) != 0) Interlocked.Add(ref _server.Replicator.NetReplOutputBytes, n);
                    Interlocked.Increment(ref _server.Stats.TotalWritesProcessed);
                }
                buf.Reset();
                buf.TrimIfIdle();
                Volatile.Write(ref client.SendInProgress, 0);
                Interlocked.MemoryBarrier();
                if (client.Out.Length == 0) return;
                if (!EnterLockUnlessScriptBusy()) return; // the busy script's thread resumes this send
                try
                {
                    if (!client.TryBeginSend()) return;
                }
                finally { _server.ExecLock.Exit(); }
            }
        }
        catch (Exception)
        {
            Volatile.Write(ref client.SendInProgress, 0);
            Shutdown();
        }
    }

    /// <summary>Asks the receive loop to end (CLIENT KILL, timeouts, output limits); safe from any thread.</summary>
    public void Shutdown()
    {
        if (_closed) return;
        Client.Flags |= ClientFlags.CloseAsap;
        try { _socket.Shutdown(SocketShutdown.Both); } catch { }
        try { _socket.Close(); } catch { }
    }

    private void Close()
    {
        if (_closed) return;
        _closed = true;
        lock (_server.ExecLock)
        {
            _server.ClientClosed?.Invoke(Client);
            _server.Clients.Remove(Client);
            _server.Blocking.RemoveClient(Client);
        }
        try { _socket.Shutdown(SocketShutdown.Both); } catch { }
        _socket.Dispose();
        var buf = _recv;
        _recv = [];
        BufferPool.Return(buf);
    }
}
