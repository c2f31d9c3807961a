using System.Globalization;
using Basalt.Server.Keyspace;
using Basalt.Server.Persistence.Rdb;

namespace Basalt.Server.Persistence;

/// <summary>
/// An RDB parsed at startup into fresh databases nobody sees (clients get -LOADING meanwhile), made the dataset at once
/// by <see cref="Install"/> under the execution lock: a half-loaded dataset is never visible. Honours key-load-delay.
/// </summary>
internal sealed class LoadedAside
{
    private readonly Database[] _dbs;
    private readonly List<byte[]> _libraries;

    private LoadedAside(Database[] dbs, List<byte[]> libraries, RdbLoadResult result)
    {
        _dbs = dbs;
        _libraries = libraries;
        Result = result;
    }

    public RdbLoadResult Result { get; }

    /// <summary>Off the execution lock (the loading thread).</summary>
    public static LoadedAside Load(Stream input, RedisServer server, bool keepExpired)
    {
        var dbs = new Database[server.Databases.Length];
        for (int i = 0; i < dbs.Length; i++) dbs[i] = new Database(i);
        var libraries = new List<byte[]>();
        var delay = new DatasetLoading.Delay(server);
        var loading = server.Loading;
        var result = RdbFile.Load(input, server, new RdbLoadOptions
        {
            KeepExpired = keepExpired,
            Target = dbs,
            OnFunctionLibrary = libraries.Add,
            OnKey = delay.OnItem,
            OnAux = (k, v) =>
            {
                if (k == "used-mem" && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long mem)) loading.SetRdbUsedMem(mem);
            },
        });
        return new LoadedAside(dbs, libraries, result);
    }

    /// <summary>
    /// Under the execution lock: the function libraries are created (a bad one throws <see cref="RdbFormatException"/>,
    /// as it would while loading in place), then the loaded databases replace the (empty) current ones.
    /// </summary>
    public void Install(RedisServer server)
    {
        foreach (var code in _libraries) RdbFile.DefaultFunctionLoader?.Invoke(server, code);
        for (int i = 0; i < server.Databases.Length; i++)
        {
            server.Databases[i].Clear();
            server.Databases[i].SwapWith(_dbs[i]);
        }
        server.DatabaseFlushed?.Invoke(-1);
    }
}

/// <summary>
/// A file being loaded, reporting its position for INFO's loading_loaded_bytes (plus <paramref name="before"/>, the
/// size of the files loaded earlier).
/// </summary>
internal sealed class LoadingProgressStream(Stream inner, DatasetLoading loading, long before = 0) : Stream
{
    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = inner.Read(buffer, offset, count);
        loading.SetLoaded(before + inner.Position);
        return n;
    }

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        loading.SetLoaded(before + inner.Position);
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => inner.CanSeek; // lets the parser bound lengths by the file size
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
