namespace Basalt.Server.Persistence.Rdb;

/// <summary>
/// LZF (the format Redis uses for compressed RDB strings). A control byte below 32 starts a literal run of
/// ctrl+1 bytes; otherwise the top 3 bits are a match length (7 = an extra length byte follows) and the low
/// 5 bits plus the next byte are the back-reference distance minus one; a match copies length+2 bytes.
/// </summary>
public static class Lzf
{
    private const int MaxLiteral = 32;
    private const int MaxOffset = 1 << 13;
    private const int MaxMatch = 7 + 255 + 2;
    private const int HashBits = 14;

    /// <summary>
    /// Compresses <paramref name="input"/> into <paramref name="output"/>; returns the compressed length,
    /// or 0 when the result does not fit in <paramref name="output"/> (the caller then stores the string raw).
    /// </summary>
    public static int Compress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int n = input.Length;
        if (n == 0) return 0;
        Span<int> table = stackalloc int[1 << HashBits];
        table.Fill(-1);
        int ip = 0, op = 0;
        int litStart = 0; // literals pending in input[litStart..ip)

        while (ip + 2 < n)
        {
            uint h = (uint)((input[ip] << 16) | (input[ip + 1] << 8) | input[ip + 2]);
            h = (h * 2654435761u) >> (32 - HashBits);
            int cand = table[(int)h];
            table[(int)h] = ip;
            int off = ip - cand - 1;
            if (cand >= 0 && off < MaxOffset && input[cand] == input[ip] && input[cand + 1] == input[ip + 1] && input[cand + 2] == input[ip + 2])
            {
                int len = 3, max = Math.Min(MaxMatch, n - ip);
                while (len < max && input[cand + len] == input[ip + len]) len++;
                if (!FlushLiterals(input, litStart, ip, output, ref op)) return 0;
                int l = len - 2;
                if (l < 7)
                {
                    if (op + 2 > output.Length) return 0;
                    output[op++] = (byte)((l << 5) | (off >> 8));
                }
                else
                {
                    if (op + 3 > output.Length) return 0;
                    output[op++] = (byte)((7 << 5) | (off >> 8));
                    output[op++] = (byte)(l - 7);
                }
                output[op++] = (byte)off;
                // Index a couple of positions inside the match so later repeats are found.
                int end = ip + len;
                for (int p = ip + 1; p < end && p + 2 < n; p++)
                {
                    uint hh = (uint)((input[p] << 16) | (input[p + 1] << 8) | input[p + 2]);
                    table[(int)((hh * 2654435761u) >> (32 - HashBits))] = p;
                }
                ip = end;
                litStart = ip;
            }
            else ip++;
        }
        if (!FlushLiterals(input, litStart, n, output, ref op)) return 0;
        return op;
    }

    private static bool FlushLiterals(ReadOnlySpan<byte> input, int from, int to, Span<byte> output, ref int op)
    {
        while (from < to)
        {
            int run = Math.Min(MaxLiteral, to - from);
            if (op + 1 + run > output.Length) return false;
            output[op++] = (byte)(run - 1);
            input.Slice(from, run).CopyTo(output.Slice(op));
            op += run;
            from += run;
        }
        return true;
    }

    /// <summary>
    /// Decompresses all of <paramref name="input"/> into <paramref name="output"/>; returns the number of bytes
    /// produced, or -1 on any malformation (a run or reference past either end, or output overflow).
    /// </summary>
    public static int Decompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int ip = 0, op = 0;
        while (ip < input.Length)
        {
            int ctrl = input[ip++];
            if (ctrl < 32)
            {
                int run = ctrl + 1;
                if (ip + run > input.Length || op + run > output.Length) return -1;
                input.Slice(ip, run).CopyTo(output.Slice(op));
                ip += run; op += run;
            }
            else
            {
                int len = ctrl >> 5;
                if (len == 7)
                {
                    if (ip >= input.Length) return -1;
                    len += input[ip++];
                }
                if (ip >= input.Length) return -1;
                int back = ((ctrl & 0x1f) << 8) + input[ip++] + 1;
                int refPos = op - back;
                len += 2;
                if (refPos < 0 || op + len > output.Length) return -1;
                // Byte by byte: the source may overlap the bytes being written (run-length style).
                for (int k = 0; k < len; k++) output[op + k] = output[refPos + k];
                op += len;
            }
        }
        return op;
    }
}
