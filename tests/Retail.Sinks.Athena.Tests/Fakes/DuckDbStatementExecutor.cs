using System.Globalization;
using System.Numerics;
using Retail.Query;
using Retail.Sinks.DuckDb;

namespace Retail.Sinks.Athena.Tests.Fakes;

/// <summary>
/// Runs the fake's statements through the DuckDB engine over a lake folder: the ExecutionParameters literals are parsed
/// back into typed values and bound as DuckDB parameters, DuckDB's types become Athena's type names and the values
/// Athena's strings (<c>2010-12-01 08:26:00.000</c>, <c>2.5500</c>). A statement DuckDB refuses ends FAILED.
/// </summary>
public sealed class DuckDbStatementExecutor : IDisposable
{
    private readonly DuckDbQueryEngine _engine;

    /// <summary>Opens a DuckDB engine over <paramref name="lakePath"/>.</summary>
    public DuckDbStatementExecutor(string lakePath) => _engine = new DuckDbQueryEngine(lakePath);

    /// <summary>The executor to give to <see cref="AthenaLoopbackFake.StartAsync"/>.</summary>
    public AthenaStatementExecutor Executor => ExecuteAsync;

    private async ValueTask<FakeQueryOutcome> ExecuteAsync(FakeStatement statement, CancellationToken cancellationToken)
    {
        var parameters = statement.ExecutionParameters.Select(ParseLiteral).ToList();
        QueryResult result;
        try
        {
            result = await _engine.QueryAsync(statement.QueryString, parameters, int.MaxValue, cancellationToken);
        }
        catch (DuckDbQueryException e)
        {
            throw new FakeQueryFailure("SYNTAX_ERROR: " + e.Message);
        }
        var columns = result.ColumnTypes.Select((t, i) => AthenaColumn(result.Columns[i], t)).ToList();
        var rows = result.Rows.Select(r => r.Select((v, i) => AthenaString(v, columns[i])).ToArray()).ToList();
        return new FakeQueryOutcome(columns, rows);
    }

    /// <summary>An Athena ExecutionParameters literal as the typed value DuckDB binds.</summary>
    public static object? ParseLiteral(string literal)
    {
        ArgumentNullException.ThrowIfNull(literal);
        var inv = CultureInfo.InvariantCulture;
        string text = literal.Trim();
        if (text.Equals("NULL", StringComparison.OrdinalIgnoreCase)) return null;
        if (text.Equals("TRUE", StringComparison.OrdinalIgnoreCase)) return true;
        if (text.Equals("FALSE", StringComparison.OrdinalIgnoreCase)) return false;
        if (text.StartsWith('\'')) return Quoted(text, literal);
        int space = text.IndexOf(' ', StringComparison.Ordinal);
        if (space > 0)
        {
            string value = Quoted(text[(space + 1)..].Trim(), literal);
            return text[..space].ToUpperInvariant() switch
            {
                "DECIMAL" => decimal.Parse(value, NumberStyles.Float, inv),
                "DOUBLE" => double.Parse(value, NumberStyles.Float, inv),
                "REAL" => float.Parse(value, NumberStyles.Float, inv),
                "TIMESTAMP" => DateTime.ParseExact(value, ["yyyy-MM-dd HH:mm:ss.fff", "yyyy-MM-dd HH:mm:ss"], inv, DateTimeStyles.None),
                "DATE" => DateOnly.ParseExact(value, "yyyy-MM-dd", inv),
                var other => throw new FakeQueryFailure($"INVALID_PARAMETER: unsupported literal type {other} in '{literal}'"),
            };
        }
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, inv, out long n)) return n is >= int.MinValue and <= int.MaxValue ? (int)n : n;
        throw new FakeQueryFailure($"INVALID_PARAMETER: '{literal}' is not a SQL literal");
    }

    private static string Quoted(string text, string literal) =>
        text.Length >= 2 && text[0] == '\'' && text[^1] == '\''
            ? text[1..^1].Replace("''", "'", StringComparison.Ordinal)
            : throw new FakeQueryFailure($"INVALID_PARAMETER: '{literal}' is not a quoted SQL literal");

    /// <summary>DuckDB's type name as Athena's ResultSetMetadata names it.</summary>
    public static FakeColumn AthenaColumn(string name, string duckDbType)
    {
        ArgumentNullException.ThrowIfNull(duckDbType);
        if (duckDbType.StartsWith("DECIMAL(", StringComparison.Ordinal))
        {
            var ps = duckDbType[8..^1].Split(',');
            return new FakeColumn(name, "decimal", int.Parse(ps[0], CultureInfo.InvariantCulture), int.Parse(ps[1], CultureInfo.InvariantCulture));
        }
        return duckDbType switch
        {
            "VARCHAR" => new FakeColumn(name, "varchar", 2147483647),
            "INTEGER" => new FakeColumn(name, "integer", 10),
            "BIGINT" or "HUGEINT" => new FakeColumn(name, "bigint", 19),
            "SMALLINT" => new FakeColumn(name, "smallint", 5),
            "TINYINT" => new FakeColumn(name, "tinyint", 3),
            "DOUBLE" => new FakeColumn(name, "double", 17),
            "FLOAT" => new FakeColumn(name, "real", 24),
            "BOOLEAN" => new FakeColumn(name, "boolean"),
            "DATE" => new FakeColumn(name, "date"),
            "TIMESTAMP" or "TIMESTAMP_MS" or "TIMESTAMP_S" or "TIMESTAMP_NS" => new FakeColumn(name, "timestamp", 3),
            _ => throw new FakeQueryFailure($"NOT_SUPPORTED: the fake has no Athena type for DuckDB's {duckDbType} (column {name})"),
        };
    }

    /// <summary>A value as Athena prints it in a VarCharValue (null stays null: an empty Datum).</summary>
    public static string? AthenaString(object? value, FakeColumn column)
    {
        ArgumentNullException.ThrowIfNull(column);
        var inv = CultureInfo.InvariantCulture;
        return value switch
        {
            null => null,
            string s => s,
            bool b => b ? "true" : "false",
            decimal d => d.ToString("F" + column.Scale.ToString(inv), inv),
            double d => d.ToString("R", inv),
            float f => f.ToString("R", inv),
            DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.fff", inv),
            DateOnly d => d.ToString("yyyy-MM-dd", inv),
            BigInteger or long or int or short or sbyte or byte => Convert.ToString(value, inv),
            _ => throw new FakeQueryFailure($"NOT_SUPPORTED: the fake cannot print a {value.GetType()} (column {column.Name})"),
        };
    }

    /// <summary>Closes the DuckDB engine.</summary>
    public void Dispose() => _engine.Dispose();
}
