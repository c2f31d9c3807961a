namespace Basalt.Server.Types;

/// <summary>
/// Applies register updates to one HLL value. A dense value is edited in place; a sparse value is copied
/// once into a growable scratch buffer (so a PFADD of many elements does not allocate per element) and
/// turned back into an exact-length string by <see cref="Result"/>. Used under the execution lock only.
/// </summary>
public sealed class HllEditor
{
    private byte[] _scratch = new byte[256];
    private byte[] _original = [];

    /// <summary>The value being edited: the stored array (dense), the scratch (sparse) or a promoted dense array.</summary>
    public byte[] Buf = [];

    /// <summary>Length of the value in <see cref="Buf"/>.</summary>
    public int Len;

    public bool IsDense => Buf[4] == HyperLogLog.EncDense;

    /// <summary>True when the edits went straight into the stored array (nothing to store back).</summary>
    public bool InPlace => ReferenceEquals(Buf, _original);

    public void Load(byte[] value)
    {
        _original = value;
        if (value[4] == HyperLogLog.EncDense) { Buf = value; Len = value.Length; return; }
        Reserve(value.Length + 8);
        value.CopyTo(_scratch, 0);
        Buf = _scratch;
        Len = value.Length;
        Buf.AsSpan(Len, 8).Clear();
    }

    /// <summary>The edited value as an exact-length string (the stored array itself when edited in place).</summary>
    public byte[] Result()
    {
        if (InPlace || (Buf != _scratch && Buf.Length == Len)) return Buf;
        if (Buf == _scratch && _original.Length == Len)
        {
            // Same length (a register raised inside a VAL opcode): reuse the stored array.
            Buf.AsSpan(0, Len).CopyTo(_original);
            return _original;
        }
        return Buf.AsSpan(0, Len).ToArray();
    }

    /// <summary>Forgets the edited value, and drops a scratch buffer grown by an unusually large sparse string.</summary>
    public void Release()
    {
        _original = [];
        Buf = [];
        Len = 0;
        if (_scratch.Length > 64 * 1024) _scratch = new byte[256];
    }

    private void Reserve(int size)
    {
        if (_scratch.Length >= size) return;
        _scratch = new byte[Math.Max(size, _scratch.Length * 2)];
    }

    /// <summary>Adds an element: 1 when a register changed, 0 when not, -1 for a corrupted sparse value.</summary>
    public int Add(ReadOnlySpan<byte> element, long sparseMaxBytes)
    {
        int count = HyperLogLog.PatternLength(element, out int index);
        if (IsDense) return HyperLogLog.DenseRaise(Buf.AsSpan(HyperLogLog.HeaderSize, Len - HyperLogLog.HeaderSize), index, count) ? 1 : 0;
        return SparseSet(index, count, sparseMaxBytes);
    }

    /// <summary>Raises one register of a dense value.</summary>
    public bool DenseSet(int index, int count) =>
        HyperLogLog.DenseRaise(Buf.AsSpan(HyperLogLog.HeaderSize, Len - HyperLogLog.HeaderSize), index, count);

    /// <summary>Converts a sparse value to dense; false when it is corrupted.</summary>
    public bool ToDense()
    {
        if (IsDense) return true;
        var dense = HyperLogLog.SparseToDense(Buf.AsSpan(0, Len));
        if (dense is null) return false;
        Buf = dense;
        Len = dense.Length;
        return true;
    }

    /// <summary>
    /// Raises register <paramref name="index"/> of a sparse value to <paramref name="count"/>, splitting the opcode
    /// that covers it exactly as Redis does (so the bytes match), promoting to dense when the value does not fit a
    /// VAL opcode or the string would grow past hll-sparse-max-bytes. 1 changed, 0 unchanged, -1 corrupted.
    /// </summary>
    public int SparseSet(int index, int count, long sparseMaxBytes)
    {
        if (count > HyperLogLog.SparseValMaxValue) return Promote(index, count);
        if (Buf.Length < Len + 8)
        {
            // Only the scratch is ever sparse here; grow it keeping the contents and the zero padding.
            var grown = new byte[Math.Max(Len + 8, Buf.Length * 2)];
            Buf.AsSpan(0, Len).CopyTo(grown);
            _scratch = Buf = grown;
        }
        var s = Buf;
        int end = Len;

        // Find the opcode covering the register; prev is the one before it (-1 when none).
        int p = HyperLogLog.HeaderSize, prev = -1, first = 0, span = 0;
        while (p < end)
        {
            byte op = s[p];
            int oplen = 1;
            if (HyperLogLog.IsZero(op)) span = HyperLogLog.ZeroLen(op);
            else if (HyperLogLog.IsVal(op)) span = HyperLogLog.ValLen(op);
            else { span = HyperLogLog.XZeroLen(op, s[p + 1]); oplen = 2; }
            if (index <= first + span - 1) break;
            prev = p;
            p += oplen;
            first += span;
        }
        if (span == 0 || p >= end) return -1;

        byte cur = s[p];
        bool isZero = HyperLogLog.IsZero(cur), isXZero = HyperLogLog.IsXZero(cur), isVal = HyperLogLog.IsVal(cur);
        int next = isXZero ? p + 2 : p + 1;
        if (next >= end) next = -1;
        int runlen = isZero ? HyperLogLog.ZeroLen(cur) : isXZero ? HyperLogLog.XZeroLen(cur, s[p + 1]) : HyperLogLog.ValLen(cur);

        if (isVal)
        {
            int old = HyperLogLog.ValValue(cur);
            if (old >= count) return 0;
            if (runlen == 1) { s[p] = HyperLogLog.ValOp(count, 1); return Updated(prev, p); }
        }
        if (isZero && runlen == 1) { s[p] = HyperLogLog.ValOp(count, 1); return Updated(prev, p); }

        // General case: replace the opcode with up to three (zeros/old value before, the new value, after).
        Span<byte> seq = stackalloc byte[5];
        int n = 0, last = first + span - 1;
        if (isZero || isXZero)
        {
            if (index != first) n += PutZeros(seq, n, index - first);
            seq[n++] = HyperLogLog.ValOp(count, 1);
            if (index != last) n += PutZeros(seq, n, last - index);
        }
        else
        {
            int curval = HyperLogLog.ValValue(cur);
            if (index != first) seq[n++] = HyperLogLog.ValOp(curval, index - first);
            seq[n++] = HyperLogLog.ValOp(count, 1);
            if (index != last) seq[n++] = HyperLogLog.ValOp(curval, last - index);
        }

        int oldlen = isXZero ? 2 : 1;
        int delta = n - oldlen;
        if (delta > 0 && Len + delta > sparseMaxBytes) return Promote(index, count);
        if (delta != 0 && next >= 0) Array.Copy(s, next, s, next + delta, end - next);
        Len += delta;
        s[Len] = 0; // the terminating NUL a truncated opcode at the end would read (set before the copy, as Redis does)
        seq[..n].CopyTo(s.AsSpan(p));
        return Updated(prev, p);

        static int PutZeros(Span<byte> seq, int at, int len)
        {
            if (len > HyperLogLog.SparseZeroMaxLen) { HyperLogLog.SetXZero(seq, at, len); return 2; }
            seq[at] = HyperLogLog.ZeroOp(len);
            return 1;
        }
    }

    /// <summary>After a change, merges adjacent VAL opcodes with equal values (up to 5 opcodes from prev).</summary>
    private int Updated(int prev, int p)
    {
        var s = Buf;
        int end = Len;
        p = prev >= 0 ? prev : HyperLogLog.HeaderSize;
        int scan = 5;
        while (p < end && scan-- > 0)
        {
            byte op = s[p];
            if (HyperLogLog.IsXZero(op)) { p += 2; continue; }
            if (HyperLogLog.IsZero(op)) { p++; continue; }
            if (p + 1 < end && HyperLogLog.IsVal(s[p + 1]))
            {
                int v1 = HyperLogLog.ValValue(op), v2 = HyperLogLog.ValValue(s[p + 1]);
                if (v1 == v2)
                {
                    int len = HyperLogLog.ValLen(op) + HyperLogLog.ValLen(s[p + 1]);
                    if (len <= HyperLogLog.SparseValMaxLen)
                    {
                        s[p + 1] = HyperLogLog.ValOp(v1, len);
                        Array.Copy(s, p + 1, s, p, end - p);
                        end--;
                        Len--;
                        continue; // try merging the result with the opcode on its right
                    }
                }
            }
            p++;
        }
        HyperLogLog.InvalidateCache(s);
        return 1;
    }

    private int Promote(int index, int count)
    {
        if (!ToDense()) return -1;
        DenseSet(index, count);
        return 1;
    }
}
