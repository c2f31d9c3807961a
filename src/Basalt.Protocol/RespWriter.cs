using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Basalt.Protocol;

/// <summary>
/// Writes RESP2/RESP3 values into a growable buffer rented from the shared pool.
/// Every call site writes whole values; growth is handled here so callers never retry.
/// In RESP2 mode the RESP3-only types are downgraded exactly as Redis does
/// (maps become flat arrays, doubles become bulk strings, null becomes $-1 or *-1, ...).
/// </summary>
public sealed class RespWriter : IDisposable
{
    private byte[] _buf;
    private int _pos;

    public RespWriter(int initialSize = 16 * 1024)
    {
        _buf = BufferPool.Rent(initialSize);
    }

    /// <summary>2 or 3; decides how RESP3-only types are encoded.</summary>
    public int Protocol { get; set; } = 2;

    public bool IsResp3 => Protocol >= 3;

    public int Length => _pos;

    public ReadOnlySpan<byte> WrittenSpan => _buf.AsSpan(0, _pos);

    public ReadOnlyMemory<byte> WrittenMemory => _buf.AsMemory(0, _pos);

    public byte[] Buffer => _buf;

    public void Reset() => _pos = 0;

    /// <summary>Drops everything written after <paramref name="length"/> (used to undo a partial reply).</summary>
    public void Truncate(int length) => _pos = Math.Min(_pos, length);

    /// <summary>Removes the first <paramref name="count"/> bytes (after a partial send).</summary>
    public void Consume(int count)
    {
        if (count >= _pos) { _pos = 0; return; }
        System.Buffer.BlockCopy(_buf, count, _buf, 0, _pos - count);
        _pos -= count;
    }

    /// <summary>Shrinks an oversized buffer back after a big reply has been sent.</summary>
    public void TrimIfIdle(int keepBytes = 64 * 1024)
    {
        if (_pos == 0 && _buf.Length > keepBytes * 4)
        {
            BufferPool.Return(_buf);
            _buf = BufferPool.Rent(keepBytes);
        }
    }

    public Span<byte> GetSpan(int size)
    {
        if (_buf.Length - _pos < size) Grow(size);
        return _buf.AsSpan(_pos);
    }

    public void Advance(int count) => _pos += count;

    private void Grow(int size)
    {
        long wanted = Math.Max((long)_buf.Length * 2, (long)_pos + size);
        if (wanted > Array.MaxLength) wanted = Array.MaxLength;
        var nb = BufferPool.Rent((int)wanted);
        System.Buffer.BlockCopy(_buf, 0, nb, 0, _pos);
        BufferPool.Return(_buf);
        _buf = nb;
    }

    public void WriteRaw(ReadOnlySpan<byte> data)
    {
        var span = GetSpan(data.Length);
        data.CopyTo(span);
        _pos += data.Length;
    }

    public void WriteRaw(string ascii)
    {
        var span = GetSpan(Encoding.UTF8.GetMaxByteCount(ascii.Length));
        _pos += Encoding.UTF8.GetBytes(ascii, span);
    }

    private void WritePrefixedNumber(byte prefix, long value)
    {
        var span = GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out int n);
        span[1 + n] = (byte)'\r';
        span[2 + n] = (byte)'\n';
        _pos += n + 3;
    }

    public void WriteOk() => WriteRaw("+OK\r\n"u8);

    public void WriteSimpleString(ReadOnlySpan<byte> s)
    {
        var span = GetSpan(s.Length + 3);
        span[0] = (byte)'+';
        s.CopyTo(span[1..]);
        span[1 + s.Length] = (byte)'\r';
        span[2 + s.Length] = (byte)'\n';
        _pos += s.Length + 3;
    }

    public void WriteSimpleString(string s)
    {
        var span = GetSpan(Encoding.UTF8.GetMaxByteCount(s.Length) + 3);
        span[0] = (byte)'+';
        int n = Encoding.UTF8.GetBytes(s, span[1..]);
        span[1 + n] = (byte)'\r';
        span[2 + n] = (byte)'\n';
        _pos += n + 3;
    }

    /// <summary>Writes an error line; <paramref name="message"/> includes its prefix (ERR, WRONGTYPE, ...).</summary>
    public void WriteError(string message)
    {
        var span = GetSpan(Encoding.UTF8.GetMaxByteCount(message.Length) + 3);
        span[0] = (byte)'-';
        int n = Encoding.UTF8.GetBytes(message, span[1..]);
        // Errors are single lines: newlines would break the framing, Redis replaces them with spaces.
        for (int i = 1; i <= n; i++) if (span[i] == '\r' || span[i] == '\n') span[i] = (byte)' ';
        span[1 + n] = (byte)'\r';
        span[2 + n] = (byte)'\n';
        _pos += n + 3;
    }

    public void WriteError(ReadOnlySpan<byte> message)
    {
        var span = GetSpan(message.Length + 3);
        span[0] = (byte)'-';
        message.CopyTo(span[1..]);
        span[1 + message.Length] = (byte)'\r';
        span[2 + message.Length] = (byte)'\n';
        _pos += message.Length + 3;
    }

    public void WriteInteger(long value)
    {
        // Small integers are the most common reply; skip the formatter for them.
        if ((ulong)value < 10)
        {
            var span = GetSpan(4);
            span[0] = (byte)':'; span[1] = (byte)('0' + value); span[2] = (byte)'\r'; span[3] = (byte)'\n';
            _pos += 4;
            return;
        }
        WritePrefixedNumber((byte)':', value);
    }

    public void WriteBulk(ReadOnlySpan<byte> value)
    {
        var span = GetSpan(value.Length + 24);
        span[0] = (byte)'$';
        Utf8Formatter.TryFormat(value.Length, span[1..], out int n);
        int p = 1 + n;
        span[p++] = (byte)'\r'; span[p++] = (byte)'\n';
        value.CopyTo(span[p..]);
        p += value.Length;
        span[p++] = (byte)'\r'; span[p++] = (byte)'\n';
        _pos += p;
    }

    public void WriteBulk(string value)
    {
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 512)
        {
            Span<byte> tmp = stackalloc byte[max];
            int n = Encoding.UTF8.GetBytes(value, tmp);
            WriteBulk(tmp[..n]);
        }
        else
        {
            WriteBulk(Encoding.UTF8.GetBytes(value));
        }
    }

    /// <summary>A bulk string holding the decimal form of <paramref name="value"/>.</summary>
    public void WriteBulkInteger(long value)
    {
        Span<byte> tmp = stackalloc byte[24];
        Utf8Formatter.TryFormat(value, tmp, out int n);
        WriteBulk(tmp[..n]);
    }

    /// <summary>Null bulk: $-1 in RESP2, _ in RESP3.</summary>
    public void WriteNull()
    {
        if (IsResp3) WriteRaw("_\r\n"u8); else WriteRaw("$-1\r\n"u8);
    }

    /// <summary>Null array: *-1 in RESP2, _ in RESP3.</summary>
    public void WriteNullArray()
    {
        if (IsResp3) WriteRaw("_\r\n"u8); else WriteRaw("*-1\r\n"u8);
    }

    public void WriteArrayHeader(long count) => WritePrefixedNumber((byte)'*', count);

    /// <summary>Map of <paramref name="pairs"/> entries: % in RESP3, flat array of 2n in RESP2.</summary>
    public void WriteMapHeader(long pairs)
    {
        if (IsResp3) WritePrefixedNumber((byte)'%', pairs); else WritePrefixedNumber((byte)'*', pairs * 2);
    }

    public void WriteSetHeader(long count)
    {
        if (IsResp3) WritePrefixedNumber((byte)'~', count); else WritePrefixedNumber((byte)'*', count);
    }

    public void WritePushHeader(long count)
    {
        if (IsResp3) WritePrefixedNumber((byte)'>', count); else WritePrefixedNumber((byte)'*', count);
    }

    public void WriteBoolean(bool value)
    {
        if (IsResp3) WriteRaw(value ? "#t\r\n"u8 : "#f\r\n"u8);
        else WriteInteger(value ? 1 : 0);
    }

    /// <summary>A double: RESP3 ',' type, or a bulk string in RESP2; formatted as Redis formats scores.</summary>
    public void WriteDouble(double value)
    {
        Span<byte> tmp = stackalloc byte[40];
        int n = RespNumbers.FormatDouble(value, tmp);
        if (IsResp3)
        {
            var span = GetSpan(n + 3);
            span[0] = (byte)',';
            tmp[..n].CopyTo(span[1..]);
            span[1 + n] = (byte)'\r'; span[2 + n] = (byte)'\n';
            _pos += n + 3;
        }
        else
        {
            WriteBulk(tmp[..n]);
        }
    }

    /// <summary>Verbatim string (RESP3 '=' with a 3-letter format), plain bulk in RESP2.</summary>
    public void WriteVerbatim(string text, string format = "txt")
    {
        if (!IsResp3) { WriteBulk(text); return; }
        var bytes = Encoding.UTF8.GetBytes(text);
        var span = GetSpan(bytes.Length + 32);
        span[0] = (byte)'=';
        Utf8Formatter.TryFormat(bytes.Length + 4, span[1..], out int n);
        int p = 1 + n;
        span[p++] = (byte)'\r'; span[p++] = (byte)'\n';
        p += Encoding.ASCII.GetBytes(format, span[p..]);
        span[p++] = (byte)':';
        bytes.CopyTo(span[p..]);
        p += bytes.Length;
        span[p++] = (byte)'\r'; span[p++] = (byte)'\n';
        _pos += p;
    }

    public void Dispose()
    {
        if (_buf.Length > 0) BufferPool.Return(_buf);
        _buf = Array.Empty<byte>();
        _pos = 0;
    }
}
