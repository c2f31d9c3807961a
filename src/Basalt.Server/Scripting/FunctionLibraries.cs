using System.Text;
using static Basalt.Server.Scripting.LuaNative;

namespace Basalt.Server.Scripting;

/// <summary>A function registered by a library.</summary>
public sealed class LibraryFunction
{
    public required string Name { get; init; }
    public required FunctionLibrary Library { get; init; }
    internal int Ref { get; init; }
    public ScriptFlags Flags { get; init; }
    public string? Description { get; init; }
}

/// <summary>A library loaded with FUNCTION LOAD: its name, code and functions (in registration order).</summary>
public sealed class FunctionLibrary
{
    public required string Name { get; init; }
    public required string Code { get; init; }
    public List<LibraryFunction> Functions { get; } = [];
}

/// <summary>
/// The libraries of FUNCTION LOAD and the function name index FCALL uses. <see cref="All"/> and
/// <see cref="Load"/> are what RDB save/load use (one FUNCTION2 record per library).
/// </summary>
public sealed class FunctionLibraries
{
    private readonly ScriptingState _state;
    private readonly Dictionary<string, FunctionLibrary> _libraries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LibraryFunction> _functions = new(StringComparer.Ordinal);

    internal FunctionLibraries(ScriptingState state) => _state = state;

    /// <summary>The library whose code is running (register_function adds to it).</summary>
    internal FunctionLibrary? Loading { get; private set; }

    /// <summary>Library name to code, for the RDB writer.</summary>
    public IEnumerable<KeyValuePair<string, string>> All
    {
        get { foreach (var l in _libraries.Values) yield return new(l.Name, l.Code); }
    }

    public IReadOnlyCollection<FunctionLibrary> Libraries => _libraries.Values;
    public int FunctionCount => _functions.Count;

    public long CodeMemory
    {
        get { long n = 0; foreach (var l in _libraries.Values) n += l.Code.Length; return n; }
    }

    public LibraryFunction? Find(ReadOnlySpan<byte> name) =>
        _functions.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(Encoding.UTF8.GetString(name), out var f) ? f : null;

    internal static bool ValidName(string name)
    {
        if (name.Length == 0) return false;
        foreach (char c in name) if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) return false;
        return true;
    }

    private const string BadName = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

    /// <summary>From register_function while the library code runs.</summary>
    internal string? AddPending(FunctionLibrary lib, string name, int reference, ScriptFlags flags, string? desc)
    {
        if (!ValidName(name)) return BadName;
        foreach (var f in lib.Functions) if (f.Name == name) return "ERR Function already exists in the library";
        lib.Functions.Add(new LibraryFunction { Name = name, Library = lib, Ref = reference, Flags = flags, Description = desc });
        return null;
    }

    /// <summary>Reads "#!lua name=lib" (the first line). Returns the library name or null with the error.</summary>
    private static string? ParseMetadata(string code, out int lineLength, out string? error)
    {
        lineLength = 0;
        error = null;
        if (!code.StartsWith("#!", StringComparison.Ordinal)) { error = "ERR Missing library metadata"; return null; }
        int nl = code.IndexOf('\n');
        if (nl < 0) { error = "ERR Invalid library metadata"; return null; }
        lineLength = nl;
        var parts = code[2..nl].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) { error = "ERR Invalid library metadata"; return null; }
        if (!parts[0].Equals("lua", StringComparison.OrdinalIgnoreCase)) { error = $"ERR Engine '{parts[0]}' not found"; return null; }
        string? name = null;
        for (int i = 1; i < parts.Length; i++)
        {
            if (!parts[i].StartsWith("name=", StringComparison.Ordinal)) { error = "ERR Invalid metadata value given: " + parts[i]; return null; }
            if (name is not null) { error = "ERR Invalid metadata value, name argument was given multiple times"; return null; }
            name = parts[i][5..];
        }
        if (name is null) { error = "ERR Library name was not given"; return null; }
        if (!ValidName(name)) { error = BadName; return null; }
        return name;
    }

    /// <summary>FUNCTION LOAD (and RDB load): returns the library name, or null with the error reply text.</summary>
    public string? Load(string code, bool replace, out string? error) => Load(code, replace, out error, commit: true, out _);

    private string? Load(string code, bool replace, out string? error, bool commit, out FunctionLibrary? created)
    {
        created = null;
        var name = ParseMetadata(code, out int lineLength, out error);
        if (name is null) return null;
        _libraries.TryGetValue(name, out var existing);
        if (existing is not null && !replace) { error = $"ERR Library '{name}' already exists"; return null; }

        var engine = _state.FunctionEngine;
        var bytes = Encoding.UTF8.GetBytes(code);
        bytes.AsSpan(0, lineLength).Fill((byte)' ');
        int chunk = engine.Compile(bytes, "@user_function", out var compileError);
        if (chunk < 0) { error = "ERR Error compiling function: " + compileError; return null; }

        var lib = new FunctionLibrary { Name = name, Code = code };
        var run = new ScriptRun(_state, engine) { Name = name, Loading = true };
        var previous = LuaEngine.Current;
        LuaEngine.Current = run;
        Loading = lib;
        var L = engine.L;
        try
        {
            lua_settop(L, 0);
            engine.SetLoading(true);
            engine.PushErrorHandler();
            engine.PushRef(chunk);
            int status = PCall(L, 0, 0, 1);
            if (status != 0)
            {
                error = "ERR Error registering functions: " + engine.PopError(name, withLocation: false);
            }
        }
        finally
        {
            engine.SetLoading(false);
            lua_settop(L, 0);
            engine.Release(chunk);
            Loading = null;
            LuaEngine.Current = previous;
        }
        if (error is null && lib.Functions.Count == 0) error = "ERR No functions registered";
        if (error is null)
        {
            foreach (var f in lib.Functions)
            {
                if (_functions.TryGetValue(f.Name, out var other) && other.Library != existing)
                {
                    error = $"ERR Function {f.Name} already exists";
                    break;
                }
            }
        }
        if (error is not null || !commit)
        {
            if (error is not null) { ReleaseLibrary(lib); return null; }
        }
        if (existing is not null) Remove(existing);
        Add(lib);
        created = lib;
        return name;
    }

    private void Add(FunctionLibrary lib)
    {
        _libraries[lib.Name] = lib;
        foreach (var f in lib.Functions) _functions[f.Name] = f;
    }

    private void Remove(FunctionLibrary lib)
    {
        _libraries.Remove(lib.Name);
        foreach (var f in lib.Functions) _functions.Remove(f.Name);
        ReleaseLibrary(lib);
    }

    private void ReleaseLibrary(FunctionLibrary lib)
    {
        foreach (var f in lib.Functions) _state.FunctionEngine.Release(f.Ref);
    }

    public bool Delete(string name)
    {
        if (!_libraries.TryGetValue(name, out var lib)) return false;
        Remove(lib);
        return true;
    }

    public void Flush()
    {
        foreach (var lib in _libraries.Values.ToList()) Remove(lib);
    }

    /// <summary>
    /// FUNCTION RESTORE: loads every library of <paramref name="codes"/> with the policy, all or nothing.
    /// </summary>
    public string? Restore(List<string> codes, string policy)
    {
        // Keep the current set aside; on any failure put it back.
        var savedLibs = _libraries.Values.ToList();
        if (policy == "FLUSH")
        {
            _libraries.Clear();
            _functions.Clear();
        }
        var added = new List<FunctionLibrary>();
        var replaced = new List<FunctionLibrary>();
        string? error = null;
        foreach (var code in codes)
        {
            var name = ParseMetadata(code, out _, out error);
            if (name is null) break;
            if (_libraries.TryGetValue(name, out var old))
            {
                if (policy != "REPLACE") { error = $"ERR Library {name} already exists"; break; }
                _libraries.Remove(name);
                foreach (var f in old.Functions) _functions.Remove(f.Name);
                replaced.Add(old);
            }
            if (Load(code, false, out error, commit: true, out var lib) is null) break;
            added.Add(lib!);
        }
        if (error is not null)
        {
            foreach (var lib in added) Remove(lib);
            _libraries.Clear();
            _functions.Clear();
            foreach (var lib in savedLibs) Add(lib);
            return error;
        }
        foreach (var lib in replaced) ReleaseLibrary(lib);
        if (policy == "FLUSH")
        {
            foreach (var lib in savedLibs) if (!added.Contains(lib)) ReleaseLibrary(lib);
        }
        return null;
    }
}
