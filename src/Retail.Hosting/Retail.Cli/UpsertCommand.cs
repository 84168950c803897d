using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Sinks.OpenSearch;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Cli;

/// <summary>
/// <c>retail upsert --stream-name S --opensearch-url URL …</c>: the workshop's <c>UpsertToES</c> as a single-process
/// worker. A <see cref="SpeedLayerEngine"/> reads every shard of the Kinesis stream and upserts each record into
/// OpenSearch with the handler every host shares (<see cref="UpsertHandlerSettings"/>: the Lambda's environment
/// variables, each overridable by a flag); records that cannot be indexed go to the lake's error output as Firehose's
/// <c>AmazonOpenSearchService-failed</c> records; checkpoints live in the same lake. Ctrl-C or SIGTERM upserts what is
/// batched, checkpoints it and exits 0.
/// </summary>
internal static class UpsertCommand
{
    /// <summary>The workshop's UpsertToES event source mapping: batches of 1,000 records.</summary>
    internal const int WorkshopBatchSize = 1_000;

    /// <summary>A setting of the shared handler: its environment variable and the flag that overrides it.</summary>
    private sealed record Setting(string Variable, Option<string?> Flag);

    public static Command Create(Stream stdout, TextWriter stderr)
    {
        _ = stdout;
        var stream = KinesisFlags.StreamName(required: true, "The Kinesis stream to index.");
        var endpoint = KinesisFlags.Endpoint();
        var region = KinesisFlags.Region();
        var lake = LakeOption.CreateLocation(mustExist: false);
        lake.Description = "Where dead letters (error-json/…, Firehose's AmazonOpenSearchService-failed records) and checkpoints (_retail/checkpoints/…) go: a folder, or s3://bucket[/prefix].";
        var s3Endpoint = LakeOption.CreateS3Endpoint();
        var consumer = new Option<string>("--consumer-name") { Description = "The consumer name its checkpoints and its claim go by (one process per name and lake).", DefaultValueFactory = _ => new SpeedLayerOptions().ConsumerName };
        var defaults = new SpeedLayerOptions();
        var batchSize = new Option<int>("--batch-size") { Description = "Most documents per bulk upsert (1–100000; default 1000, the workshop's event source mapping BatchSize).", DefaultValueFactory = _ => WorkshopBatchSize };
        batchSize.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 100_000) r.AddError($"--batch-size must be 1 to 100000, got {r.GetValueOrDefault<int>()}."); });
        var batchLatency = new Option<double>("--batch-latency") { Description = "Longest a document waits in a partly filled batch before it is upserted, seconds (0–300; as the Lambda's batching window).", DefaultValueFactory = _ => defaults.MaxBatchLatency.TotalSeconds };
        batchLatency.Validators.Add(r => { if (r.GetValueOrDefault<double>() is var d && !(d >= 0 && d <= 300)) r.AddError($"--batch-latency must be 0 to 300 seconds, got {d}."); });
        var from = KinesisFlags.IteratorType("--from", "Where a shard without a checkpoint is read from: TRIM_HORIZON (default: nothing already in the stream goes unindexed), LATEST (the workshop's event source mapping) or AT_TIMESTAMP (with --timestamp). A shard with a checkpoint resumes after it.");
        var timestamp = KinesisFlags.Timestamp();
        var idleExit = new Option<double?>("--idle-exit") { Description = "Upsert, checkpoint and exit 0 once nothing has been read for this many seconds and the stream has nothing left (behind-latest 0)." };

        var url = Flag("--opensearch-url", "ES_HOST", "The OpenSearch domain: a URL (https://search-retail-….es.amazonaws.com) or, as the workshop's ES_HOST, a bare host name (https is assumed). Required, as a flag or in ES_HOST.");
        url.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } u && Uri.TryCreate(u, UriKind.Absolute, out var parsed) && parsed.UserInfo.Length > 0)
                r.AddError("--opensearch-url must not hold credentials; give --username, and the password in ES_PASSWORD.");
        });
        var index = Flag("--index", "ES_INDEX", "The index (default retail).");
        var auth = Flag("--auth", "ES_AUTH", "sigv4 (default: AWS credentials from the SDK's default chain), basic (--username and ES_PASSWORD; the workshop's CDK domain) or none.");
        OneOf(auth, "sigv4", "basic", "none");
        var username = Flag("--username", "ES_USERNAME", "The basic-auth user (--auth basic).");
        var password = Flag("--password", "ES_PASSWORD", "The basic-auth password. Prefer ES_PASSWORD: a flag is visible to every user of the machine in the process list.");
        var idMode = Flag("--id-mode", "RETAIL_ID_MODE", "How documents are named: source-position (default: the record's stream, shard and sequence number; nothing collides), business-key (REQUIRED_FIELDS) or workshop-md5 (the workshop's md5[:8] of the key, which collides).");
        OneOf(idMode, "source-position", "business-key", "workshop-md5");
        var requiredFields = Flag("--required-fields", "REQUIRED_FIELDS", "The key fields every record must have, comma-separated (default Invoice,StockCode,Customer_ID); a record without one goes to the error output.");
        var osRegion = Flag("--opensearch-region", "REGION_NAME", "The domain's region for SigV4 (default: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1).");
        var service = Flag("--signing-service", "RETAIL_OPENSEARCH_SERVICE", "es (a managed domain; default) or aoss (OpenSearch Serverless).");
        OneOf(service, "es", "aoss");
        var rotation = Flag("--index-rotation", "RETAIL_INDEX_ROTATION", "none (default), hour, day, week or month: Firehose's index rotation (retail-2026-12-02, …).");
        OneOf(rotation, "none", "hour", "day", "week", "month");
        var action = Flag("--bulk-action", "RETAIL_BULK_ACTION", "index (default: replace), create (keep the first; a second is already indexed) or update (doc_as_upsert).");
        OneOf(action, "index", "create", "update");
        var refresh = Flag("--refresh", "RETAIL_REFRESH", "The refresh policy of each bulk request: none (default), true or wait_for.");
        OneOf(refresh, "none", "true", "wait_for");
        Setting[] settings =
        [
            new("ES_HOST", url), new("ES_INDEX", index), new("ES_AUTH", auth), new("ES_USERNAME", username), new("ES_PASSWORD", password),
            new("RETAIL_ID_MODE", idMode), new("REQUIRED_FIELDS", requiredFields), new("REGION_NAME", osRegion),
            new("RETAIL_OPENSEARCH_SERVICE", service), new("RETAIL_INDEX_ROTATION", rotation), new("RETAIL_BULK_ACTION", action), new("RETAIL_REFRESH", refresh),
        ];

        var command = new Command("upsert", "Index a Kinesis stream into OpenSearch as the workshop's UpsertToES Lambda does (its environment variables, overridable by flags), with collision-free ids, per-item results and retries, dead letters in the lake, checkpointed in the lake.")
        {
            stream, url, index, auth, username, password, idMode, requiredFields, osRegion, service, rotation, action, refresh,
            endpoint, region, lake, s3Endpoint, consumer, batchSize, batchLatency, from, timestamp, idleExit,
        };
        KinesisFlags.RequireTimestamp(command, from, timestamp);
        idleExit.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is double d && !(d > 0 && double.IsFinite(d))) r.AddError($"--idle-exit must be a positive number of seconds, got {d}."); });
        command.SetAction(async (r, ct) =>
        {
            string location = r.GetValue(lake)!;
            bool s3 = LakeOption.IsS3(location);
            if (!s3 && r.GetValue(s3Endpoint) is not null)
                throw new CliException($"--s3-endpoint-url is for an s3:// --lake; --lake {location} is a folder.", 2);
            if (r.GetValue(password) is not null)
                await stderr.WriteLineAsync("[WARN] --password is visible in the process list; prefer ES_PASSWORD in the environment").ConfigureAwait(false);

            // Flags override the environment: the handler reads each variable as flag ?? environment.
            var flagValues = settings.ToDictionary(s => s.Variable, s => r.GetValue(s.Flag), StringComparer.Ordinal);
            var handler = ReadSettings(name => flagValues.TryGetValue(name, out string? v) && v is not null ? v : Environment.GetEnvironmentVariable(name), settings);
            handler.SpeedLayer.ConsumerName = r.GetValue(consumer)!;
            handler.SpeedLayer.InitialPosition = KinesisFlags.Position(r.GetValue(from)!, r.GetValue(timestamp));
            handler.SpeedLayer.MaxBatchDocuments = r.GetValue(batchSize);
            handler.SpeedLayer.MaxBatchLatency = TimeSpan.FromSeconds(r.GetValue(batchLatency));

            string streamName = r.GetValue(stream)!;
            var kinesisOptions = KinesisFlags.Options(streamName, r.GetValue(region), r.GetValue(endpoint));
            // Credentials for a SigV4 domain come from the AWS SDK's default chain too.
            var (services, _, kinesis) = KinesisFlags.LakeConsumerServices(location, r.GetValue(s3Endpoint), kinesisOptions);
            await using var provider = services.BuildServiceProvider();
            provider.ValidateRetailOptions();
            var store = provider.GetRequiredService<IObjectStore>();
            if (s3) await LakeOption.EnsureWritableAsync(store, location, ct).ConfigureAwait(false);
            handler.SpeedLayer.UseLake(provider.GetRequiredService<IOptions<RetailLakeDefinition>>().Value);

            using var openSearch = CreateIndex(handler.OpenSearch);
            SpeedLayerEngine engine;
            try
            {
                engine = new SpeedLayerEngine(kinesis, openSearch, provider.GetRequiredService<ICheckpointStore>(), handler.SpeedLayer,
                    provider.GetRequiredService<IRecordDecoder>(), TimeProvider.System, logger: null, deadLetters: store);
            }
            catch (ArgumentException e)
            {
                throw new CliException(StripParameter(e.Message), 2, e);
            }
            await using (engine.ConfigureAwait(false))
            {
                string target = $"{Describe(handler.OpenSearch)} index {handler.OpenSearch.Index}";
                return await RunAsync(engine, streamName, target, location, r.GetValue(idleExit) is double s ? TimeSpan.FromSeconds(s) : null, stderr, TimeProvider.System, ct).ConfigureAwait(false);
            }
        });
        return command;
    }

    /// <summary>Refuses a value not among <paramref name="values"/>, naming the flag (the environment's values are checked by the handler's settings).</summary>
    private static void OneOf(Option<string?> option, params string[] values)
    {
        option.HelpName = string.Join('|', values);
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } v && !values.Contains(v, StringComparer.OrdinalIgnoreCase))
                r.AddError($"{option.Name} must be one of {string.Join(", ", values)}, got '{v}'.");
        });
    }

    private static Option<string?> Flag(string name, string variable, string description) =>
        new(name) { Description = $"{description} [env: {variable}]" };

    /// <summary>The shared handler's settings; a bad one is a usage error naming the variable and its flag (never a password's value).</summary>
    private static UpsertHandlerSettings ReadSettings(Func<string, string?> lookup, Setting[] settings)
    {
        try
        {
            return UpsertHandlerSettings.FromEnvironment(lookup);
        }
        catch (UpsertSettingsException e)
        {
            string message = StripParameter(e.Message);
            var setting = settings.FirstOrDefault(s => s.Variable == e.Variable);
            throw new CliException(setting is null ? message : $"{setting.Flag.Name} (or {setting.Variable}): {message}", 2, e);
        }
    }

    private static OpenSearchUpsertIndex CreateIndex(OpenSearchOptions options)
    {
        try
        {
            return OpenSearchClientFactory.CreateIndex(options);
        }
        catch (ArgumentException e)
        {
            throw new CliException(StripParameter(e.Message), 2, e);
        }
    }

    private static string StripParameter(string message) => message.Split(" (Parameter '", 2)[0];

    /// <summary>The endpoint and how requests authenticate, for the start line: never a password.</summary>
    private static string Describe(OpenSearchOptions o) => o.Auth switch
    {
        OpenSearchAuth.Basic => $"OpenSearch {o.Endpoint} (basic auth as {o.Username})",
        OpenSearchAuth.None => $"OpenSearch {o.Endpoint} (no auth)",
        _ => $"OpenSearch {o.Endpoint} (SigV4 {o.SigningService} {o.Region})",
    };

    internal static async Task<int> RunAsync(SpeedLayerEngine engine, string streamName, string target, string lake, TimeSpan? idleExit, TextWriter stderr, TimeProvider time, CancellationToken ct)
    {
        await stderr.WriteLineAsync($"[INFO] upserting Kinesis stream {streamName} into {target} as consumer {engine.ConsumerName}; dead letters and checkpoints in {lake}").ConfigureAwait(false);
        var (why, failure) = await ConsumerRun.RunAsync(engine.RunAsync, engine.ConsumerStats, rate => Progress(engine, rate), "every shard was indexed to its end",
            idleExit, stderr, time, ct).ConfigureAwait(false);
        int code = 0;
        if (failure is not null)
        {
            // Missing credentials get the command line's own message.
            if (RetailCli.FindCredentialsFailure(failure) is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            // A failure the engine could not get past (retries exhausted, an index that refuses every request, a
            // dead letter that cannot be written, a second process on the consumer): nothing past it was checkpointed.
            await stderr.WriteLineAsync($"[ERROR] {RetailCli.OneLine(failure.Message)}").ConfigureAwait(false);
            code = 1;
        }
        var stats = engine.Stats;
        await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"[INFO] stopped: {why}; {stats.DocumentsUpserted} documents upserted, {stats.DocumentsDeadLettered} dead-lettered ({stats.RecordsInvalid} invalid records, {stats.DocumentsRejected} rejected documents), {stats.DocumentsRetried} retried, {engine.ConsumerStats.CheckpointsSaved} checkpoints saved")).ConfigureAwait(false);
        if (engine.ConsumerStats.UnflushedRecords > 0)
        {
            await stderr.WriteLineAsync($"[WARN] {engine.ConsumerStats.UnflushedRecords} records could not be upserted before the shutdown timeout; the next run reads them again").ConfigureAwait(false);
            code = 1;
        }
        return code;
    }

    private static string Progress(SpeedLayerEngine engine, double recordsPerSecond) => string.Create(CultureInfo.InvariantCulture,
        $"[INFO] {engine.ConsumerStats.RecordsRead} records read ({recordsPerSecond:0} records/s), {engine.Stats.DocumentsUpserted} documents upserted, {engine.Stats.DocumentsDeadLettered} dead-lettered, {engine.Stats.DocumentsRetried} retried, behind latest {engine.ConsumerStats.MillisBehindLatest} ms");
}
