using System.Text;
using Basalt.Protocol;
using Basalt.Server;
using Basalt.Server.Config;
using Basalt.Server.Persistence.Rdb;

namespace Basalt.Tests.Persistence;

/// <summary>An in-process server for RDB tests: runs commands (binary-safe) and writes/loads whole RDB files.</summary>
internal sealed class RdbInProcessServer
{
    public RedisServer Server { get; }
    private readonly Client _client;

    public RdbInProcessServer(ServerConfig? config = null)
    {
        Server = new RedisServer(config ?? new ServerConfig());
        _client = new Client(Server, 1) { Authenticated = true };
    }

    public RespValue Call(params object[] args)
    {
        var buf = new List<byte>();
        var refs = new ArgRef[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            var b = args[i] as byte[] ?? Encoding.UTF8.GetBytes(Convert.ToString(args[i], System.Globalization.CultureInfo.InvariantCulture)!);
            refs[i] = new ArgRef { Offset = buf.Count, Length = b.Length };
            buf.AddRange(b);
        }
        _client.Out.Reset();
        lock (Server.ExecLock) Server.Dispatcher.Execute(_client, buf.ToArray(), refs, 0, args.Length);
        return RespValue.TryParse(_client.Out.WrittenSpan, out _) ?? throw new InvalidOperationException("no complete reply");
    }

    /// <summary>Every database as a whole file, the way a snapshot writes it (test-only path over RdbFile).</summary>
    public void WriteRdb(Stream s, bool checksum = true, bool compress = true)
    {
        var o = new RdbOutput(s, compress);
        RdbFile.WriteHeader(o,
        [
            new("redis-ver", "7.0.15"), new("redis-bits", "64"),
            new("ctime", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString()), new("used-mem", "1234567"),
            new("repl-stream-db", "0"), new("repl-id", new string('a', 40)), new("repl-offset", "0"), new("aof-base", "0"),
        ]);
        foreach (var db in Server.Databases)
        {
            if (db.Count == 0) continue;
            RdbFile.WriteSelectDb(o, db.Index);
            RdbFile.WriteResizeDb(o, (ulong)db.Count, (ulong)db.ExpiresCount);
            foreach (var kv in db.Keys.Enumerate())
                RdbFile.WriteEntry(o, kv.Key, kv.Value, db.GetExpire(kv.Key), -1, -1);
        }
        RdbFile.WriteFooter(o, checksum);
    }

    public byte[] RdbBytes(bool checksum = true)
    {
        var ms = new MemoryStream();
        WriteRdb(ms, checksum);
        return ms.ToArray();
    }
}
