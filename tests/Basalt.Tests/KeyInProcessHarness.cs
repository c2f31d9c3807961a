using System.Text;
using Basalt.Protocol;
using Basalt.Server;
using Basalt.Server.Config;

namespace Basalt.Tests;

/// <summary>
/// Runs commands against an in-process server without networking or the cron thread, so expiry can be
/// controlled exactly (a TTL set in the past stays unreclaimed until a command or the test touches it).
/// </summary>
internal sealed class KeyInProcessHarness
{
    public RedisServer Server { get; } = new(new ServerConfig());
    public Client Client { get; }

    public KeyInProcessHarness()
    {
        Client = new Client(Server, 1) { Authenticated = true };
    }

    public RespValue Call(params string[] args)
    {
        var buf = new List<byte>();
        var refs = new ArgRef[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            var b = Encoding.UTF8.GetBytes(args[i]);
            refs[i] = new ArgRef { Offset = buf.Count, Length = b.Length };
            buf.AddRange(b);
        }
        Client.Out.Reset();
        lock (Server.ExecLock) Server.Dispatcher.Execute(Client, buf.ToArray(), refs, 0, args.Length);
        var reply = RespValue.TryParse(Client.Out.WrittenSpan, out int consumed)
            ?? throw new InvalidOperationException("no complete reply");
        Assert.Equal(Client.Out.Length, consumed);
        return reply;
    }

    /// <summary>Gives an existing key a TTL that passed a second ago, bypassing the command checks.</summary>
    public void ExpireInPast(string key)
    {
        var db = Server.Databases[Client.DbIndex];
        db.SetExpire(Encoding.UTF8.GetBytes(key), Basalt.Server.Keyspace.Database.NowMs - 1000);
    }
}
