namespace Basalt.Server.Types;

/// <summary>
/// Cardinality estimation over the register histogram: Ertl's improved estimator ("New cardinality
/// estimation algorithms for HyperLogLog sketches", 2017), which Redis 7 uses, with the same
/// floating-point steps so the rounded results agree.
/// </summary>
public static partial class HyperLogLog
{
    private const double AlphaInf = 0.721347520444481703680; // 1 / (2 ln 2)

    /// <summary>Estimate for a value (dense or sparse); <paramref name="invalid"/> when sparse opcodes do not cover every register.</summary>
    public static ulong Count(ReadOnlySpan<byte> v, out bool invalid)
    {
        Span<int> histo = stackalloc int[64];
        invalid = false;
        if (IsDense(v)) DenseHistogram(v[HeaderSize..], histo);
        else invalid = !SparseHistogram(v[HeaderSize..], histo);
        return Estimate(histo);
    }

    /// <summary>Estimate for 8-bit registers (the union PFCOUNT builds over several keys).</summary>
    public static ulong CountRaw(ReadOnlySpan<byte> max)
    {
        Span<int> histo = stackalloc int[64];
        foreach (byte r in max) histo[r & 63]++;
        return Estimate(histo);
    }

    private static void DenseHistogram(ReadOnlySpan<byte> regs, Span<int> histo)
    {
        for (int g = 0; g < regs.Length; g += 3)
        {
            int b0 = regs[g], b1 = regs[g + 1], b2 = regs[g + 2];
            histo[b0 & 63]++;
            histo[(b0 >> 6) | ((b1 & 15) << 2)]++;
            histo[(b1 >> 4) | ((b2 & 3) << 4)]++;
            histo[b2 >> 2]++;
        }
    }

    private static bool SparseHistogram(ReadOnlySpan<byte> s, Span<int> histo)
    {
        int idx = 0, p = 0;
        while (p < s.Length)
        {
            byte op = s[p];
            if (IsZero(op)) { int run = ZeroLen(op); idx += run; histo[0] += run; p++; }
            else if (IsXZero(op)) { int run = XZeroLen(op, At(s, p + 1)); idx += run; histo[0] += run; p += 2; }
            else { int run = ValLen(op); idx += run; histo[ValValue(op)] += run; p++; }
        }
        return idx == Registers;
    }

    private static ulong Estimate(ReadOnlySpan<int> histo)
    {
        const double m = Registers;
        double z = m * Tau((m - histo[Q + 1]) / m);
        for (int j = Q; j >= 1; j--)
        {
            z += histo[j];
            z *= 0.5;
        }
        z += m * Sigma(histo[0] / m);
        double e = AlphaInf * m * m / z;
        return (ulong)(long)Math.Round(e, MidpointRounding.AwayFromZero);
    }

    private static double Sigma(double x)
    {
        if (x == 1.0) return double.PositiveInfinity;
        double y = 1, z = x, prev;
        do
        {
            x *= x;
            prev = z;
            z += x * y;
            y += y;
        } while (prev != z);
        return z;
    }

    private static double Tau(double x)
    {
        if (x == 0.0 || x == 1.0) return 0.0;
        double y = 1.0, z = 1 - x, prev;
        do
        {
            x = Math.Sqrt(x);
            prev = z;
            y *= 0.5;
            double d = 1 - x;
            z -= d * d * y; // the compiler turns Redis's pow(1 - x, 2) into this product
        } while (prev != z);
        return z / 3;
    }
}
