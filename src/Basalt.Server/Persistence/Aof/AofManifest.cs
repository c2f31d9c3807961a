using System.Globalization;
using System.Text;

namespace Basalt.Server.Persistence.Aof;

public enum AofFileType : byte { Base = (byte)'b', History = (byte)'h', Incr = (byte)'i' }

public sealed record AofFileInfo(string Name, long Seq, AofFileType Type);

/// <summary>Thrown for an AOF problem that must stop the server (the message is logged as Redis logs it).</summary>
public sealed class AofFatalException(string message) : Exception(message);

/// <summary>
/// The Redis 7 multi-part AOF manifest: one base file, incr files in order, history files awaiting deletion.
/// Text form: <c>file &lt;name&gt; seq &lt;n&gt; type &lt;b|h|i&gt;</c> per line, base first, then history, then incr.
/// </summary>
public sealed class AofManifest
{
    public AofFileInfo? Base;
    public readonly List<AofFileInfo> Incr = new();
    public readonly List<AofFileInfo> History = new();
    public long BaseSeq;
    public long IncrSeq;

    public bool IsEmpty => Base is null && Incr.Count == 0;

    public AofManifest Clone()
    {
        var m = new AofManifest { Base = Base, BaseSeq = BaseSeq, IncrSeq = IncrSeq };
        m.Incr.AddRange(Incr);
        m.History.AddRange(History);
        return m;
    }

    public static string ManifestName(string appendFilename) => appendFilename + ".manifest";
    public static string TempManifestName(string appendFilename) => "temp-" + appendFilename + ".manifest";
    public static string TempIncrName(string appendFilename) => "temp-" + appendFilename + ".incr";

    /// <summary>Opens a new base (seq+1); the old base becomes history.</summary>
    public string NewBaseName(string appendFilename, bool rdb)
    {
        if (Base is not null) History.Add(Base with { Type = AofFileType.History });
        BaseSeq++;
        string name = $"{appendFilename}.{BaseSeq}.base.{(rdb ? "rdb" : "aof")}";
        Base = new AofFileInfo(name, BaseSeq, AofFileType.Base);
        return name;
    }

    public string NewIncrName(string appendFilename)
    {
        IncrSeq++;
        string name = $"{appendFilename}.{IncrSeq}.incr.aof";
        Incr.Add(new AofFileInfo(name, IncrSeq, AofFileType.Incr));
        return name;
    }

    /// <summary>After a rewrite: every incr file but the last (still being appended to) becomes history.</summary>
    public void MarkRewrittenIncrAsHistory()
    {
        while (Incr.Count > 1)
        {
            History.Add(Incr[0] with { Type = AofFileType.History });
            Incr.RemoveAt(0);
        }
    }

    public string ToText()
    {
        var sb = new StringBuilder();
        if (Base is not null) Line(sb, Base);
        foreach (var h in History) Line(sb, h);
        foreach (var i in Incr) Line(sb, i);
        return sb.ToString();

        static void Line(StringBuilder sb, AofFileInfo f) =>
            sb.Append("file ").Append(NeedsQuoting(f.Name) ? Config.ConfigFileParser.Repr(f.Name) : f.Name)
              .Append(" seq ").Append(f.Seq.ToString(CultureInfo.InvariantCulture))
              .Append(" type ").Append((char)f.Type).Append('\n');
    }

    private static bool NeedsQuoting(string s)
    {
        foreach (char c in s)
            if (c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\') return true;
        return false;
    }

    /// <summary>Parses a manifest; throws <see cref="AofFatalException"/> with Redis's wording when invalid.</summary>
    public static AofManifest Parse(string text)
    {
        var m = new AofManifest();
        long maxIncrSeq = 0;
        int lines = 0;
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            if (line.Length > 1024) throw new AofFatalException("The AOF manifest file contains too long line");
            lines++;
            var parts = Config.ConfigFileParser.SplitArgs(line);
            if (parts is null || parts.Count == 0 || parts.Count % 2 != 0) throw new AofFatalException("Invalid AOF manifest file format");
            string? name = null, type = null;
            long seq = 0;
            bool haveSeq = false;
            for (int i = 0; i < parts.Count; i += 2)
            {
                switch (parts[i])
                {
                    case "file": name = parts[i + 1]; break;
                    case "seq":
                        haveSeq = long.TryParse(parts[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out seq);
                        break;
                    case "type": type = parts[i + 1]; break;
                    default: break; // unknown keys are tolerated, as Redis does
                }
            }
            if (name is null || !haveSeq || type is null || type.Length != 1) throw new AofFatalException("Invalid AOF manifest file format");
            switch (type[0])
            {
                case 'b':
                    if (m.Base is not null) throw new AofFatalException("Found duplicate base file information");
                    m.Base = new AofFileInfo(name, seq, AofFileType.Base);
                    m.BaseSeq = seq;
                    break;
                case 'h':
                    m.History.Add(new AofFileInfo(name, seq, AofFileType.History));
                    break;
                case 'i':
                    if (seq <= maxIncrSeq) throw new AofFatalException("Found a non-monotonic sequence number");
                    m.Incr.Add(new AofFileInfo(name, seq, AofFileType.Incr));
                    maxIncrSeq = m.IncrSeq = seq;
                    break;
                default:
                    throw new AofFatalException($"Unknown AOF file type: {type}");
            }
        }
        if (lines == 0) throw new AofFatalException("Found an empty AOF manifest");
        return m;
    }

    /// <summary>Writes the manifest through a temp file, fsyncs it, renames it over the old one and fsyncs the directory.</summary>
    public void Persist(string dir, string appendFilename)
    {
        string tmp = Path.Combine(dir, TempManifestName(appendFilename));
        string final = Path.Combine(dir, ManifestName(appendFilename));
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
        {
            var bytes = Encoding.UTF8.GetBytes(ToText());
            fs.Write(bytes);
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, final, overwrite: true);
        DurableFiles.FsyncDirectory(dir);
    }

}
