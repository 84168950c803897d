using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Logging;
using Retail.Query;

namespace Retail.Sinks.Athena;

/// <summary>
/// Athena as <see cref="IQueryEngine"/>: StartQueryExecution (one client request token per logical start, reused by
/// its retries), GetQueryExecution polled with doubling delays until the query ends, every page of GetQueryResults
/// typed from ResultSetMetadata. Each call goes through Retail's retry pipeline; polling is waiting, not retrying.
/// </summary>
internal sealed partial class AthenaQueryEngine(AwsJsonClient client, AthenaOptions options, TimeProvider time, ILogger logger) : IQueryEngine, IDisposable
{
    private readonly RetailRetryPipeline _retry = new(options.Retry, time);
    private readonly HttpClient? _owned;

    public AthenaQueryEngine(HttpClient http, AwsJsonClient client, AthenaOptions options, TimeProvider time, ILogger logger) : this(client, options, time, logger) => _owned = http;

    public async ValueTask<QueryResult> QueryAsync(string sql, IReadOnlyList<object?>? parameters = null, int maxRows = 10_000, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRows);
        List<string>? executionParameters = parameters is { Count: > 0 } ? parameters.Select((p, i) => AthenaParameters.Literal(p, i)).ToList() : null;
        var request = new StartQueryExecutionRequest(sql, Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"),
            new QueryExecutionContext(options.Database, options.Catalog),
            options.OutputLocation is null ? null : new ResultConfiguration(options.OutputLocation), options.WorkGroup, executionParameters);
        var started = await CallAsync("StartQueryExecution", request, AthenaJsonContext.Default.StartQueryExecutionRequest,
            AthenaJsonContext.Default.StartQueryExecutionResponse, cancellationToken).ConfigureAwait(false);
        string id = started.QueryExecutionId;
        LogStarted(logger, id);

        using var timeout = new CancellationTokenSource(options.QueryTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        QueryExecution execution;
        try
        {
            execution = await WaitAsync(id, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            await StopAsync(id).ConfigureAwait(false);
            if (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
                throw new AthenaQueryException(string.Create(CultureInfo.InvariantCulture,
                    $"Athena query {id} ran longer than AthenaOptions.QueryTimeout ({options.QueryTimeout:c}) and was stopped."), id, "CANCELLED", "QueryTimeout", null, null, false);
            throw;
        }
        var status = execution.Status!;
        if (status.State != "SUCCEEDED")
        {
            var error = status.AthenaError;
            string message = $"Athena query {id} ended {status.State}: {status.StateChangeReason ?? "(no reason given)"}"
                + (error is null ? "" : string.Create(CultureInfo.InvariantCulture, $" (AthenaError category {error.ErrorCategory} {Category(error.ErrorCategory)}, type {error.ErrorType}{(error.Retryable == true ? ", retryable" : "")})"));
            throw new AthenaQueryException(message, id, status.State, status.StateChangeReason, error?.ErrorCategory, error?.ErrorType, error?.Retryable ?? false);
        }
        return await ReadResultsAsync(id, execution.StatementType, maxRows, cancellationToken).ConfigureAwait(false);
    }

    private static string Category(int? c) => c switch { 1 => "system", 2 => "user", 3 => "other", _ => "unknown" };

    private async Task<QueryExecution> WaitAsync(string id, CancellationToken ct)
    {
        var delay = options.PollInterval;
        while (true)
        {
            var got = await CallAsync("GetQueryExecution", new QueryExecutionIdRequest(id), AthenaJsonContext.Default.QueryExecutionIdRequest,
                AthenaJsonContext.Default.GetQueryExecutionResponse, ct).ConfigureAwait(false);
            string state = got.QueryExecution.Status?.State ?? throw new InvalidDataException($"Athena GetQueryExecution answered no Status for query {id}.");
            if (state is "SUCCEEDED" or "FAILED" or "CANCELLED") return got.QueryExecution;
            if (state is not ("QUEUED" or "RUNNING")) throw new InvalidDataException($"Athena GetQueryExecution answered an unknown state '{state}' for query {id}.");
            await Task.Delay(delay, time, ct).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxPollInterval.Ticks));
        }
    }

    private async Task StopAsync(string id)
    {
        try
        {
            using var cts = new CancellationTokenSource(options.RequestTimeout, time);
            await client.SendAsync("StopQueryExecution", new QueryExecutionIdRequest(id), AthenaJsonContext.Default.QueryExecutionIdRequest,
                AthenaJsonContext.Default.EmptyResponse, cts.Token).ConfigureAwait(false);
            LogStopped(logger, id);
        }
#pragma warning disable CA1031 // stopping is best effort: the cancellation or timeout is what the caller gets
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogStopFailed(logger, id, e.Message);
        }
    }

    private async Task<QueryResult> ReadResultsAsync(string id, string? statementType, int maxRows, CancellationToken ct)
    {
        string? token = null;
        bool first = true, truncated = false;
        List<ColumnInfo>? columns = null;
        string[] names = [], types = [];
        var rows = new List<object?[]>();
        do
        {
            var page = await CallAsync("GetQueryResults", new GetQueryResultsRequest(id, token, 1000), AthenaJsonContext.Default.GetQueryResultsRequest,
                AthenaJsonContext.Default.GetQueryResultsResponse, ct).ConfigureAwait(false);
            if (columns is null)
            {
                columns = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
                names = columns.Select(c => c.Name).ToArray();
                types = columns.Select(AthenaParameters.ColumnType).ToArray();
            }
            var pageRows = page.ResultSet?.Rows ?? [];
            int start = 0;
            if (first && statementType is null or "DML" && columns.Count > 0 && pageRows.Count > 0) start = 1; // the header row
            first = false;
            for (int r = start; r < pageRows.Count; r++)
            {
                if (rows.Count >= maxRows)
                {
                    truncated = true;
                    break;
                }
                var data = pageRows[r].Data ?? [];
                var values = new object?[columns.Count];
                for (int c = 0; c < columns.Count; c++)
                    values[c] = AthenaParameters.Parse(c < data.Count ? data[c].VarCharValue : null, columns[c], id);
                rows.Add(values);
            }
            token = page.NextToken;
        }
        while (token is not null && !truncated);
        if (!truncated && rows.Count >= maxRows && token is not null) truncated = true;
        return new QueryResult(names, types, rows, truncated);
    }

    private Task<TResponse> CallAsync<TRequest, TResponse>(string operation, TRequest request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TRequest> requestType,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TResponse> responseType, CancellationToken ct) =>
        _retry.ExecuteAsync(c => new ValueTask<TResponse>(client.SendAsync(operation, request, requestType, responseType, c)),
            onRetry: a => LogRetry(logger, operation, a.FailedAttempt, a.Failure), cancellationToken: ct).AsTask();

    public void Dispose() => _owned?.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Athena query {QueryExecutionId} started")]
    private static partial void LogStarted(ILogger logger, string queryExecutionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Athena query {QueryExecutionId} stopped (StopQueryExecution)")]
    private static partial void LogStopped(ILogger logger, string queryExecutionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Athena query {QueryExecutionId} could not be stopped: {Error}")]
    private static partial void LogStopFailed(ILogger logger, string queryExecutionId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Athena {Operation} attempt {Attempt} failed, retrying: {Failure}")]
    private static partial void LogRetry(ILogger logger, string operation, int attempt, string failure);
}

/// <summary>Athena's literals for parameters and its strings back to the CLR types the DuckDB engine returns.</summary>
internal static class AthenaParameters
{
    public static string Literal(object? value, int index) => value switch
    {
        null or DBNull => "NULL",
        string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
        char c => "'" + (c == '\'' ? "''" : c.ToString()) + "'",
        bool b => b ? "TRUE" : "FALSE",
        sbyte or byte or short or ushort or int or uint or long or ulong or BigInteger => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        decimal d => "DECIMAL '" + d.ToString(CultureInfo.InvariantCulture) + "'",
        double d when double.IsFinite(d) => "DOUBLE '" + d.ToString("R", CultureInfo.InvariantCulture) + "'",
        float f when float.IsFinite(f) => "REAL '" + f.ToString("R", CultureInfo.InvariantCulture) + "'",
        DateTime t => "TIMESTAMP '" + t.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + "'",
        DateOnly d => "DATE '" + d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "'",
        _ => throw new ArgumentException(
            $"Parameter {index + 1} has type {value.GetType()}, which has no Athena literal: use string, bool, an integer type, decimal, double, float, DateTime, DateOnly or null.", "parameters"),
    };

    /// <summary>The column's type as the DuckDB engine spells it.</summary>
    public static string ColumnType(ColumnInfo c) => Base(c.Type) switch
    {
        "varchar" or "char" or "string" => "VARCHAR",
        "tinyint" => "TINYINT",
        "smallint" => "SMALLINT",
        "integer" or "int" => "INTEGER",
        "bigint" => "BIGINT",
        "double" => "DOUBLE",
        "float" or "real" => "FLOAT",
        "boolean" => "BOOLEAN",
        "date" => "DATE",
        "timestamp" => "TIMESTAMP",
        "decimal" => string.Create(CultureInfo.InvariantCulture, $"DECIMAL({c.Precision ?? 38},{c.Scale ?? 0})"),
        var other => other.ToUpperInvariant(),
    };

    private static string Base(string type)
    {
        int paren = type.IndexOf('(', StringComparison.Ordinal);
        return (paren < 0 ? type : type[..paren]).Trim().ToLowerInvariant();
    }

    public static object? Parse(string? text, ColumnInfo c, string id)
    {
        if (text is null) return null;
        var inv = CultureInfo.InvariantCulture;
        try
        {
            return Base(c.Type) switch
            {
                "tinyint" => sbyte.Parse(text, inv),
                "smallint" => short.Parse(text, inv),
                "integer" or "int" => int.Parse(text, inv),
                "bigint" => long.Parse(text, inv),
                "double" => double.Parse(text, NumberStyles.Float, inv),
                "float" or "real" => float.Parse(text, NumberStyles.Float, inv),
                "decimal" => decimal.Parse(text, NumberStyles.Float, inv),
                "boolean" => bool.Parse(text),
                "date" => DateOnly.ParseExact(text, "yyyy-MM-dd", inv),
                "timestamp" => DateTime.ParseExact(text, ["yyyy-MM-dd HH:mm:ss.fff", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF"], inv, DateTimeStyles.None),
                _ => text,
            };
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"Athena query {id} column {c.Name} ({c.Type}) holds '{text}', which is not a {c.Type}.", e);
        }
    }
}
