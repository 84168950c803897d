using System.Collections.Concurrent;
using System.CommandLine;
using Retail.Streaming;

namespace Retail.Cli;

/// <summary>
/// <c>retail consume --stream-name S [--iter-type TRIM_HORIZON|LATEST|AT_TIMESTAMP] [--timestamp T] [--max-count N]
/// [--idle-exit SECONDS]</c>: the workshop's <c>kinesis_consumer.py</c>. Every shard is read in lineage order (a child of
/// a split or merge after its parents) and each record's data is printed as it arrives, one per line on stdout.
/// Positions are kept in memory only: each run starts at <c>--iter-type</c>.
/// </summary>
internal static class ConsumeCommand
{
    public static Command Create(Stream stdout, TextWriter stderr)
    {
        var stream = KinesisFlags.StreamName(required: true);
        var region = KinesisFlags.Region();
        var endpoint = KinesisFlags.Endpoint();
        var iterType = KinesisFlags.IteratorType("--iter-type", "Where each shard is read from: TRIM_HORIZON (every record held), LATEST (only new ones) or AT_TIMESTAMP (with --timestamp).");
        var timestamp = KinesisFlags.Timestamp();
        var maxCount = new Option<long?>("--max-count") { Description = "Stop after this many records." };
        var idleExit = new Option<double?>("--idle-exit") { Description = "Stop after this many seconds without a record." };
        var command = new Command("consume", "Print a Kinesis stream's records as they arrive, one per line on stdout (the workshop's kinesis_consumer.py).")
        {
            stream, region, endpoint, iterType, timestamp, maxCount, idleExit,
        };
        KinesisFlags.RequireTimestamp(command, iterType, timestamp);
        maxCount.Validators.Add(r => { if (r.GetValueOrDefault<long?>() is < 1) r.AddError($"--max-count must be 1 or more, got {r.GetValueOrDefault<long?>()}."); });
        idleExit.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is double d && !(d > 0 && double.IsFinite(d))) r.AddError($"--idle-exit must be a positive number of seconds, got {d}."); });
        command.SetAction(async (r, ct) =>
        {
            var position = KinesisFlags.Position(r.GetValue(iterType)!, r.GetValue(timestamp));
            using var kinesis = (IDisposable)KinesisFlags.CreateStream(KinesisFlags.Options(r.GetValue(stream), r.GetValue(region), r.GetValue(endpoint)));
            return await RunAsync((IRecordStream)kinesis, position, r.GetValue(maxCount), r.GetValue(idleExit) is double s ? TimeSpan.FromSeconds(s) : null, stdout, stderr, TimeProvider.System, ct).ConfigureAwait(false);
        });
        return command;
    }

    internal static async Task<int> RunAsync(IRecordStream stream, StartPosition position, long? maxCount, TimeSpan? idleExit, Stream stdout, TextWriter stderr, TimeProvider time, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var printer = new PrintingProcessor(stdout, maxCount, time, stop);
        var options = new StreamConsumerOptions { ConsumerName = "retail-consume", InitialPosition = position, ShutdownTimeout = TimeSpan.FromSeconds(5) };
        await using var consumer = new StreamConsumer(stream, new MemoryCheckpointStore(), printer, options, time);
        var run = consumer.RunAsync(stop.Token);
        string? why = null;
        if (idleExit is TimeSpan idle)
        {
            // Checked a few times a second: stop once nothing has arrived for that long.
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(TimeSpan.FromMilliseconds(100), time, CancellationToken.None)).ConfigureAwait(false);
                if (!run.IsCompleted && time.GetElapsedTime(printer.LastRecordAt) >= idle)
                {
                    why = $"no record for {idle.TotalSeconds:0.#} s (--idle-exit)";
                    await stop.CancelAsync().ConfigureAwait(false);
                    break;
                }
            }
        }
        try
        {
            await run.ConfigureAwait(false);
            why ??= "every shard was read to its end";
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            why ??= printer.ReachedMax ? $"{maxCount} records (--max-count)" : "interrupted";
        }
        await stderr.WriteLineAsync($"[INFO] {printer.Printed} records printed from stream {stream.StreamName}; stopped: {why}").ConfigureAwait(false);
        return 0;
    }

    /// <summary>Writes each record's data on stdout (a newline added unless it ends in one), shards interleaved whole records at a time.</summary>
    private sealed class PrintingProcessor(Stream stdout, long? maxCount, TimeProvider time, CancellationTokenSource stop) : IBatchProcessor
    {
        private readonly Lock _lock = new();
        private long _printed;
        private long _lastRecordAt = time.GetTimestamp();

        public long Printed => Interlocked.Read(ref _printed);

        public bool ReachedMax => maxCount is long max && Printed >= max;

        public long LastRecordAt => Interlocked.Read(ref _lastRecordAt);

        public ValueTask<IShardProcessor> OpenShardAsync(ShardProcessorContext context, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<IShardProcessor>(new Shard(this, context.Checkpoint));

        private Checkpoint? Print(IReadOnlyList<StreamRecord> records, Checkpoint? last)
        {
            if (records.Count == 0) return last;
            Interlocked.Exchange(ref _lastRecordAt, time.GetTimestamp());
            lock (_lock)
            {
                foreach (var record in records)
                {
                    if (maxCount is long max && _printed >= max) break;
                    var data = record.Data.Span;
                    stdout.Write(data);
                    if (data.IsEmpty || data[^1] != (byte)'\n') stdout.WriteByte((byte)'\n');
                    Interlocked.Increment(ref _printed);
                }
                // The whole batch is done (past --max-count the rest is not printed: the run stops).
                last = new Checkpoint(records[^1].SequenceNumber);
                stdout.Flush();
                if (maxCount is long m && _printed >= m) stop.Cancel();
            }
            return last;
        }

        private sealed class Shard(PrintingProcessor owner, Checkpoint? resume) : IShardProcessor
        {
            private Checkpoint? _last = resume;

            public TimeSpan? NextDeadline => null;

            public int BufferedRecords => 0;

            public ValueTask<Checkpoint?> ProcessAsync(ShardBatch batch, CancellationToken cancellationToken = default)
            {
                _last = owner.Print(batch.Records, _last);
                return ValueTask.FromResult(_last);
            }

            public ValueTask<Checkpoint?> FlushAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(_last);

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    /// <summary>Positions for one run only: <c>retail consume</c> keeps no state between runs (the workshop's consumer does not).</summary>
    private sealed class MemoryCheckpointStore : ICheckpointStore
    {
        private readonly ConcurrentDictionary<(string, string), Checkpoint> _checkpoints = new();
        private readonly ConcurrentDictionary<string, ConsumerOwner> _owners = new(StringComparer.Ordinal);

        public ValueTask<Checkpoint?> LoadAsync(string consumer, string shardId, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(_checkpoints.TryGetValue((consumer, shardId), out var c) ? c : null);

        public ValueTask SaveAsync(string consumer, string shardId, Checkpoint checkpoint, CancellationToken cancellationToken = default)
        {
            _checkpoints[(consumer, shardId)] = checkpoint;
            return ValueTask.CompletedTask;
        }

        public ValueTask<ConsumerOwner?> LoadOwnerAsync(string consumer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(_owners.TryGetValue(consumer, out var o) ? o : null);

        public ValueTask SaveOwnerAsync(string consumer, ConsumerOwner owner, CancellationToken cancellationToken = default)
        {
            _owners[consumer] = owner;
            return ValueTask.CompletedTask;
        }
    }
}
