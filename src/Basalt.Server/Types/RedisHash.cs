using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Basalt.Server.Keyspace;

namespace Basalt.Server.Types;

/// <summary>
/// A Redis hash. Small hashes are "listpack": ONE byte[] holding a u16 pair count followed by
/// field, value, field, value... each as a LEB128 length and the bytes, in insertion order (as Redis's
/// listpack, so HGETALL order matches). Past hash-max-listpack-entries/-value it becomes "hashtable"
/// (a <see cref="KeyTable{TValue}"/>, whose stable entry indexes serve as HSCAN cursors); never back.
/// </summary>
public sealed class RedisHash : IRedisValue, IDigestible
{
    /// <summary>The u16 pair count caps a listpack; beyond it the hash converts whatever the config says.</summary>
    private const int MaxPackedPairs = ushort.MaxValue;

    // A listpack is kept in the keyspace as is, without this wrapper (24 bytes a key saved): an array of
    // HashPackByte, so that `is` tells it from a string's byte[], handled as the byte[] it is laid out like.
    // Commands get a RedisHash view bound to the key's slot (CommandContext.TryLookup), which stores every new
    // array, or the table a conversion makes, back into that slot.
    private static byte[] NewPack(int length) => Unsafe.As<byte[]>(new HashPackByte[length]);

    private static readonly byte[] EmptyPack = NewPack(2);

    private object _data; // listpack (a HashPackByte[] seen as byte[]) or KeyTable<byte[]>
    private KeySlot _slot; // bound on a view of a stored listpack

    public RedisHash() => _data = EmptyPack;

    private RedisHash(object data) => _data = data;

    /// <summary>True for a listpack hash stored in the keyspace without its wrapper.</summary>
    public static bool IsPack(object? value) => value is HashPackByte[];

    /// <summary>The keyspace value for a hash built outside the keyspace (loading, COPY): the bare listpack or this.</summary>
    public object Stored => _data is KeyTable<byte[]> ? this : _data;

    /// <summary>A stored hash value (bare listpack or RedisHash) as a RedisHash not bound to any slot, for readers.</summary>
    public static RedisHash? Readable(object? value) => value as RedisHash ?? (value is HashPackByte[] p ? new RedisHash(p) : null);

    /// <summary>Points this view at a bare listpack; writes go back to <paramref name="slot"/> when it is bound.</summary>
    internal void Bind(object pack, KeySlot slot)
    {
        _data = pack;
        _slot = slot;
    }

    private void SetData(object data)
    {
        _data = data;
        if (_slot.IsBound) _slot.Store(data is KeyTable<byte[]> t ? new RedisHash(t) : data);
    }

    private byte[]? Lp => _data is KeyTable<byte[]> ? null : Unsafe.As<byte[]>(_data);

    public string TypeName => "hash";
    public string Encoding => _data is KeyTable<byte[]> ? "hashtable" : "listpack";
    public bool IsListpack => _data is not KeyTable<byte[]>;

    public int Count => Lp is { } lp ? BinaryPrimitives.ReadUInt16LittleEndian(lp) : ((KeyTable<byte[]>)_data).Count;

    internal KeyTable<byte[]>? Table => _data as KeyTable<byte[]>;

    public IRedisValue Clone()
    {
        if (Lp is { } lp)
        {
            if (lp.Length == 2) return new RedisHash(EmptyPack);
            var packCopy = NewPack(lp.Length);
            lp.AsSpan().CopyTo(packCopy);
            return new RedisHash(packCopy);
        }
        var src = (KeyTable<byte[]>)_data;
        var copy = new KeyTable<byte[]>(src.Count);
        for (int i = 0; i < src.Capacity; i++)
            if (src.IsUsed(i)) copy.Set(src.KeyAt(i).AsSpan().ToArray(), src.ValueAt(i).AsSpan().ToArray());
        return new RedisHash(copy);
    }

    // ---- listpack primitives ----

    private static int ReadLen(byte[] lp, ref int pos)
    {
        int len = 0, shift = 0;
        while (true)
        {
            byte b = lp[pos++];
            len |= (b & 0x7F) << shift;
            if (b < 0x80) return len;
            shift += 7;
        }
    }

    private static int LenSize(int len) => len < 0x80 ? 1 : len < 0x4000 ? 2 : len < 0x200000 ? 3 : len < 0x10000000 ? 4 : 5;

    private static int WriteLen(Span<byte> dst, int len)
    {
        int n = 0;
        while (len >= 0x80) { dst[n++] = (byte)(len | 0x80); len >>= 7; }
        dst[n++] = (byte)len;
        return n;
    }

    private static int EntrySize(int len) => LenSize(len) + len;

    /// <summary>Offset of the field entry equal to <paramref name="field"/>, or -1.</summary>
    private static int FindField(byte[] lp, ReadOnlySpan<byte> field)
    {
        int pos = 2;
        while (pos < lp.Length)
        {
            int start = pos;
            int flen = ReadLen(lp, ref pos);
            bool eq = flen == field.Length && lp.AsSpan(pos, flen).SequenceEqual(field);
            pos += flen;
            int vlen = ReadLen(lp, ref pos);
            if (eq) return start;
            pos += vlen;
        }
        return -1;
    }

    /// <summary>Field and value spans of the pair at <paramref name="pos"/>; advances past it.</summary>
    private static void ReadPair(byte[] lp, scoped ref int pos, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        int flen = ReadLen(lp, ref pos);
        field = lp.AsSpan(pos, flen);
        pos += flen;
        int vlen = ReadLen(lp, ref pos);
        value = lp.AsSpan(pos, vlen);
        pos += vlen;
    }

    // ---- operations ----

    public bool TryGet(ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        if (Lp is { } lp)
        {
            int pos = FindField(lp, field);
            if (pos < 0) { value = default; return false; }
            ReadPair(lp, ref pos, out _, out value);
            return true;
        }
        if (((KeyTable<byte[]>)_data).TryGetValue(field, out var v)) { value = v; return true; }
        value = default;
        return false;
    }

    public bool Contains(ReadOnlySpan<byte> field) =>
        Lp is { } lp ? FindField(lp, field) >= 0 : ((KeyTable<byte[]>)_data).ContainsKey(field);

    /// <summary>Converts to a hashtable when a field or value about to be written is longer than the listpack allows.</summary>
    public void ConvertIfTooLong(int length, long maxValue)
    {
        if (IsListpack && length > maxValue) Convert();
    }

    /// <summary>Sets a field; true when it is new. Converts when limits are passed (as Redis: lengths before, count after).</summary>
    public bool Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, long maxEntries, long maxValue)
    {
        if (IsListpack && (field.Length > maxValue || value.Length > maxValue)) Convert();
        if (_data is KeyTable<byte[]> table)
        {
            ref byte[] slot = ref table.GetValueRefOrAdd(field, out bool exists);
            if (exists && slot.Length == value.Length) value.CopyTo(slot);
            else slot = value.ToArray();
            return !exists;
        }
        var lp = Unsafe.As<byte[]>(_data);
        int pos = FindField(lp, field);
        if (pos >= 0)
        {
            int p = pos;
            int flen = ReadLen(lp, ref p);
            p += flen;
            int vstart = p;
            int vlen = ReadLen(lp, ref p);
            if (vlen == value.Length) { value.CopyTo(lp.AsSpan(p)); return false; }
            // Rebuild with the value entry replaced in place (order is kept).
            int oldSize = EntrySize(vlen), newSize = EntrySize(value.Length);
            var nb = NewPack(lp.Length - oldSize + newSize);
            lp.AsSpan(0, vstart).CopyTo(nb);
            int w = vstart + WriteLen(nb.AsSpan(vstart), value.Length);
            value.CopyTo(nb.AsSpan(w));
            lp.AsSpan(vstart + oldSize).CopyTo(nb.AsSpan(w + value.Length));
            SetData(nb);
            return false;
        }
        int count = BinaryPrimitives.ReadUInt16LittleEndian(lp);
        if (count >= MaxPackedPairs)
        {
            Convert();
            return Set(field, value, maxEntries, maxValue);
        }
        var grown = NewPack(lp.Length + EntrySize(field.Length) + EntrySize(value.Length));
        lp.AsSpan().CopyTo(grown);
        int o = lp.Length;
        o += WriteLen(grown.AsSpan(o), field.Length);
        field.CopyTo(grown.AsSpan(o));
        o += field.Length;
        o += WriteLen(grown.AsSpan(o), value.Length);
        value.CopyTo(grown.AsSpan(o));
        BinaryPrimitives.WriteUInt16LittleEndian(grown, (ushort)(count + 1));
        SetData(grown);
        if (count + 1 > maxEntries) Convert();
        return true;
    }

    public bool Delete(ReadOnlySpan<byte> field)
    {
        if (_data is KeyTable<byte[]> table) return table.Remove(field);
        var lp = Unsafe.As<byte[]>(_data);
        int pos = FindField(lp, field);
        if (pos < 0) return false;
        int end = pos;
        ReadPair(lp, ref end, out _, out _);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(lp) - 1;
        if (count == 0) { SetData(EmptyPack); return true; }
        var nb = NewPack(lp.Length - (end - pos));
        lp.AsSpan(0, pos).CopyTo(nb);
        lp.AsSpan(end).CopyTo(nb.AsSpan(pos));
        BinaryPrimitives.WriteUInt16LittleEndian(nb, (ushort)count);
        SetData(nb);
        return true;
    }

    /// <summary>Switches to the hashtable encoding.</summary>
    public void Convert()
    {
        if (Lp is not { } lp) return;
        var table = new KeyTable<byte[]>(BinaryPrimitives.ReadUInt16LittleEndian(lp));
        int pos = 2;
        while (pos < lp.Length)
        {
            ReadPair(lp, ref pos, out var f, out var v);
            table.Set(f.ToArray(), v.ToArray());
        }
        SetData(table);
    }

    /// <summary>Pair number <paramref name="ordinal"/> of a listpack (0-based).</summary>
    public void PackedPairAt(int ordinal, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        var lp = Unsafe.As<byte[]>(_data);
        int pos = 2;
        for (int i = 0; i < ordinal; i++) ReadPair(lp, ref pos, out _, out _);
        ReadPair(lp, ref pos, out field, out value);
    }

    /// <summary>A random pair (uniform over pairs).</summary>
    public void RandomPair(Random rng, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        if (IsListpack) { PackedPairAt(rng.Next(Count), out field, out value); return; }
        var t = (KeyTable<byte[]>)_data;
        int i = t.RandomIndex(rng);
        field = t.KeyAt(i);
        value = t.ValueAt(i);
    }

    public Enumerator GetEnumerator() => new(this);

    /// <summary>Walks pairs in storage order (insertion order for listpacks).</summary>
    public ref struct Enumerator
    {
        private readonly byte[]? _lp;
        private readonly KeyTable<byte[]>? _table;
        private int _pos;

        internal Enumerator(RedisHash h)
        {
            _lp = h.Lp;
            _table = h._data as KeyTable<byte[]>;
            _pos = _lp is null ? -1 : 2;
            Field = default;
            Value = default;
        }

        public ReadOnlySpan<byte> Field { get; private set; }
        public ReadOnlySpan<byte> Value { get; private set; }

        public bool MoveNext()
        {
            if (_lp is not null)
            {
                if (_pos >= _lp.Length) return false;
                ReadPair(_lp, ref _pos, out var f, out var v);
                Field = f;
                Value = v;
                return true;
            }
            while (++_pos < _table!.Capacity)
            {
                if (!_table.IsUsed(_pos)) continue;
                Field = _table.KeyAt(_pos);
                Value = _table.ValueAt(_pos);
                return true;
            }
            return false;
        }
    }

    public void AddToDigest(Span<byte> digest)
    {
        Span<byte> ele = stackalloc byte[Digest.Size];
        var e = GetEnumerator();
        while (e.MoveNext())
        {
            ele.Clear();
            Digest.Mix(ele, e.Field);
            Digest.Mix(ele, e.Value);
            Digest.Xor(digest, ele);
        }
    }
}

/// <summary>The element type of a bare listpack hash in the keyspace: one byte, so the array is laid out as a byte[].</summary>
public struct HashPackByte
{
    public byte Value;
}
