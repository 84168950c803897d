using System.Globalization;
using Retail.Query;
using Retail.Sinks.Athena.Tests.Fakes;

namespace Retail.Sinks.Athena.Tests.Compaction;

/// <summary>
/// Until the real Athena client and its loopback fake are merged: an IQueryEngine that hands each statement straight to the
/// catalog's executor, with parameters as Athena's string literals, bigint answers as longs, and a failed statement as
/// AthenaQueryException carrying the reason (as the client does).
/// </summary>
internal sealed class CatalogQueryEngine(AthenaStatementExecutor executor) : IQueryEngine
{
    private int _serial;

    public async ValueTask<QueryResult> QueryAsync(string sql, IReadOnlyList<object?>? parameters = null, int maxRows = 10_000, CancellationToken cancellationToken = default)
    {
        var id = $"q-{++_serial}";
        var literals = (parameters ?? []).Select(p => p switch
        {
            int i => i.ToString(CultureInfo.InvariantCulture),
            long l => l.ToString(CultureInfo.InvariantCulture),
            string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
            _ => throw new NotSupportedException(p?.GetType().Name),
        }).ToList();
        FakeQueryOutcome outcome;
        try
        {
            outcome = await executor(new FakeStatement(sql, null, null, literals, "primary", null), cancellationToken);
        }
        catch (FakeQueryFailure f)
        {
            throw new AthenaQueryException($"Athena query {id} FAILED: {f.Reason}", id, "FAILED", f.Reason, f.ErrorCategory, f.ErrorType, f.Retryable);
        }
        var rows = outcome.Rows.Take(maxRows).Select(r => r.Select((v, i) => outcome.Columns[i].Type == "bigint" && v is not null
            ? (object?)long.Parse(v, CultureInfo.InvariantCulture) : v).ToArray()).ToList();
        return new QueryResult(outcome.Columns.Select(c => c.Name).ToList(), outcome.Columns.Select(c => c.Type.ToUpperInvariant()).ToList(), rows, outcome.Rows.Count > maxRows);
    }
}
