using System.Text.Json.Serialization;

namespace Retail.Sinks.Athena;

// One small request/response type per operation, from the Athena (AmazonAthena) API reference; only what Retail uses.

internal sealed record QueryExecutionContext(string? Database, string? Catalog);

internal sealed record ResultConfiguration(string? OutputLocation);

internal sealed record StartQueryExecutionRequest(string QueryString, string ClientRequestToken, QueryExecutionContext? QueryExecutionContext,
    ResultConfiguration? ResultConfiguration, string? WorkGroup, List<string>? ExecutionParameters);

internal sealed record StartQueryExecutionResponse(string QueryExecutionId);

internal sealed record QueryExecutionIdRequest(string QueryExecutionId);

internal sealed record GetQueryExecutionResponse(QueryExecution QueryExecution);

internal sealed record QueryExecution(string? QueryExecutionId, string? Query, string? StatementType, QueryExecutionStatus? Status);

internal sealed record QueryExecutionStatus(string State, string? StateChangeReason, AthenaError? AthenaError);

internal sealed record AthenaError(int? ErrorCategory, int? ErrorType, bool? Retryable, string? ErrorMessage);

internal sealed record GetQueryResultsRequest(string QueryExecutionId, string? NextToken, int? MaxResults);

internal sealed record GetQueryResultsResponse(ResultSet? ResultSet, string? NextToken, long? UpdateCount);

internal sealed record ResultSet(List<Row>? Rows, ResultSetMetadata? ResultSetMetadata);

internal sealed record Row(List<Datum>? Data);

internal sealed record Datum(string? VarCharValue);

internal sealed record ResultSetMetadata(List<ColumnInfo>? ColumnInfo);

internal sealed record ColumnInfo(string Name, string Type, string? Label = null, int? Precision = null, int? Scale = null,
    string? Nullable = null, bool? CaseSensitive = null, string? CatalogName = null, string? SchemaName = null, string? TableName = null);

internal sealed record EmptyResponse;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StartQueryExecutionRequest))]
[JsonSerializable(typeof(StartQueryExecutionResponse))]
[JsonSerializable(typeof(QueryExecutionIdRequest))]
[JsonSerializable(typeof(GetQueryExecutionResponse))]
[JsonSerializable(typeof(GetQueryResultsRequest))]
[JsonSerializable(typeof(GetQueryResultsResponse))]
[JsonSerializable(typeof(EmptyResponse))]
internal sealed partial class AthenaJsonContext : JsonSerializerContext;
