using System.CommandLine;
using System.Globalization;
using Retail.Sinks.Athena;

namespace Retail.Cli;

/// <summary>
/// <c>retail catalog ddl|apply [--projection] [--database D] [--location s3://bucket[/prefix]] [--compaction-engine parquet|athena]
/// [--from HOUR --to HOUR]</c>: the Athena catalog of the lake (the database, the JSON and Parquet tables, partitions or
/// partition projection), generated from the lake definition; <c>ddl</c> prints it, <c>apply</c> runs it through Athena
/// (<c>--work-group</c>, <c>--output-location</c>, <c>--region</c>, <c>--athena-endpoint-url</c>).
/// </summary>
internal static class CatalogCommand
{
    public static Command Create(Stream stdout, TextWriter stderr)
    {
        var command = new Command("catalog", "The lake's Athena catalog (database, JSON and Parquet tables, partitions), from the lake definition.");
        command.Subcommands.Add(Build("ddl", "Print the catalog's DDL statements (nothing is run).", apply: false, stdout, stderr));
        command.Subcommands.Add(Build("apply", "Run the catalog's DDL statements on Athena, one after another, each checked.", apply: true, stdout, stderr));
        return command;
    }

    private static Command Build(string name, string description, bool apply, Stream stdout, TextWriter stderr)
    {
        var projection = new Option<bool>("--projection") { Description = "Partition projection on year/month/day/hour: Athena finds the hours from the folder template, so no ADD PARTITION (or MSCK REPAIR) is ever needed." };
        var database = new Option<string>("--database") { Description = "The Glue database.", DefaultValueFactory = _ => "mydatabase" };
        var location = new Option<string?>("--location") { Description = "The lake's root, s3://bucket[/prefix]: the tables read its json-data/ and parquet-retail-trans/." + (apply ? " Required." : " Default: s3://<bucket>/ as a placeholder."), Required = apply };
        var engine = new Option<string>("--compaction-engine") { Description = "The compactor that writes the Parquet table: parquet (Retail's, hour folders: projection or ADD PARTITION apply) or athena (the CTAS compactor, which registers each hour's versioned partition itself).", DefaultValueFactory = _ => "parquet" };
        engine.AcceptOnlyFromAmong("parquet", "athena");
        var from = new Option<string?>("--from") { Description = "Without --projection: the first hour whose partitions are added (2020-02-28T02 or 2020-02-28T02:00:00Z, UTC)." };
        var to = new Option<string?>("--to") { Description = "Without --projection: the last hour whose partitions are added (default: --from)." };
        var command = new Command(name, description) { projection, database, location, engine, from, to };
        var workGroup = new Option<string>("--work-group") { Description = "The workgroup.", DefaultValueFactory = _ => "primary" };
        var outputLocation = new Option<string?>("--output-location") { Description = "s3://bucket/prefix/ for the query results (needed unless the workgroup sets one)." };
        var region = new Option<string?>("--region") { Description = "The AWS region (default: AWS_REGION, then us-east-1)." };
        var endpoint = new Option<string?>("--athena-endpoint-url") { Description = "Another Athena endpoint (such as a VPC endpoint or a test fake)." };
        if (apply)
        {
            command.Options.Add(workGroup);
            command.Options.Add(outputLocation);
            command.Options.Add(region);
            command.Options.Add(endpoint);
        }
        foreach (var o in new[] { from, to })
            o.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is { } t && ParseHour(t) is null) r.AddError($"{o.Name} '{t}' is not an hour such as 2020-02-28T02 or 2020-02-28T02:00:00Z."); });
        command.Validators.Add(r =>
        {
            if (r.GetValue(projection) && (r.GetResult(from) is { Implicit: false } || r.GetResult(to) is { Implicit: false }))
                r.AddError("--from/--to add partitions, which --projection makes unnecessary: give one of them.");
            else if (r.GetResult(to) is { Implicit: false } && r.GetResult(from) is null or { Implicit: true })
                r.AddError("--to needs --from.");
        });
        command.SetAction(async (r, ct) =>
        {
            var options = new AthenaCatalogOptions
            {
                Database = r.GetValue(database)!,
                Location = r.GetValue(location),
                PartitionProjection = r.GetValue(projection),
                ParquetPartitioning = r.GetValue(engine) == "athena" ? ParquetPartitioning.CompactorRegistered : ParquetPartitioning.HourFolders,
            };
            IReadOnlyList<string> statements;
            try
            {
                if (r.GetValue(from) is { } f) options.AddHours(ParseHour(f)!.Value, ParseHour(r.GetValue(to) ?? f)!.Value);
                statements = AthenaCatalog.Statements(options);
            }
            catch (ArgumentException e)
            {
                string message = e.ParamName is { } p ? e.Message.Replace($" (Parameter '{p}')", "", StringComparison.Ordinal) : e.Message;
                throw new CliException(message.Replace("AthenaCatalogOptions.Location", "--location", StringComparison.Ordinal).Replace("AthenaCatalogOptions.Database", "--database", StringComparison.Ordinal), 2, e);
            }
            if (!options.PartitionProjection && options.Hours.Count == 0)
                await stderr.WriteLineAsync("[WARN] no partitions: without --projection the tables read no hour until partitions are added (give --from/--to, or use --projection).").ConfigureAwait(false);
            if (!apply)
            {
                using var output = new StreamWriter(stdout, leaveOpen: true);
                foreach (string statement in statements)
                {
                    await output.WriteLineAsync(statement + ";").ConfigureAwait(false);
                    await output.WriteLineAsync().ConfigureAwait(false);
                }
                return 0;
            }
            // No database in the query context: Athena refuses one that does not exist yet, and every name is qualified.
            var athena = new AthenaOptions { Database = null, WorkGroup = r.GetValue(workGroup)!, OutputLocation = r.GetValue(outputLocation), ServiceUrl = r.GetValue(endpoint) };
            if (r.GetValue(region) is { } regionName) athena.Region = regionName;
            Query.IQueryEngine client;
            try
            {
                client = AthenaClientFactory.CreateQueryEngine(athena);
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message, 2, e);
            }
            using var owned = client as IDisposable;
            try
            {
                int n = await AthenaCatalog.ApplyAsync(options, client, new InlineProgress<string>(line => stderr.WriteLine("[INFO] " + line)), ct).ConfigureAwait(false);
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"[INFO] catalog applied: {n} statements on database {options.Database}")).ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new CliException($"catalog apply failed: {e.Message}", 1, e);
            }
        });
        return command;
    }

    private static DateTime? ParseHour(string text)
    {
        if (DateTime.TryParseExact(text, "yyyy-MM-dd'T'HH", CultureInfo.InvariantCulture, DateTimeStyles.None, out var h)) return h;
        return CompactCommand.ParseTime(text)?.UtcDateTime;
    }
}
