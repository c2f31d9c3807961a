using System.Diagnostics;
using System.Text;
using Basalt.Protocol;

namespace Basalt.Server.Persistence.Aof;

/// <summary>
/// Startup loading of the multi-part AOF (Redis's loadAppendOnlyFiles): manifest, then the base (RDB or commands),
/// then each incr file in order, every command run through the dispatcher by an internal client.
/// A truncated tail of the last file is cut off (aof-load-truncated yes) or refused; any other damage stops the server.
/// </summary>
public static class AofLoader
{
    private enum Result { Ok, Empty, Truncated }

    /// <summary>
    /// Loads the AOF when appendonly is yes (true, even when there was nothing to load: the RDB file is then ignored,
    /// as Redis does). False when the AOF is off and the RDB file should be loaded instead.
    /// Throws <see cref="AofFatalException"/> (already logged) when the server must not start.
    /// </summary>
    public static bool TryLoad(RedisServer server)
    {
        var cfg = server.Config;
        if (!cfg.AppendOnly) return false;
        string dir = Path.GetFullPath(cfg.AppendDirname);
        string fn = cfg.AppendFilename;
        string manifestPath = Path.Combine(dir, AofManifest.ManifestName(fn));
        AofManifest manifest;
        try
        {
            if (File.Exists(manifestPath)) manifest = AofManifest.Parse(File.ReadAllText(manifestPath));
            else manifest = UpgradeOldStyle(dir, fn);
        }
        catch (AofFatalException ex)
        {
            Log.Warning(ex.Message);
            throw;
        }
        catch (IOException ex)
        {
            throw Fatal($"Unable to open the AOF manifest file {AofManifest.ManifestName(fn)}: {ex.Message}");
        }

        if (manifest.IsEmpty)
        {
            server.Aof.SetLoadedManifest(manifest, 0);
            return true;
        }

        // Loading ignores maxmemory, as in Redis: the evictor stays idle while server.Loading is set.
        LoadAll(server, manifest, dir);
        return true;
    }

    private static void LoadAll(RedisServer server, AofManifest manifest, string dir)
    {
        var files = new List<AofFileInfo>();
        if (manifest.Base is not null) files.Add(manifest.Base);
        files.AddRange(manifest.Incr);
        long total = 0;
        var sw = Stopwatch.StartNew();
        long size = 0;
        foreach (var f in files)
            try { size += new FileInfo(Path.Combine(dir, f.Name)).Length; } catch (IOException) { }
        server.Loading.SetTotal(size);
        var delay = new DatasetLoading.Delay(server);
        for (int i = 0; i < files.Count; i++)
        {
            var f = files[i];
            string path = Path.Combine(dir, f.Name);
            if (!File.Exists(path)) throw Fatal($"The AOF file {f.Name} doesn't exist");
            bool last = i == files.Count - 1;
            var fileSw = Stopwatch.StartNew();
            var r = LoadFile(server, path, f.Name, total, delay);
            if (r == Result.Truncated && !last) throw Fatal("Fatal error: the truncated file is not the last file");
            if (r != Result.Empty || f.Type == AofFileType.Base)
                Log.Notice($"DB loaded from {(f.Type == AofFileType.Base ? "base" : "incr")} file {f.Name}: {fileSw.Elapsed.TotalSeconds:0.000} seconds");
            total += new FileInfo(path).Length;
        }
        server.Aof.SetLoadedManifest(manifest, total);
        Log.Notice($"DB loaded from append only file: {sw.Elapsed.TotalSeconds:0.000} seconds");
    }

    /// <summary>A Redis 6 single appendonly.aof in the working directory moves into the AOF directory as the base.</summary>
    private static AofManifest UpgradeOldStyle(string dir, string fn)
    {
        var m = new AofManifest();
        string old = Path.GetFullPath(fn);
        if (!File.Exists(old)) return m;
        Directory.CreateDirectory(dir);
        m.Base = new AofFileInfo(fn, 1, AofFileType.Base);
        m.BaseSeq = 1;
        m.Persist(dir, fn);
        File.Move(old, Path.Combine(dir, fn), overwrite: true);
        DurableFiles.FsyncDirectory(dir);
        Log.Notice($"Successfully migrated an old-style AOF file ({fn}) into the AOF directory ({Path.GetFileName(dir)}).");
        return m;
    }

    private static AofFatalException Fatal(string message)
    {
        Log.Warning(message);
        return new AofFatalException(message);
    }

    /// <summary>
    /// One file, on the loading thread: an RDB preamble is parsed aside then swapped in under the lock (it is the
    /// first file, so nothing is there yet); commands run one at a time under the lock, the pauses of key-load-delay
    /// outside it. Clients get -LOADING throughout, so the partial dataset is never served.
    /// </summary>
    private static Result LoadFile(RedisServer server, string path, string name, long before, DatasetLoading.Delay delay)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        if (fs.Length == 0) return Result.Empty;
        long start = 0;
        Span<byte> sig = stackalloc byte[5];
        if (fs.Read(sig) == 5 && sig.SequenceEqual("REDIS"u8))
        {
            Log.Notice("Reading RDB base file on AOF loading...");
            fs.Position = 0;
            try
            {
                var loaded = LoadedAside.Load(new LoadingProgressStream(fs, server.Loading, before), server, keepExpired: false);
                lock (server.ExecLock) loaded.Install(server);
                var r = loaded.Result;
                if (r.Aux.TryGetValue("redis-ver", out var ver)) Log.Notice($"Loading RDB produced by version {ver}");
                if (r.Aux.TryGetValue("aof-base", out var ab) && ab == "1") Log.Notice("RDB is base AOF");
                Log.Notice($"Done loading RDB, keys loaded: {r.KeysLoaded}, keys expired: {r.ExpiredSkipped}.");
                start = r.BytesRead;
            }
            catch (Exception ex) when (ex is Rdb.RdbFormatException or IOException or EndOfStreamException)
            {
                throw Fatal($"Bad file format reading the append only file {name}: {ex.Message}");
            }
            if (start < fs.Length) Log.Notice("Reading the remaining AOF tail...");
        }
        fs.Position = start;
        return Replay(server, fs, path, name, start, before, delay);
    }

    private static Result Replay(RedisServer server, FileStream fs, string path, string name, long start, long before, DatasetLoading.Delay delay)
    {
        var reader = new AofReader(fs, start);
        var client = new Client(server, long.MaxValue) { Authenticated = true };
        client.Flags |= ClientFlags.Internal;
        long validUpTo = start;
        long validBeforeMulti = start;
        var argBuf = new byte[256];
        var refs = new ArgRef[8];
        while (true)
        {
            long cmdStart = reader.Position;
            var line = reader.ReadLine();
            if (line is null) break; // clean EOF
            if (line.Length > 0 && line[0] == '#') { validUpTo = reader.Position; continue; } // annotations (#TS:...)
            if (line[0] != '*') return BadFormat(name, cmdStart);
            if (line.Length == 1 || !line.EndsWith("\n"))
                return reader.AtEof ? Truncated(server, path, name, validUpTo) : BadFormat(name, cmdStart);
            if (!long.TryParse(line.AsSpan(1).TrimEnd("\r\n"), out long argc) || argc < 1) return BadFormat(name, cmdStart);
            int used = 0;
            bool eof = false;
            for (int a = 0; a < argc; a++)
            {
                long argStart = reader.Position;
                if (a == refs.Length) Array.Resize(ref refs, refs.Length * 2);
                var hdr = reader.ReadLine();
                if (hdr is null || (!hdr.EndsWith("\n") && reader.AtEof)) { eof = true; break; }
                if (hdr[0] != '$') return BadFormat(name, argStart);
                if (!long.TryParse(hdr.AsSpan(1).TrimEnd("\r\n"), out long len) || len < 0) return BadFormat(name, argStart);
                if (used + len > argBuf.Length) Array.Resize(ref argBuf, (int)Math.Max(argBuf.Length * 2, used + len));
                if (!reader.ReadExact(argBuf.AsSpan(used, (int)len)) || !reader.SkipCrlf()) { eof = true; break; }
                refs[a] = new ArgRef { Offset = used, Length = (int)len };
                used += (int)len;
            }
            if (eof) return Truncated(server, path, name, validUpTo);

            var cmdName = argBuf.AsSpan(refs[0].Offset, refs[0].Length);
            var def = server.Commands.Find(cmdName);
            if (def is null)
                throw Fatal($"Unknown command '{Encoding.UTF8.GetString(cmdName)}' reading the append only file {name}");
            if ((client.Flags & ClientFlags.Multi) == 0 && Ascii.EqualsIgnoreCase(cmdName, "multi"u8)) validBeforeMulti = validUpTo;
            lock (server.ExecLock)
            {
                server.Dispatcher.Execute(client, argBuf, refs, 0, (int)argc);
            }
            client.Out.Reset();
            validUpTo = reader.Position;
            server.Loading.SetLoaded(before + validUpTo);
            delay.OnItem();
        }
        if ((client.Flags & ClientFlags.Multi) != 0)
        {
            Log.Warning($"Revert incomplete MULTI/EXEC transaction in AOF file {name}");
            return Truncated(server, path, name, validBeforeMulti);
        }
        return Result.Ok;
    }

    private static Result BadFormat(string name, long offset)
    {
        Log.Warning($"Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>");
        throw Fatal($"AOF {name} is corrupted at offset {offset}");
    }

    private static Result Truncated(RedisServer server, string path, string name, long validUpTo)
    {
        if (server.Config.GetBool("aof-load-truncated"))
        {
            Log.Warning($"!!! Warning: short read while loading the AOF file {name}!!!");
            Log.Warning($"!!! Truncating the AOF {name} at offset {validUpTo} !!!");
            try
            {
                using var fs = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
                fs.SetLength(validUpTo);
                fs.Flush(flushToDisk: true);
            }
            catch (IOException ex)
            {
                throw Fatal($"Error truncating the AOF file {name}: {ex.Message}");
            }
            Log.Warning($"AOF {name} loaded anyway because aof-load-truncated is enabled");
            return Result.Truncated;
        }
        throw Fatal($"Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.");
    }

    /// <summary>Buffered reading of AOF lines and payloads with the file offset of each position.</summary>
    private sealed class AofReader(Stream s, long start)
    {
        private readonly byte[] _buf = new byte[64 * 1024];
        private int _pos, _len;
        private long _base = start; // file offset of _buf[0]

        public long Position => _base + _pos;

        public bool AtEof => !Fill();

        private bool Fill()
        {
            if (_pos < _len) return true;
            _base += _len;
            _pos = 0;
            _len = s.Read(_buf, 0, _buf.Length);
            return _len > 0;
        }

        /// <summary>A line including its '\n' (or up to EOF), Latin-1; null at EOF. Lines are capped like fgets' buffer.</summary>
        public string? ReadLine()
        {
            var sb = new StringBuilder();
            while (sb.Length < 128)
            {
                if (!Fill()) return sb.Length == 0 ? null : sb.ToString();
                byte b = _buf[_pos++];
                sb.Append((char)b);
                if (b == '\n') break;
            }
            return sb.ToString();
        }

        public bool ReadExact(Span<byte> dest)
        {
            int got = 0;
            while (got < dest.Length)
            {
                if (!Fill()) return false;
                int n = Math.Min(dest.Length - got, _len - _pos);
                _buf.AsSpan(_pos, n).CopyTo(dest[got..]);
                _pos += n;
                got += n;
            }
            return true;
        }

        public bool SkipCrlf()
        {
            Span<byte> two = stackalloc byte[2];
            return ReadExact(two);
        }
    }
}
