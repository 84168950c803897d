using System.Globalization;
using Retail.Codecs;
using Retail.Sinks.Kinesis;
using Retail.Streaming;

namespace Retail.Cli;

internal static partial class ProduceCommand
{
    /// <summary>How often the progress line of a put to Kinesis or Firehose is written.</summary>
    internal static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <c>--service-name kinesis|firehose</c>: every record through a <see cref="StreamProducer"/> (batches within the
    /// target's limits, only failed entries resent, bounded puts in flight), with the workshop's partition keys.
    /// </summary>
    private static async Task<int> ProduceToServiceAsync(ProduceSettings s, TextWriter stderr, TimeProvider time, CancellationToken ct)
    {
        long badRows = 0;
        void OnError(RetailRecordError e)
        {
            badRows++;
            stderr.WriteLine($"[WARN] skipped bad row: {e}");
        }

        using var source = OpenSource(s, OnError);
        var random = s.Seed is ulong seed ? new Random(unchecked((int)seed)) : new Random();
        var encoder = new RecordEncoder(s.OutFormat, !s.NoNewline);
        string target = $"{(s.Service == "kinesis" ? "Kinesis stream" : "Firehose delivery stream")} {s.StreamName}";
        IRecordPutTarget? put = s.DryRun ? null : CreateTarget(s);
        StreamProducer? producer = put is null ? null : new StreamProducer(put, new StreamProducerOptions { MaxInFlightPuts = s.MaxInFlight });
        long count = 0;
        long started = time.GetTimestamp();
        long lastProgress = started;
        int exit = 0;
        try
        {
            try
            {
                await foreach (var record in Paced(source.Records, s, time, started, ct).ConfigureAwait(false))
                {
                    byte[] data = encoder.Encode(record);
                    string key = StreamProducer.WorkshopPartitionKey(random);
                    if (producer is not null)
                    {
                        try
                        {
                            await producer.AddAsync(key, data, ct).ConfigureAwait(false);
                        }
                        catch (RecordTooLargeException e)
                        {
                            throw new CliException($"record {count + 1} of {DescribeInput(s)} (Invoice {record.Invoice}) is too large for {target}: {FirstSentence(e.Message)}", 1, e);
                        }
                    }
                    count++;
                    if (count % ProgressEvery == 0 || (s.Verbose && count % 1000 == 0) || time.GetElapsedTime(lastProgress) >= ProgressInterval)
                    {
                        lastProgress = time.GetTimestamp();
                        await stderr.WriteLineAsync(Progress(count, producer, time.GetElapsedTime(started))).ConfigureAwait(false);
                    }
                }
                if (producer is not null) await producer.FlushAsync(ct).ConfigureAwait(false);
            }
            catch (RetailFormatException e)
            {
                throw new CliException($"{DescribeInput(s)}: {e.Message} (use --on-bad-row skip to report bad rows and go on)", 1, e);
            }
            catch (StreamProducerException e)
            {
                await stderr.WriteLineAsync($"[ERROR] {RetailCli.OneLine(e.Message)}").ConfigureAwait(false);
                exit = 1;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await stderr.WriteLineAsync("[WARN] cancelled: sending what is batched once, then stopping").ConfigureAwait(false);
                exit = 130;
            }
        }
        finally
        {
            if (producer is not null)
            {
                try
                {
                    await producer.DisposeAsync().ConfigureAwait(false);
                }
                catch (StreamProducerException) when (exit != 0)
                {
                    // Already reported (the same failure), or the cancelled producer's last attempt: counted below.
                }
                catch (StreamProducerException e)
                {
                    await stderr.WriteLineAsync($"[ERROR] {RetailCli.OneLine(e.Message)}").ConfigureAwait(false);
                    exit = 1;
                }
                finally
                {
                    (put as IDisposable)?.Dispose();
                    double seconds = time.GetElapsedTime(started).TotalSeconds;
                    await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"[INFO] {target}: {producer.RecordsSent} records sent, {producer.RecordsFailed} failed, {producer.EntriesRetried} retried, {producer.RecordsUnsent} unsent of {count} in {seconds:0.00} s ({(seconds > 0 ? producer.RecordsSent / seconds : 0):0} records/s){(producer.RecordsSent == count ? "" : $"; {count - producer.RecordsSent} not accepted")}")).ConfigureAwait(false);
                }
            }
        }
        if (badRows > 0) await stderr.WriteLineAsync($"[WARN] {badRows} bad rows were skipped").ConfigureAwait(false);
        if (s.DryRun) await stderr.WriteLineAsync($"[INFO] dry run: nothing sent to {target}; {count} records, {badRows} bad rows").ConfigureAwait(false);
        if (producer is not null && exit == 0 && producer.RecordsSent != count)
        {
            await stderr.WriteLineAsync($"[ERROR] {count - producer.RecordsSent} of {count} records were not accepted by {target}").ConfigureAwait(false);
            exit = 1;
        }
        return exit;
    }

    private static string Progress(long count, StreamProducer? producer, TimeSpan elapsed)
    {
        double seconds = elapsed.TotalSeconds;
        long sent = producer?.RecordsSent ?? count;
        return string.Create(CultureInfo.InvariantCulture, $"[INFO] {count} records are processed, {sent} sent ({(seconds > 0 ? sent / seconds : 0):0} records/s)");
    }

    private static string FirstSentence(string message) => message.Replace(" (Parameter 'entry')", "", StringComparison.Ordinal);

    private static IRecordPutTarget CreateTarget(ProduceSettings s)
    {
        try
        {
            if (s.Service == "kinesis")
            {
                var options = KinesisFlags.Options(s.StreamName, s.Region, s.EndpointUrl);
                if (s.MaxRecordKib is int kib) options.MaxRecordBytes = kib * 1024;
                return KinesisClientFactory.CreateStream(options);
            }
            var firehose = new FirehoseOptions { DeliveryStreamName = s.StreamName, ServiceUrl = s.EndpointUrl };
            if (s.Region is not null) firehose.Region = s.Region;
            return KinesisClientFactory.CreateFirehose(firehose);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message.Replace(" (Parameter 'options')", "", StringComparison.Ordinal), 2, e);
        }
    }

    /// <summary>One record as the bytes of one stream record, in the chosen format (one line; its newline kept or not).</summary>
    private sealed class RecordEncoder
    {
        private readonly MemoryStream _buffer = new();
        private readonly RetailDelimitedWriter? _delimited;
        private readonly bool _newline;

        public RecordEncoder(string format, bool newline)
        {
            _newline = newline;
            _delimited = format switch
            {
                "json" => null,
                "csv" => new RetailDelimitedWriter(_buffer, DelimitedFormat.Csv, writeHeader: false, leaveOpen: true),
                "tsv" => new RetailDelimitedWriter(_buffer, DelimitedFormat.Tsv, writeHeader: false, leaveOpen: true),
                _ => throw new CliException($"--out-format {format} is not one of csv, tsv, json.", 2),
            };
        }

        public byte[] Encode(RetailTransaction record)
        {
            byte[] line;
            if (_delimited is null) line = RetailJson.ToJsonLine(record);
            else
            {
                _buffer.SetLength(0);
                _delimited.Write(record);
                _delimited.Flush();
                line = _buffer.ToArray();
            }
            if (_newline || line.Length == 0 || line[^1] != (byte)'\n') return line;
            return line.AsSpan(0, line.Length - 1).ToArray();
        }
    }
}
