using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Retail.Delivery;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Cli;

/// <summary>
/// <c>retail deliver --stream-name S --lake s3://bucket[/prefix]|DIR …</c>: Retail's own Firehose. A
/// <see cref="DeliveryEngine"/> reads every shard of the Kinesis stream (in lineage order) and writes the workshop's
/// objects into the lake; its checkpoints live in the same lake (<c>_retail/checkpoints/</c>). Ctrl-C or SIGTERM
/// writes what is buffered, checkpoints it and exits 0; a second process on the same consumer name and lake is refused.
/// </summary>
internal static class DeliverCommand
{
    public static Command Create(Stream stdout, TextWriter stderr)
    {
        _ = stdout;
        var stream = KinesisFlags.StreamName(required: true, "The Kinesis stream to deliver.");
        var lake = LakeOption.CreateLocation(mustExist: false);
        lake.DefaultValueFactory = null;
        lake.Required = true;
        var prefix = new Option<string?>("--prefix") { Description = $"The object prefix template (default: the workshop's {LakeLayout.WorkshopJsonPrefixTemplate}, or with --partition-by event-time {LakeLayout.EventTimeJsonPrefixTemplate})." };
        var errorPrefix = new Option<string?>("--error-prefix") { Description = $"The error-output prefix template (default {LakeLayout.WorkshopErrorPrefixTemplate})." };
        var flags = new DeliveryFlags();
        var from = KinesisFlags.IteratorType("--from", "Where a shard without a checkpoint is read from: TRIM_HORIZON (default: nothing already in the stream is skipped), LATEST or AT_TIMESTAMP (with --timestamp). A shard with a checkpoint resumes after it.");
        var timestamp = KinesisFlags.Timestamp();
        var endpoint = KinesisFlags.Endpoint();
        var s3Endpoint = LakeOption.CreateS3Endpoint();
        var region = KinesisFlags.Region();
        var consumer = new Option<string>("--consumer-name") { Description = "The consumer name its checkpoints and its claim go by (one process per name and lake).", DefaultValueFactory = _ => new DeliveryOptions().ConsumerName };
        var idleExit = new Option<double?>("--idle-exit") { Description = "Write, checkpoint and exit 0 once nothing has been read for this many seconds and the stream has nothing left (behind-latest 0)." };
        var command = new Command("deliver", "Deliver a Kinesis stream to the lake as Firehose does (JSON objects under json-data/…, errors under error-json/…), checkpointed in the lake.")
        {
            stream, lake, prefix, errorPrefix,
        };
        foreach (var o in flags.All) command.Options.Add(o);
        foreach (var o in new Option[] { from, timestamp, endpoint, s3Endpoint, region, consumer, idleExit }) command.Options.Add(o);
        KinesisFlags.RequireTimestamp(command, from, timestamp);
        idleExit.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is double d && !(d > 0 && double.IsFinite(d))) r.AddError($"--idle-exit must be a positive number of seconds, got {d}."); });
        command.SetAction(async (r, ct) =>
        {
            string location = r.GetValue(lake)!;
            bool s3 = LakeOption.IsS3(location);
            if (!s3 && r.GetValue(s3Endpoint) is not null)
                throw new CliException($"--s3-endpoint-url is for an s3:// --lake; --lake {location} is a folder.", 2);
            string streamName = r.GetValue(stream)!;
            var kinesisOptions = KinesisFlags.Options(streamName, r.GetValue(region), r.GetValue(endpoint));
            var position = KinesisFlags.Position(r.GetValue(from)!, r.GetValue(timestamp));
            var (services, retail, _) = KinesisFlags.LakeConsumerServices(location, r.GetValue(s3Endpoint), kinesisOptions);
            retail.AddDelivery(o =>
            {
                DeliveryFlags.Apply(o, r.GetValue(flags.PartitionBy) == "event-time", r.GetValue(flags.BufferSizeMiB), r.GetValue(flags.BufferInterval));
                if (r.GetValue(prefix) is { } p) o.Prefix = p;
                if (r.GetValue(errorPrefix) is { } e) o.ErrorOutputPrefix = e;
                o.DeliveryStreamName = streamName;
                o.ConsumerName = r.GetValue(consumer)!;
                o.InitialPosition = position;
            });
            await using var provider = services.BuildServiceProvider();
            provider.ValidateRetailOptions();
            if (s3) await LakeOption.EnsureWritableAsync(provider.GetRequiredService<IObjectStore>(), location, ct).ConfigureAwait(false);
            var engine = provider.GetRequiredService<DeliveryEngine>();
            return await RunAsync(engine, streamName, location, r.GetValue(idleExit) is double s ? TimeSpan.FromSeconds(s) : null, stderr, TimeProvider.System, ct).ConfigureAwait(false);
        });
        return command;
    }

    internal static async Task<int> RunAsync(DeliveryEngine engine, string streamName, string lake, TimeSpan? idleExit, TextWriter stderr, TimeProvider time, CancellationToken ct)
    {
        await stderr.WriteLineAsync($"[INFO] delivering Kinesis stream {streamName} to {lake} as consumer {engine.ConsumerName}").ConfigureAwait(false);
        var (why, failure) = await ConsumerRun.RunAsync(engine.RunAsync, engine.ConsumerStats, rate => Progress(engine, rate), "every shard was delivered to its end",
            idleExit, stderr, time, ct).ConfigureAwait(false);
        // A failure the engine could not get past is the command's error (one line, non-zero exit), after the last progress line.
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        var stats = engine.Stats;
        await stderr.WriteLineAsync($"[INFO] stopped: {why}; {stats.RecordsDelivered} records delivered in {stats.ObjectsWritten} objects, {stats.RecordsFailed} to the error output, {engine.ConsumerStats.CheckpointsSaved} checkpoints saved").ConfigureAwait(false);
        if (engine.ConsumerStats.UnflushedRecords > 0)
        {
            await stderr.WriteLineAsync($"[WARN] {engine.ConsumerStats.UnflushedRecords} buffered records could not be written before the shutdown timeout; the next run reads them again").ConfigureAwait(false);
            return 1;
        }
        return 0;
    }

    private static string Progress(DeliveryEngine engine, double recordsPerSecond) => string.Create(CultureInfo.InvariantCulture,
        $"[INFO] {engine.ConsumerStats.RecordsRead} records read ({recordsPerSecond:0} records/s), {engine.Stats.RecordsDelivered} delivered, {engine.Stats.ObjectsWritten} objects written, {engine.Stats.RecordsFailed} error records, behind latest {engine.ConsumerStats.MillisBehindLatest} ms");
}
