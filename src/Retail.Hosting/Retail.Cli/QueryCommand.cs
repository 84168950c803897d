using System.CommandLine;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Retail.Query;
using Retail.Sinks.DuckDb;

namespace Retail.Cli;

/// <summary><c>retail query "SQL" --lake DIR [--format table|csv|json]</c>: SQL over the lake's two tables.</summary>
internal static class QueryCommand
{
    public static Command Create(Stream stdout, TextWriter stderr)
    {
        var sql = new Argument<string>("sql") { Description = "One SQL statement over retail_trans_json and ctas_retail_trans_parquet (the workshop's tables)." };
        var lake = LakeOption.CreateLocation(mustExist: true);
        var format = new Option<string>("--format") { Description = "table, csv or json.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "csv", "json");
        var maxRows = new Option<int>("--max-rows") { Description = "Most rows to print.", DefaultValueFactory = _ => 10_000 };
        var command = new Command("query", "Run SQL over the lake with the embedded engine (DuckDB), as Athena would.") { sql, lake, format, maxRows };
        maxRows.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError($"--max-rows must be at least 1, got {r.GetValueOrDefault<int>()}."); });
        command.SetAction(async (r, ct) =>
        {
            string location = r.GetValue(lake)!;
            if (LakeOption.IsS3(location))
                throw new CliException($"retail query reads a local lake only, not --lake {location}: DuckDB's S3 support needs an extension download, which the locked-down engine never does; copy the lake to a folder (aws s3 sync) and pass that folder.", 2);
            var services = new ServiceCollection();
            services.AddRetail().AddDuckDbQueries(o => o.LakePath = Path.GetFullPath(location));
            await using var provider = services.BuildServiceProvider();
            provider.ValidateRetailOptions();
            var engine = provider.GetRequiredService<IQueryEngine>();
            QueryResult result;
            try
            {
                result = await engine.QueryAsync(r.GetValue(sql)!, maxRows: r.GetValue(maxRows), cancellationToken: ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new CliException($"query failed: {e.Message}", 1, e);
            }
            var f = r.GetValue(format) switch { "csv" => QueryOutputFormat.Csv, "json" => QueryOutputFormat.Json, _ => QueryOutputFormat.Table };
            byte[] text = new UTF8Encoding(false).GetBytes(QueryResultFormatter.Format(result, f));
            await stdout.WriteAsync(text, ct).ConfigureAwait(false);
            await stdout.FlushAsync(ct).ConfigureAwait(false);
            if (result.Truncated) await stderr.WriteLineAsync($"[WARN] output truncated at {r.GetValue(maxRows)} rows (use --max-rows)").ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
