using System.CommandLine;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Retail.Query;
using Retail.Sinks.Athena;
using Retail.Sinks.DuckDb;

namespace Retail.Cli;

/// <summary>
/// <c>retail query "SQL" [--engine duckdb|athena] --lake DIR [--format table|csv|json]</c>: SQL over the lake's two tables,
/// with the embedded engine (DuckDB over a folder) or Athena (<c>--database</c>, <c>--work-group</c>, <c>--output-location</c>,
/// <c>--region</c>, <c>--athena-endpoint-url</c>), printed the same way.
/// </summary>
internal static class QueryCommand
{
    public static Command Create(Stream stdout, TextWriter stderr)
    {
        var sql = new Argument<string>("sql") { Description = "One SQL statement over retail_trans_json and ctas_retail_trans_parquet (the workshop's tables)." };
        var lake = LakeOption.CreateLocation(mustExist: false);
        var engineOption = new Option<string>("--engine") { Description = "duckdb (the embedded engine over --lake) or athena.", DefaultValueFactory = _ => "duckdb" };
        engineOption.AcceptOnlyFromAmong("duckdb", "athena");
        var database = new Option<string>("--database") { Description = "Athena: the Glue database (QueryExecutionContext.Database).", DefaultValueFactory = _ => "mydatabase" };
        var workGroup = new Option<string>("--work-group") { Description = "Athena: the workgroup.", DefaultValueFactory = _ => "primary" };
        var outputLocation = new Option<string?>("--output-location") { Description = "Athena: s3://bucket/prefix/ for the query results (needed unless the workgroup sets one)." };
        var region = new Option<string?>("--region") { Description = "Athena: the AWS region (default: AWS_REGION, then us-east-1)." };
        var endpoint = new Option<string?>("--athena-endpoint-url") { Description = "Athena: another endpoint (such as a VPC endpoint or a test fake)." };
        var format = new Option<string>("--format") { Description = "table, csv or json.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "csv", "json");
        var maxRows = new Option<int>("--max-rows") { Description = "Most rows to print.", DefaultValueFactory = _ => 10_000 };
        var command = new Command("query", "Run SQL over the lake with the embedded engine (DuckDB), as Athena would, or on Athena (--engine athena).") { sql, lake, format, maxRows, engineOption, database, workGroup, outputLocation, region, endpoint };
        maxRows.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError($"--max-rows must be at least 1, got {r.GetValueOrDefault<int>()}."); });
        command.SetAction(async (r, ct) =>
        {
            string location = r.GetValue(lake)!;
            bool athena = r.GetValue(engineOption) == "athena";
            ServiceProvider? provider = null;
            IQueryEngine engine;
            if (athena)
            {
                if (r.GetResult(lake) is { Implicit: false })
                    throw new CliException($"--lake {location} is for --engine duckdb: Athena reads the tables of --database {r.GetValue(database)} (their LOCATION is set by retail catalog).", 2);
                var options = new AthenaOptions { Database = r.GetValue(database)!, WorkGroup = r.GetValue(workGroup)!, OutputLocation = r.GetValue(outputLocation), ServiceUrl = r.GetValue(endpoint) };
                if (r.GetValue(region) is { } name) options.Region = name;
                try
                {
                    engine = AthenaClientFactory.CreateQueryEngine(options);
                }
                catch (ArgumentException e)
                {
                    throw new CliException(e.Message, 2, e);
                }
            }
            else
            {
                if (LakeOption.IsS3(location))
                    throw new CliException($"retail query reads a local lake only, not --lake {location}: DuckDB's S3 support needs an extension download, which the locked-down engine never does; copy the lake to a folder (aws s3 sync) and pass that folder, or use --engine athena.", 2);
                if (!Directory.Exists(Path.GetFullPath(location)))
                    throw new CliException($"--lake {Path.GetFullPath(location)} does not exist.", 2);
                var services = new ServiceCollection();
                services.AddRetail().AddDuckDbQueries(o => o.LakePath = Path.GetFullPath(location));
                provider = services.BuildServiceProvider();
                provider.ValidateRetailOptions();
                engine = provider.GetRequiredService<IQueryEngine>();
            }
            QueryResult result;
            try
            {
                result = await engine.QueryAsync(r.GetValue(sql)!, maxRows: r.GetValue(maxRows), cancellationToken: ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new CliException($"query failed: {e.Message}", 1, e);
            }
            finally
            {
                if (athena) (engine as IDisposable)?.Dispose();
                if (provider is not null) await provider.DisposeAsync().ConfigureAwait(false);
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
