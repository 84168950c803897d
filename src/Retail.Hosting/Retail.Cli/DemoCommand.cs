using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Retail.Codecs;
using Retail.Compaction;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Query;
using Retail.Sinks.DuckDb;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;
using Spectre.Console;

namespace Retail.Cli;

/// <summary>
/// <c>retail demo</c>, the main job: the whole workshop on one machine. Records stream in, are
/// delivered to the local lake as JSON lines and upserted into the speed layer at the same time, every
/// hour is compacted into Parquet, and the workshop's queries run on both tables.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The workshop's queries, run unchanged against each table.</summary>
    internal static readonly string[] WorkshopQueries =
    [
        "SELECT * FROM {0} LIMIT 10",
        "SELECT date_trunc('month', invoicedate) invoice_year_month, sum(price*quantity) revenue FROM {0} WHERE invoicedate BETWEEN timestamp '2010-01-01' AND timestamp '2010-12-31' GROUP BY 1",
    ];

    public static Command Create(Stream stdout, TextWriter stderr)
    {
        var lake = LakeOption.Create(mustExist: false);
        var append = new Option<bool>("--append") { Description = "Add to a lake that already holds data (its tables and index keep the earlier rows)." };
        var replace = new Option<bool>("--replace") { Description = "Empty the lake first: removes json-data/, error-json/, parquet-retail-trans/ and _retail/ (the speed-layer index) under --lake, nothing else." };
        var records = new Option<long>("--records") { Description = "Synthetic records to stream.", DefaultValueFactory = _ => 100_000 };
        var input = new Option<FileInfo?>("--input-file", "-I") { Description = "Replay this Online Retail CSV instead of synthetic data (bad rows go to the error output)." };
        var deliveryFlags = new DeliveryFlags();
        var (partitionBy, bufferSize, bufferInterval) = (deliveryFlags.PartitionBy, deliveryFlags.BufferSizeMiB, deliveryFlags.BufferInterval);
        var seed = new Option<ulong>("--seed") { Description = "Seed of the synthetic data and partition keys.", DefaultValueFactory = _ => 7 };
        var shards = new Option<int>("--shards") { Description = "Shards of the in-process stream.", DefaultValueFactory = _ => 2 };
        var idMode = new Option<string>("--id-mode") { Description = "Speed-layer document ids: source-position (default, nothing overwritten), business-key, or workshop (md5[:8], collides).", DefaultValueFactory = _ => "source-position" };
        idMode.AcceptOnlyFromAmong("source-position", "business-key", "workshop");
        var rate = new Option<double?>("--rate") { Description = "Records per second to produce (default: as fast as the pipeline takes them)." };
        var serve = new Option<bool>("--serve") { Description = "Serve the dashboard while the demo streams, and go on serving when it is done, until Ctrl-C." };
        var urls = DashboardServer.CreateUrlsOption();
        var command = new Command("demo", "Run the whole pipeline on the embedded defaults: stream → lake (JSON lines) ∥ speed layer → Parquet compaction → SQL.")
        {
            lake, append, replace, records, input, partitionBy, bufferSize, bufferInterval, seed, shards, idMode, rate, serve, urls,
        };
        rate.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is double d && (d <= 0 || double.IsNaN(d) || double.IsInfinity(d))) r.AddError($"--rate must be a positive number of records per second, got {d}."); });
        command.Validators.Add(r => { if (r.GetResult(urls) is { Implicit: false } && !r.GetValue(serve)) r.AddError("--urls is for --serve: give --serve too."); });
        command.Validators.Add(r => { if (r.GetValue(append) && r.GetValue(replace)) r.AddError("--append and --replace cannot be used together."); });
        records.Validators.Add(r => { if (r.GetValueOrDefault<long>() < 0) r.AddError($"--records must be 0 or more, got {r.GetValueOrDefault<long>()}."); });
        shards.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 64) r.AddError($"--shards must be 1 to 64, got {r.GetValueOrDefault<int>()}."); });
        input.Validators.Add(r => { if (r.GetValueOrDefault<FileInfo?>() is { Exists: false } f) r.AddError(Directory.Exists(f.FullName) ? $"--input-file {f.FullName} is a directory; give a file." : $"--input-file {f.FullName} does not exist."); });
        command.SetAction(async (r, ct) =>
        {
            var settings = new DemoSettings(
                r.GetValue(lake)!.FullName, r.GetValue(records), r.GetValue(input)?.FullName, r.GetValue(partitionBy) == "event-time",
                r.GetValue(bufferSize), r.GetValue(bufferInterval), r.GetValue(seed), r.GetValue(shards),
                r.GetValue(idMode) switch { "business-key" => DocumentIdMode.BusinessKey, "workshop" => DocumentIdMode.WorkshopMd5Prefix, _ => DocumentIdMode.SourcePosition },
                r.GetValue(append) ? ExistingLake.Append : r.GetValue(replace) ? ExistingLake.Replace : ExistingLake.Refuse)
            {
                Rate = r.GetValue(rate),
                ServeUrls = r.GetValue(serve) ? r.GetValue(urls) : null,
            };
            return await RunAsync(settings, stdout, stderr, ct).ConfigureAwait(false);
        });
        return command;
    }

    internal sealed record DemoSettings(string Lake, long Records, string? InputFile, bool EventTime, int BufferSizeMiB, int BufferIntervalSeconds, ulong Seed, int Shards, DocumentIdMode IdMode,
        ExistingLake Existing = ExistingLake.Refuse)
    {
        /// <summary>Records per second to produce, or null for as fast as the pipeline takes them.</summary>
        public double? Rate { get; init; }
        /// <summary>Serve the dashboard on these URLs while the demo runs and after it, until cancelled; null: no dashboard.</summary>
        public string? ServeUrls { get; init; }
        /// <summary>Called once the dashboard listens, with its addresses (tests read the port from here).</summary>
        public Action<IReadOnlyList<string>>? Serving { get; init; }
    }

    /// <summary>What to do with a lake that already holds data.</summary>
    internal enum ExistingLake
    {
        /// <summary>Stop with an error saying to choose (the default: a second run must not silently double the tables).</summary>
        Refuse,
        /// <summary>Add this run's records to the tables and the index.</summary>
        Append,
        /// <summary>Empty the lake's folders and the index first.</summary>
        Replace,
    }

    internal static async Task<int> RunAsync(DemoSettings s, Stream stdout, TextWriter stderr, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        LakeOption.EnsureWritable(s.Lake);
        long existing = await LakeOption.CountObjectsAsync(s.Lake, 1000, ct).ConfigureAwait(false);
        if (existing > 0 && s.Existing == ExistingLake.Refuse)
            throw new CliException($"--lake {s.Lake} already holds a lake ({(existing >= 1000 ? "1,000 or more" : existing.ToString("N0", CultureInfo.InvariantCulture))} objects under {string.Join(", ", LakeOption.Folders)}): " +
                "run with --append to add this run's records to it, or --replace to empty it (and its speed-layer index) first, or choose a new --lake.", 2);
        // The dashboard listens before anything is emptied, so a port in use stops the demo with the lake untouched. It
        // answers 503 ("starting") until the lake's engines are open, below.
        Microsoft.AspNetCore.Builder.WebApplication? dashboard = null;
        DashboardServer.DeferredServices? deferred = null;
        IReadOnlyList<string> addresses = [];
        if (s.ServeUrls is not null)
        {
            deferred = new DashboardServer.DeferredServices();
            (dashboard, addresses) = await DashboardServer.StartAsync(s.ServeUrls, deferred, deferred, stderr, ct).ConfigureAwait(false);
        }
        // Declared before the services it reads, so it is stopped after them only on a failure (then a request in that
        // moment is a 503); on success it is stopped explicitly first.
        await using var stopDashboard = new AsyncDisposer(dashboard);
        if (existing > 0 && s.Existing == ExistingLake.Replace)
        {
            LakeOption.Empty(s.Lake);
            await stderr.WriteLineAsync($"[INFO] --replace: emptied {string.Join(", ", LakeOption.Folders)} under {s.Lake}").ConfigureAwait(false);
        }
        string? header = s.InputFile is null ? null : ReadHeader(s.InputFile);

        var services = new ServiceCollection();
        var builder = services.AddRetail()
            .AddLocalLake(o => o.Path = s.Lake)
            .AddInProcessStream(o => o.ShardCount = s.Shards)
            .AddDelivery(o => DeliveryFlags.Apply(o, s.EventTime, s.BufferSizeMiB, s.BufferIntervalSeconds))
            .AddDuckDbUpsertIndex(o => o.LakePath = s.Lake)
            .AddSpeedLayer(o => o.IdMode = s.IdMode)
            .AddParquetCompactor()
            .AddDuckDbQueries(o => o.LakePath = s.Lake);
        if (header is not null) builder.UseRecordDecoder(new OnlineRetailCsvRowDecoder(header));
        await using var provider = services.BuildServiceProvider();
        provider.ValidateRetailOptions();

        var store = provider.GetRequiredService<IObjectStore>();
        if (existing > 0 && s.Existing == ExistingLake.Append)
            await stderr.WriteLineAsync($"[INFO] --append: {s.Lake} already holds data; this run adds to it, and the table totals below include it.").ConfigureAwait(false);

        var stream = provider.GetRequiredService<InProcessRecordStream>();
        var delivery = provider.GetRequiredService<DeliveryEngine>();
        var speed = provider.GetRequiredService<SpeedLayerEngine>();
        var compactor = provider.GetRequiredService<IHourlyCompactor>();
        var query = provider.GetRequiredService<IQueryEngine>();
        var index = provider.GetRequiredService<IUpsertIndex>();
        var time = provider.GetRequiredService<TimeProvider>();

        if (deferred is not null)
        {
            deferred.Open(query, provider.GetService<ISpeedLayerView>());
            // Said once the lake is open, so a page opened from this line never sees the "starting" 503.
            await stderr.WriteLineAsync($"[INFO] serving the dashboard at {string.Join(", ", addresses.Select(a => a.TrimEnd('/') + "/"))} while the demo streams").ConfigureAwait(false);
            s.Serving?.Invoke(addresses);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stderr), Interactive = InteractionSupport.Detect });
        var timings = new List<(string Stage, TimeSpan Time)>();
        long produced = 0;
        long expected = s.InputFile is null ? s.Records : 0;

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long documentsBefore = await index.CountAsync(ct).ConfigureAwait(false);
        var deliveryRun = delivery.RunAsync(linked.Token);
        var speedRun = speed.RunAsync(linked.Token);
        var streaming = Stopwatch.StartNew();
        TimeSpan produceTime = default, deliveryTime = default, speedTime = default;

        await console.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var produceTask = progress.AddTask("produce", maxValue: Math.Max(1, expected));
                var deliverTask = progress.AddTask("deliver to lake", maxValue: Math.Max(1, expected));
                var speedTask = progress.AddTask("upsert speed layer", maxValue: Math.Max(1, expected));
                var producing = Task.Run(async () =>
                {
                    try
                    {
                        produced = header is null
                            ? await ProduceSyntheticAsync(stream, s, linked.Token).ConfigureAwait(false)
                            : await ProduceCsvAsync(stream, s.InputFile!, s.Seed, linked.Token, s.Rate).ConfigureAwait(false);
                    }
                    finally
                    {
                        produceTime = streaming.Elapsed;
                        stream.Complete();
                    }
                }, linked.Token);
                var stages = new[] { producing, deliveryRun.ContinueWith(t => { deliveryTime = streaming.Elapsed; return t; }, TaskScheduler.Default).Unwrap(),
                    speedRun.ContinueWith(t => { speedTime = streaming.Elapsed; return t; }, TaskScheduler.Default).Unwrap() };
                var all = Task.WhenAll(stages);
                // Until everything ends, or one stage fails: then the others are stopped at once (a producer
                // waiting on a full stream behind a failed consumer would otherwise wait out its retry time).
                while (!all.IsCompleted && !stages.Any(t => t.IsFaulted))
                {
                    if (expected == 0) // replay: the total is known once production ends
                    {
                        long max = Math.Max(1, Math.Max(produced, delivery.Stats.RecordsRead));
                        produceTask.MaxValue = deliverTask.MaxValue = speedTask.MaxValue = max;
                    }
                    produceTask.Value = producing.IsCompleted ? produceTask.MaxValue : delivery.Stats.RecordsRead;
                    deliverTask.Value = delivery.Stats.RecordsDelivered + delivery.Stats.RecordsFailed;
                    speedTask.Value = speed.Stats.RecordsRead;
                    await NextTickAsync(stages, TimeSpan.FromMilliseconds(200), TimeProvider.System).ConfigureAwait(false);
                }
                await FailFastAsync(linked, ct, ("produce", producing), ("deliver to lake", deliveryRun), ("upsert speed layer", speedRun)).ConfigureAwait(false);
                produceTask.MaxValue = deliverTask.MaxValue = speedTask.MaxValue = Math.Max(1, produced);
                produceTask.Value = deliverTask.Value = speedTask.Value = Math.Max(1, produced);
            }).ConfigureAwait(false);
        timings.Add(("produce", produceTime));
        timings.Add(("deliver (streaming, alongside produce)", deliveryTime));
        timings.Add(("speed layer (streaming, alongside produce)", speedTime));

        var compactWatch = Stopwatch.StartNew();
        var report = await compactor.CompactAsync(time.GetUtcNow(), CompactionScope.All, cancellationToken: ct).ConfigureAwait(false);
        timings.Add(("compact to Parquet", compactWatch.Elapsed));
        var problems = new List<string>();
        foreach (var h in report.Hours.Where(h => h.Outcome == HourCompactionOutcome.Failed))
            problems.Add($"compaction of {h.Hour:yyyy-MM-dd HH}:00 failed: {h.Error}");

        var queryWatch = Stopwatch.StartNew();
        using var output = new StreamWriter(stdout, new UTF8Encoding(false), 64 * 1024, leaveOpen: true);
        foreach (var table in new[] { RetailLakeDefinition.DefaultJsonTableName, RetailLakeDefinition.DefaultParquetTableName })
        {
            foreach (var q in WorkshopQueries)
            {
                string sql = string.Format(CultureInfo.InvariantCulture, q, table);
                await output.WriteLineAsync($"-- {sql}").ConfigureAwait(false);
                var result = await QueryAsync(query, sql, table, ct).ConfigureAwait(false);
                QueryResultFormatter.Write(result, QueryOutputFormat.Table, output);
            }
        }
        // One scan per table for both its count and its revenue.
        var counts = await QueryAsync(query,
            $"SELECT * FROM (SELECT count(*) n, sum(quantity*price) revenue FROM {RetailLakeDefinition.DefaultJsonTableName}) j, " +
            $"(SELECT count(*) n, sum(quantity*price) revenue FROM {RetailLakeDefinition.DefaultParquetTableName}) p", "both tables", ct).ConfigureAwait(false);
        timings.Add(("queries", queryWatch.Elapsed));
        long documents = await index.CountAsync(ct).ConfigureAwait(false);

        long parquetFiles = 0, parquetBytes = 0;
        await foreach (var o in store.ListAsync(LakeLayout.ParquetPrefix, ct).ConfigureAwait(false))
        {
            parquetFiles++;
            parquetBytes += o.Size;
        }

        var row = counts.Rows[0];
        string Text(object? v) => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "";
        // The tables are two views of the same records: they must agree exactly, to the last decimal.
        if (!Equals(row[0], row[2]) || !Equals(row[1], row[3]))
            problems.Add($"the JSON and Parquet tables differ: rows {Text(row[0])} / {Text(row[2])}, revenue {Text(row[1])} / {Text(row[3])}");
        long delivered = delivery.Stats.RecordsDelivered + delivery.Stats.RecordsFailed;
        if (delivered != produced)
            problems.Add($"{produced:N0} records were produced but {delivered:N0} delivered (to the tables or the error output)");
        // With source-position ids every delivered record is its own document: none overwritten, none missing.
        if (s.IdMode == DocumentIdMode.SourcePosition && documents - documentsBefore != delivery.Stats.RecordsDelivered)
            problems.Add($"the speed layer gained {documents - documentsBefore:N0} documents for {delivery.Stats.RecordsDelivered:N0} delivered records");

        await output.WriteLineAsync("-- summary").ConfigureAwait(false);
        var summary = new (string, string)[]
        {
            ("lake", s.Lake),
            ("records in", produced.ToString("N0", CultureInfo.InvariantCulture)),
            ("records delivered (JSON lines)", delivery.Stats.RecordsDelivered.ToString("N0", CultureInfo.InvariantCulture)),
            ("JSON objects written", delivery.Stats.ObjectsWritten.ToString("N0", CultureInfo.InvariantCulture)),
            ("error records (error-json/…/processing-failed/)", delivery.Stats.RecordsFailed.ToString("N0", CultureInfo.InvariantCulture)),
            ("Parquet files / bytes", $"{parquetFiles:N0} / {parquetBytes:N0}"),
            ("Parquet rows", Text(row[2])),
            ("JSON table rows", Text(row[0])),
            ("revenue (JSON / Parquet)", $"{Text(row[1])} / {Text(row[3])}"),
            ("speed-layer documents", documents.ToString("N0", CultureInfo.InvariantCulture)),
            ("speed-layer invalid / rejected (dead letters)", $"{speed.Stats.RecordsInvalid:N0} / {speed.Stats.DocumentsRejected:N0} ({speed.Stats.DocumentsDeadLettered:N0} under error-json/…/AmazonOpenSearchService-failed/)"),
            ("compaction: hours / failed", $"{report.Hours.Count} / {report.FailedHours}"),
        };
        foreach (var (name, value) in summary) await output.WriteLineAsync($"{name,-48} {value}").ConfigureAwait(false);
        foreach (var (stage, t) in timings) await output.WriteLineAsync($"{"time: " + stage,-48} {t.TotalSeconds:0.00} s").ConfigureAwait(false);
        await output.WriteLineAsync($"{"time: total",-48} {total.Elapsed.TotalSeconds:0.00} s").ConfigureAwait(false);
        await output.FlushAsync(ct).ConfigureAwait(false);
        foreach (var p in problems) await stderr.WriteLineAsync($"[ERROR] {p}").ConfigureAwait(false);
        if (dashboard is not null && !ct.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("[INFO] the demo is done; the dashboard goes on serving until Ctrl-C").ConfigureAwait(false);
            await DashboardServer.ServeUntilStoppedAsync(dashboard, ct).ConfigureAwait(false);
        }
        await stopDashboard.DisposeAsync().ConfigureAwait(false);
        return problems.Count > 0 ? 1 : 0;
    }

    /// <summary>Stops the dashboard (if any) before the services it reads are disposed.</summary>
    private sealed class AsyncDisposer(Microsoft.AspNetCore.Builder.WebApplication? app) : IAsyncDisposable
    {
        private Microsoft.AspNetCore.Builder.WebApplication? _app = app;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _app, null) is not { } running) return;
            await running.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await running.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Waits, when <paramref name="rate"/> is set, until record <paramref name="n"/> is due (flushing what is batched first, so the records flow at that rate).</summary>
    private static async ValueTask PaceAsync(StreamProducer producer, double? rate, long n, long started, CancellationToken ct)
    {
        if (rate is not double perSecond) return;
        // Check a fiftieth of a second's records at a time, not every record.
        if (n % Math.Max(1, (long)(perSecond / 50)) != 0) return;
        var due = TimeSpan.FromSeconds(n / perSecond) - Stopwatch.GetElapsedTime(started);
        if (due <= TimeSpan.Zero) return;
        await producer.FlushAsync(ct).ConfigureAwait(false);
        await Task.Delay(due, ct).ConfigureAwait(false);
    }

    private static async Task<QueryResult> QueryAsync(IQueryEngine query, string sql, string what, CancellationToken ct)
    {
        try
        {
            return await query.QueryAsync(sql, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (DuckDbQueryException e)
        {
            throw new CliException($"the workshop query over {what} failed: {e.Message}", 1, e);
        }
    }

    /// <summary>
    /// Waits for every stage; when one fails, stops the others and reports the first real failure: a consumer's
    /// over the producer's (a producer refused by a full stream is a symptom of the consumer that stopped reading).
    /// </summary>
    /// <summary>
    /// Completes when one of the <paramref name="stages"/> still running ends, or after <paramref name="tick"/>. Stages
    /// that have already ended are not waited on: with them in the wait it would complete at once, and the progress loop
    /// would spin on a core the stages still running need (the producer ends seconds before delivery does).
    /// </summary>
    internal static Task NextTickAsync(IReadOnlyList<Task> stages, TimeSpan tick, TimeProvider time)
    {
        var running = stages.Where(t => !t.IsCompleted).ToArray();
        return running.Length == 0 ? Task.CompletedTask : Task.WhenAny(Task.WhenAny(running), Task.Delay(tick, time, CancellationToken.None));
    }

    private static async Task FailFastAsync(CancellationTokenSource linked, CancellationToken ct, params (string Stage, Task Task)[] stages)
    {
        // Stop the others first: WhenAll would wait for all of them, and a producer refused by a full stream
        // behind a failed consumer would retry for minutes.
        if (stages.Any(st => st.Task.IsFaulted)) await linked.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(stages.Select(st => st.Task)).ConfigureAwait(false);
        }
        catch when (!ct.IsCancellationRequested)
        {
            // Every stage has ended here (WhenAll completes only then): read their outcomes.
            var failures = stages.Where(st => st.Task.IsFaulted)
                .Select(st => (st.Stage, Error: st.Task.Exception!.InnerException!))
                .Where(f => f.Error is not OperationCanceledException)
                .OrderBy(f => f.Stage == "produce" ? 1 : 0)
                .ToList();
            if (failures.Count > 0) throw new CliException($"{failures[0].Stage} failed: {failures[0].Error.Message}", 1, failures[0].Error);
            throw;
        }
    }

    private static async Task<long> ProduceSyntheticAsync(IRecordStream stream, DemoSettings s, CancellationToken ct)
    {
        var random = new Random(unchecked((int)s.Seed));
        var generator = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = s.Seed });
        await using var producer = new StreamProducer(stream);
        long n = 0, started = Stopwatch.GetTimestamp();
        foreach (var record in generator.Generate(s.Records))
        {
            await producer.AddAsync(StreamProducer.WorkshopPartitionKey(random), RetailJson.ToJsonLine(record), ct).ConfigureAwait(false);
            n++;
            await PaceAsync(producer, s.Rate, n, started, ct).ConfigureAwait(false);
        }
        await producer.FlushAsync(ct).ConfigureAwait(false);
        return n;
    }

    internal static string ReadHeader(string path)
    {
        try
        {
            // The same checks as the reader's (encoding, missing or ambiguous columns), before anything runs.
            using var reader = new DelimitedReader(File.OpenRead(path));
            var result = reader.Read();
            if (result == DelimitedReadResult.End) throw new CliException($"--input-file {path} is empty: expected a header row.", 2);
            if (result == DelimitedReadResult.Error) throw new CliException($"--input-file {path}: unreadable header row: {reader.LastError}", 2);
            string header = Encoding.UTF8.GetString(reader.RawRecord);
            _ = new OnlineRetailCsvRowDecoder(header);
            return header;
        }
        catch (RetailFormatException e)
        {
            throw new CliException($"--input-file {path}: {e.Message}", 2, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read --input-file {path}: {e.Message}", 2, e);
        }
    }

    /// <summary>
    /// Sends every data row as it is (good and bad alike: the delivery's decoder routes bad rows to the error output with
    /// their reason). A row too long for one stream record is sent as its first bytes and a note of its size
    /// (<see cref="OnlineRetailCsvRowDecoder.CreateTooLongRowRecord"/>), so its error record says "record too long (N
    /// bytes, limit M)".
    /// </summary>
    internal static async Task<long> ProduceCsvAsync(IRecordStream stream, string path, ulong seed, CancellationToken ct, double? rate = null)
    {
        var random = new Random(unchecked((int)seed));
        const int maxRow = OnlineRetailCsvRowDecoder.DefaultMaxRowBytes;
        using var reader = new DelimitedReader(File.OpenRead(path), new DelimitedReaderOptions { MaxRecordBytes = maxRow });
        await using var producer = new StreamProducer(stream);
        reader.Read(); // header
        int headerFields = reader.FieldCount;
        long n = 0, started = Stopwatch.GetTimestamp();
        while (true)
        {
            var result = reader.Read();
            if (result == DelimitedReadResult.End) break;
            byte[] raw;
            if (result == DelimitedReadResult.Record)
            {
                // A multi-line record with the wrong shape is an unbalanced quote: send only its first line.
                if (reader.FieldCount != headerFields) reader.ResyncAfterFirstLine();
                raw = reader.RawRecord.ToArray();
            }
            else if (reader.LastError!.IsTruncated)
                raw = OnlineRetailCsvRowDecoder.CreateTooLongRowRecord(reader.LastError.RawRecord.Span, reader.LastError.RecordBytes, maxRow);
            else raw = reader.LastError.RawRecord.ToArray();
            await producer.AddAsync(StreamProducer.WorkshopPartitionKey(random), raw, ct).ConfigureAwait(false);
            n++;
            await PaceAsync(producer, rate, n, started, ct).ConfigureAwait(false);
        }
        await producer.FlushAsync(ct).ConfigureAwait(false);
        return n;
    }
}
