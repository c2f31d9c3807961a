using Basalt.Server.Types;

namespace Basalt.Tests;

/// <summary>
/// In-process checks of HLL paths that real inputs reach too rarely for the differential tests:
/// a run length above the sparse VAL range (a 1 in 2^32 hash) and the register packing at the edges.
/// </summary>
public class HyperLogLogUnitTests
{
    [Fact]
    public void Value_above_sparse_range_promotes_to_dense_keeping_the_header()
    {
        var editor = new HllEditor();
        var sparse = HyperLogLog.CreateSparse();
        sparse[5] = 7; // an unused header byte travels with the conversion, as in Redis
        editor.Load(sparse);
        Assert.Equal(1, editor.SparseSet(100, 3, 3000));
        Assert.False(editor.IsDense);
        Assert.Equal(1, editor.SparseSet(5, HyperLogLog.SparseValMaxValue + 1, 3000));
        Assert.True(editor.IsDense);
        var dense = editor.Result();
        Assert.Equal(HyperLogLog.DenseSize, dense.Length);
        Assert.Equal(7, dense[5]);
        Assert.Equal(HyperLogLog.EncDense, dense[4]);
        var regs = dense.AsSpan(HyperLogLog.HeaderSize);
        Assert.Equal(33, HyperLogLog.GetDense(regs, 5));
        Assert.Equal(3, HyperLogLog.GetDense(regs, 100));
        Assert.Equal(0, HyperLogLog.GetDense(regs, 6));
    }

    [Fact]
    public void Sparse_set_on_corrupted_value_reports_it_without_changing_it()
    {
        var editor = new HllEditor();
        var v = HyperLogLog.CreateSparse();
        v[17] = 0xfe; // XZERO now covers 16383 registers
        editor.Load(v);
        Assert.Equal(-1, editor.SparseSet(16383, 1, 3000));
        Assert.Equal(-1, editor.SparseSet(16383, 40, 3000)); // the promotion path validates too
        Assert.Equal(0xfe, editor.Result()[17]);
    }

    [Fact]
    public void Dense_registers_round_trip_at_the_edges_of_the_string()
    {
        var regs = new byte[HyperLogLog.DenseSize - HyperLogLog.HeaderSize];
        HyperLogLog.SetDense(regs, HyperLogLog.Registers - 1, 63);
        HyperLogLog.SetDense(regs, HyperLogLog.Registers - 2, 1);
        HyperLogLog.SetDense(regs, 0, 42);
        Assert.Equal(63, HyperLogLog.GetDense(regs, HyperLogLog.Registers - 1));
        Assert.Equal(1, HyperLogLog.GetDense(regs, HyperLogLog.Registers - 2));
        Assert.Equal(42, HyperLogLog.GetDense(regs, 0));
        Assert.Equal(0xfc, regs[^1]);
    }

    [Fact]
    public void Same_length_sparse_update_reuses_the_stored_array()
    {
        var editor = new HllEditor();
        var v = HyperLogLog.CreateSparse();
        editor.Load(v);
        Assert.Equal(1, editor.SparseSet(0, 2, 3000));
        var grown = editor.Result();
        Assert.NotSame(v, grown); // XZERO split: longer
        editor.Load(grown);
        Assert.Equal(1, editor.SparseSet(0, 5, 3000)); // VAL value raised in place
        Assert.Same(grown, editor.Result());
        Assert.Equal(0, editor.SparseSet(0, 4, 3000));
        Assert.Equal(0u, HyperLogLog.Count(HyperLogLog.CreateSparse(), out bool invalid));
        Assert.False(invalid);
    }
}
