using System.Buffers.Binary;
using Basalt.Protocol;

namespace Basalt.Server.Persistence.Rdb;

/// <summary>
/// Buffered RDB writer over a stream: RDB length/string encodings (integer encoding, LZF when enabled),
/// little-endian numbers, and a running CRC64 of every byte written (the file and DUMP checksums).
/// </summary>
public sealed class RdbOutput
{
    private readonly Stream _sink;
    private readonly bool _compress;
    private readonly byte[] _buf = new byte[64 * 1024];
    private int _len;
    private long _flushed;
    private ulong _crc;
    private byte[]? _lzfScratch;

    public RdbOutput(Stream sink, bool compress)
    {
        _sink = sink;
        _compress = compress;
    }

    public long BytesWritten => _flushed + _len;

    /// <summary>CRC64 of every byte written so far.</summary>
    public ulong Crc => Crc64.Update(_crc, _buf.AsSpan(0, _len));

    public void WriteByte(byte b)
    {
        if (_len == _buf.Length) Drain();
        _buf[_len++] = b;
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            if (_len == _buf.Length) Drain();
            int n = Math.Min(bytes.Length, _buf.Length - _len);
            bytes[..n].CopyTo(_buf.AsSpan(_len));
            _len += n;
            bytes = bytes[n..];
        }
    }

    public void WriteLength(ulong length)
    {
        Span<byte> b = stackalloc byte[9];
        if (length < 1 << 6) WriteByte((byte)length);
        else if (length < 1 << 14)
        {
            b[0] = (byte)(0x40 | (length >> 8));
            b[1] = (byte)length;
            WriteRaw(b[..2]);
        }
        else if (length <= uint.MaxValue)
        {
            b[0] = RdbConstants.Len32;
            BinaryPrimitives.WriteUInt32BigEndian(b[1..], (uint)length);
            WriteRaw(b[..5]);
        }
        else
        {
            b[0] = RdbConstants.Len64;
            BinaryPrimitives.WriteUInt64BigEndian(b[1..], length);
            WriteRaw(b[..9]);
        }
    }

    /// <summary>A string: as an integer encoding when it is one, LZF-compressed when that pays, else raw.</summary>
    public void WriteString(ReadOnlySpan<byte> s)
    {
        // Only short strings can be canonical integers in the 32-bit range (like Redis: len <= 11).
        if (s.Length <= 11 && s.Length > 0 && RespNumbers.TryParseInt64(s, out long v) && TryWriteIntEncoded(v)) return;
        if (_compress && s.Length > 20 && TryWriteLzf(s)) return;
        WriteLength((ulong)s.Length);
        WriteRaw(s);
    }

    /// <summary>A number as a string object: integer-encoded when it fits 32 bits, else its decimal text.</summary>
    public void WriteStringNumber(long value)
    {
        if (TryWriteIntEncoded(value)) return;
        Span<byte> text = stackalloc byte[20];
        int n = RespNumbers.FormatInt64(value, text);
        WriteLength((ulong)n);
        WriteRaw(text[..n]);
    }

    private bool TryWriteIntEncoded(long v)
    {
        Span<byte> b = stackalloc byte[5];
        if (v >= sbyte.MinValue && v <= sbyte.MaxValue)
        {
            b[0] = RdbConstants.EncInt8;
            b[1] = (byte)(sbyte)v;
            WriteRaw(b[..2]);
        }
        else if (v >= short.MinValue && v <= short.MaxValue)
        {
            b[0] = RdbConstants.EncInt16;
            BinaryPrimitives.WriteInt16LittleEndian(b[1..], (short)v);
            WriteRaw(b[..3]);
        }
        else if (v >= int.MinValue && v <= int.MaxValue)
        {
            b[0] = RdbConstants.EncInt32;
            BinaryPrimitives.WriteInt32LittleEndian(b[1..], (int)v);
            WriteRaw(b[..5]);
        }
        else return false;
        return true;
    }

    private bool TryWriteLzf(ReadOnlySpan<byte> s)
    {
        // Like Redis: worth it only when at least 4 bytes are saved.
        int room = s.Length - 4;
        if (_lzfScratch == null || _lzfScratch.Length < room)
            _lzfScratch = new byte[Math.Max(room, 1024)];
        int clen = Lzf.Compress(s, _lzfScratch.AsSpan(0, room));
        if (clen == 0) return false;
        WriteByte(RdbConstants.EncLzf);
        WriteLength((ulong)clen);
        WriteLength((ulong)s.Length);
        WriteRaw(_lzfScratch.AsSpan(0, clen));
        if (_lzfScratch.Length > 1 << 20) _lzfScratch = null; // do not pin a huge scratch buffer
        return true;
    }

    public void WriteUInt32LE(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        WriteRaw(b);
    }

    public void WriteUInt64LE(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        WriteRaw(b);
    }

    public void WriteBinaryDouble(double v) => WriteUInt64LE((ulong)BitConverter.DoubleToInt64Bits(v));

    /// <summary>Pushes buffered bytes to the sink and flushes it.</summary>
    public void Flush()
    {
        Drain();
        _sink.Flush();
    }

    private void Drain()
    {
        if (_len == 0) return;
        _crc = Crc64.Update(_crc, _buf.AsSpan(0, _len));
        _sink.Write(_buf, 0, _len);
        _flushed += _len;
        _len = 0;
    }
}
