namespace Basalt.Server.Types;

/// <summary>
/// PFSELFTEST: register packing round trips at every index, then unique elements added to a dense and a
/// sparse HLL side by side, checking both estimate the same and stay within a few standard errors.
/// Lighter than Redis's run (up to 1M elements instead of 10M) because it holds the execution lock.
/// </summary>
public static class HyperLogLogSelfTest
{
    /// <summary>Null when every check passes, else the error reply.</summary>
    public static string? Run(long sparseMaxBytes)
    {
        var rng = new Random();
        var regs = new byte[HyperLogLog.DenseSize - HyperLogLog.HeaderSize];
        var expected = new byte[HyperLogLog.Registers];
        for (int round = 0; round < 16; round++)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                expected[i] = (byte)rng.Next(64);
                HyperLogLog.SetDense(regs, i, expected[i]);
            }
            for (int i = 0; i < expected.Length; i++)
            {
                int got = HyperLogLog.GetDense(regs, i);
                if (got != expected[i]) return $"TESTFAILED Register error, {got} should be {expected[i]}";
            }
        }

        var dense = new HllEditor();
        var sparse = new HllEditor();
        var d = HyperLogLog.SparseToDense(HyperLogLog.CreateSparse())!;
        dense.Load(d);
        sparse.Load(HyperLogLog.CreateSparse());
        double relerr = 1.04 / Math.Sqrt(HyperLogLog.Registers);
        Span<byte> ele = stackalloc byte[8];
        long checkpoint = 1;
        for (long j = 1; j <= 1_000_000; j++)
        {
            BitConverter.TryWriteBytes(ele, j);
            dense.Add(ele, sparseMaxBytes);
            sparse.Add(ele, sparseMaxBytes);
            if (j != checkpoint) continue;
            ulong a = HyperLogLog.Count(dense.Buf.AsSpan(0, dense.Len), out _);
            ulong b = HyperLogLog.Count(sparse.Buf.AsSpan(0, sparse.Len), out bool invalid);
            if (invalid || a != b) return $"TESTFAILED dense/sparse disagree: {a} vs {b}";
            double maxerr = Math.Max(1, Math.Ceiling(relerr * 6 * checkpoint));
            if (Math.Abs((double)checkpoint - a) > maxerr)
                return $"TESTFAILED Too big error. card:{a} abserr:{Math.Abs((double)checkpoint - a)}";
            checkpoint *= 10;
        }
        return null;
    }
}
