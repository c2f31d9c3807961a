namespace Basalt.Server.Persistence.Rdb;

/// <summary>
/// Malformed RDB data (a file, a DUMP payload, an encoded blob inside either). Loaders catch it and report
/// Redis's wording ("Bad data format", "DUMP payload version or checksum are wrong"); it must never escape as a crash.
/// </summary>
public sealed class RdbFormatException(string message) : Exception(message);
