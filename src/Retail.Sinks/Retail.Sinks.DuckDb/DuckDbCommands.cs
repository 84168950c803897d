using System.Data;
using System.Globalization;
using System.Numerics;
using DuckDB.NET.Data;
using DuckDB.NET.Native;
using Retail.Query;

namespace Retail.Sinks.DuckDb;

/// <summary>Running statements on a DuckDB connection and reading their results as <see cref="QueryResult"/>.</summary>
internal static class DuckDbCommands
{
    /// <summary>Settings that keep DuckDB off the network: json and parquet are built in, nothing is installed or loaded.</summary>
    public const string OfflineSettings =
        "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false; SET allow_community_extensions = false;";

    /// <summary>
    /// Opens a connection with <see cref="OfflineSettings"/> and the given resource limits; disposed if set-up fails.
    /// <paramref name="readOnly"/> opens the database file in DuckDB's READ_ONLY access mode (a missing file is an error, not created).
    /// </summary>
    public static DuckDBConnection Open(string dataSource, int? threads, string? memoryLimit, bool readOnly = false)
    {
        var builder = new DuckDBConnectionStringBuilder { DataSource = dataSource };
        if (readOnly) builder["access_mode"] = "READ_ONLY";
        var connection = new DuckDBConnection(builder.ConnectionString);
        try
        {
            connection.Open();
            Execute(connection, OfflineSettings);
            if (threads is int t) Execute(connection, string.Create(CultureInfo.InvariantCulture, $"SET threads = {t};"));
            if (memoryLimit is string memory) Execute(connection, $"SET memory_limit = {Literal(memory)};");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Closes the connection to everything but <paramref name="allowedDirectories"/>: no other files, no network,
    /// and the configuration locked, so SQL run on it later cannot undo this.
    /// </summary>
    public static void LockDown(DuckDBConnection connection, IEnumerable<string> allowedDirectories) =>
        Execute(connection, $"SET allowed_directories = [{string.Join(", ", allowedDirectories.Select(Literal))}];" +
            " SET enable_external_access = false; SET lock_configuration = true;");

    public static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static object? Scalar(DuckDBConnection connection, string sql, params object?[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var p in parameters) command.Parameters.Add(new DuckDBParameter(p ?? DBNull.Value));
        return command.ExecuteScalar();
    }

    /// <summary>A single-quoted SQL string literal.</summary>
    public static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A double-quoted SQL identifier.</summary>
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// Runs one statement with positional parameters and reads at most <paramref name="maxRows"/> rows,
    /// streaming (DuckDB stops producing rows once we stop reading). DuckDB errors become
    /// <see cref="DuckDbQueryException"/>; an interrupt through <paramref name="cancellationToken"/>
    /// becomes <see cref="OperationCanceledException"/>.
    /// </summary>
    public static QueryResult Query(DuckDBConnection connection, string sql, IReadOnlyList<object?>? parameters, int maxRows, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string run = ReadOnlyStatements.Check(connection, sql);

        using var command = connection.CreateCommand();
        command.CommandText = run;
        command.UseStreamingMode = true;
        if (parameters is not null)
            for (int i = 0; i < parameters.Count; i++)
                command.Parameters.Add(new DuckDBParameter(ToParameter(parameters[i], i)));

        using var registration = cancellationToken.Register(static c => ((DuckDBCommand)c!).Cancel(), command);
        try
        {
            QueryResult result;
            using (var reader = command.ExecuteReader())
                result = Read(reader, sql, maxRows, cancellationToken);
            if (result.ColumnTypes.Contains(UnknownDecimal))
                result = result with { ColumnTypes = DescribeTypes(connection, run, command.Parameters, result.ColumnTypes) };
            return result;
        }
        catch (DuckDBException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DuckDbQueryException("DuckDB could not run the query: " + e.Message, sql, e);
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
        {
            throw new OperationCanceledException("The query was canceled.", e, cancellationToken);
        }
    }

    private static object ToParameter(object? value, int index) => value switch
    {
        null or DBNull => DBNull.Value,
        string s when s.Contains('\0', StringComparison.Ordinal) =>
            throw new ArgumentException($"Parameter {index + 1} contains a NUL character, which DuckDB would truncate.", "parameters"),
        string or bool or sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal
            or DateTime or DateTimeOffset or DateOnly or TimeOnly or TimeSpan or Guid or BigInteger or byte[] => value,
        char c => c.ToString(),
        _ => throw new ArgumentException(
            $"Parameter {index + 1} has type {value.GetType()}, which cannot be bound to DuckDB: use string, bool, an integer type, float, double, decimal, DateTime, DateTimeOffset, DateOnly, TimeOnly, TimeSpan, Guid, BigInteger or byte[].",
            "parameters"),
    };

    private const string UnknownDecimal = "DECIMAL";

    /// <summary>
    /// The column types as DuckDB's <c>DESCRIBE</c> names them (it binds the statement without running it),
    /// for a result whose decimal precision could not be read; <paramref name="fallback"/> when the
    /// statement cannot be described (it is not a query).
    /// </summary>
    private static string[] DescribeTypes(DuckDBConnection connection, string sql, DuckDBParameterCollection parameters, IReadOnlyList<string> fallback)
    {
        try
        {
            using var describe = connection.CreateCommand();
            describe.CommandText = "DESCRIBE " + sql;
            foreach (DuckDBParameter p in parameters) describe.Parameters.Add(new DuckDBParameter(p.Value ?? DBNull.Value));
            var types = new List<string>(fallback.Count);
            using (var reader = describe.ExecuteReader())
                while (reader.Read()) types.Add(reader.GetString(1));
            return types.Count == fallback.Count ? [.. types] : [.. fallback];
        }
        catch (DuckDBException)
        {
            return [.. fallback];
        }
    }

    private static QueryResult Read(DuckDBDataReader reader, string sql, int maxRows, CancellationToken cancellationToken)
    {
        int n = reader.FieldCount;
        var names = new string[n];
        var types = new string[n];
        DataTable? schema = null;
        for (int i = 0; i < n; i++)
        {
            names[i] = reader.GetName(i);
            string type = reader.GetDataTypeName(i);
            if (type == nameof(DuckDBType.Decimal))
            {
                // DuckDB.NET reads precision and scale from the first chunk: none when there are no rows.
                schema ??= reader.GetSchemaTable();
                var row = schema!.Rows[i];
                int precision = row["NumericPrecision"] is IConvertible p ? p.ToInt32(CultureInfo.InvariantCulture) : 0;
                int scale = row["NumericScale"] is IConvertible sc ? sc.ToInt32(CultureInfo.InvariantCulture) : 0;
                types[i] = precision > 0 ? string.Create(CultureInfo.InvariantCulture, $"DECIMAL({precision},{scale})") : UnknownDecimal;
            }
            else types[i] = SqlTypeName(type);
        }

        var rows = new List<object?[]>();
        bool truncated = false;
        while (reader.Read())
        {
            if (rows.Count >= maxRows)
            {
                truncated = true;
                break;
            }
            cancellationToken.ThrowIfCancellationRequested();
            var values = new object?[n];
            for (int i = 0; i < n; i++) values[i] = reader.IsDBNull(i) ? null : ToClr(ReadValue(reader, i, names[i], sql));
            rows.Add(values);
        }
        return new QueryResult(names, types, rows, truncated);
    }

    private static object ReadValue(DuckDBDataReader reader, int ordinal, string name, string sql)
    {
        try
        {
            return reader.GetValue(ordinal);
        }
        catch (OverflowException e)
        {
            // A DECIMAL(38,s) value beyond .NET decimal's 28-29 digits (e.g. a sum of extreme prices over many rows).
            throw new DuckDbQueryException(
                $"Column {name} holds a value beyond the range of .NET decimal (about 7.9e28); CAST it to VARCHAR in the query to read it exactly.", sql, e);
        }
    }

    private static object? ToClr(object value)
    {
        switch (value)
        {
            case DBNull:
                return null;
            case Stream stream:
                using (stream)
                {
                    var copy = new MemoryStream();
                    stream.CopyTo(copy);
                    return copy.ToArray();
                }
            default:
                return value;
        }
    }

    /// <summary>DuckDB's SQL name for a DuckDB.NET type name (DECIMAL is handled by the caller, with precision and scale).</summary>
    internal static string SqlTypeName(string duckDbNetTypeName) => duckDbNetTypeName switch
    {
        nameof(DuckDBType.Boolean) => "BOOLEAN",
        nameof(DuckDBType.TinyInt) => "TINYINT",
        nameof(DuckDBType.SmallInt) => "SMALLINT",
        nameof(DuckDBType.Integer) => "INTEGER",
        nameof(DuckDBType.BigInt) => "BIGINT",
        nameof(DuckDBType.HugeInt) => "HUGEINT",
        nameof(DuckDBType.UnsignedTinyInt) => "UTINYINT",
        nameof(DuckDBType.UnsignedSmallInt) => "USMALLINT",
        nameof(DuckDBType.UnsignedInteger) => "UINTEGER",
        nameof(DuckDBType.UnsignedBigInt) => "UBIGINT",
        nameof(DuckDBType.UnsignedHugeInt) => "UHUGEINT",
        nameof(DuckDBType.Float) => "FLOAT",
        nameof(DuckDBType.Double) => "DOUBLE",
        nameof(DuckDBType.Decimal) => "DECIMAL",
        nameof(DuckDBType.Varchar) => "VARCHAR",
        nameof(DuckDBType.Blob) => "BLOB",
        nameof(DuckDBType.Date) => "DATE",
        nameof(DuckDBType.Time) => "TIME",
        nameof(DuckDBType.TimeTz) => "TIME WITH TIME ZONE",
        nameof(DuckDBType.Timestamp) => "TIMESTAMP",
        nameof(DuckDBType.TimestampS) => "TIMESTAMP_S",
        nameof(DuckDBType.TimestampMs) => "TIMESTAMP_MS",
        nameof(DuckDBType.TimestampNs) => "TIMESTAMP_NS",
        nameof(DuckDBType.TimestampTz) => "TIMESTAMP WITH TIME ZONE",
        nameof(DuckDBType.Interval) => "INTERVAL",
        nameof(DuckDBType.Uuid) => "UUID",
        nameof(DuckDBType.Enum) => "ENUM",
        nameof(DuckDBType.List) => "LIST",
        nameof(DuckDBType.Array) => "ARRAY",
        nameof(DuckDBType.Struct) => "STRUCT",
        nameof(DuckDBType.Map) => "MAP",
        nameof(DuckDBType.Union) => "UNION",
        nameof(DuckDBType.Bit) => "BIT",
        nameof(DuckDBType.VarInt) => "VARINT",
        nameof(DuckDBType.SqlNull) => "NULL",
        _ => duckDbNetTypeName.ToUpperInvariant(),
    };
}
