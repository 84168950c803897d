using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Retail.Codecs;
using Retail.Synthetic;

namespace Retail.Cli;

/// <summary>
/// <c>retail produce</c>: the workshop's <c>gen_kinesis_data.py</c>, flag for flag. Synthetic records
/// or a replayed file go to a service; <c>--service-name console</c> writes them to stdout.
/// </summary>
internal static partial class ProduceCommand
{
    internal const long ProgressEvery = 100_000;

    public static Command Create(Stream stdout, TextWriter stderr)
    {
        var region = KinesisFlags.Region();
        var service = new Option<string>("--service-name") { Description = "Where records go: kinesis, firehose or console (stdout).", DefaultValueFactory = _ => "console" };
        service.AcceptOnlyFromAmong("kinesis", "firehose", "console");
        var stream = KinesisFlags.StreamName(required: false, "Kinesis stream or Firehose delivery stream name (required with --service-name kinesis or firehose).");
        var endpoint = KinesisFlags.Endpoint("Kinesis or Firehose");
        var noNewline = new Option<bool>("--no-newline") { Description = "Send each record exactly as the workshop's Kinesis producer does (json.dumps, no trailing newline); by default each record ends in \\n so Firehose objects are newline-delimited." };
        var maxInFlight = new Option<int>("--max-in-flight") { Description = "Puts (PutRecords / PutRecordBatch calls) in flight at once.", DefaultValueFactory = _ => new Streaming.StreamProducerOptions().MaxInFlightPuts };
        var maxRecordKib = new Option<int?>("--max-record-kib") { Description = "Kinesis only: the stream's largest record in KiB, data plus partition key (default 1024; up to 10240 for a stream whose MaxRecordSizeInKiB was raised)." };
        var input = new Option<FileInfo?>("--input-file", "-I") { Description = "Replay this file (Online Retail CSV, TSV or JSON lines) instead of synthetic data." };
        var inFormat = new Option<string?>("--in-format") { Description = "Format of --input-file: csv, tsv or json (default: from the extension, else csv)." };
        inFormat.AcceptOnlyFromAmong("csv", "tsv", "json");
        var encoding = new Option<string>("--encoding") { Description = "Text encoding of --input-file: utf8 (BOM optional) or latin1.", DefaultValueFactory = _ => "utf8" };
        encoding.AcceptOnlyFromAmong("utf8", "latin1");
        var onBadRow = new Option<string>("--on-bad-row") { Description = "fail: stop at the first bad input row (default); skip: report each bad row on stderr, count it, and go on.", DefaultValueFactory = _ => "fail" };
        onBadRow.AcceptOnlyFromAmong("fail", "skip");
        var outFormat = new Option<string>("--out-format") { Description = "Record format: csv, tsv or json (JSON lines).", DefaultValueFactory = _ => "json" };
        outFormat.AcceptOnlyFromAmong("csv", "tsv", "json");
        var maxCount = new Option<long?>("--max-count") { Description = "How many records (synthetic default 10; a replay sends all rows unless set)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Read or generate and count the records, but send none." };
        var verbose = new Option<bool>("--verbose") { Description = "More progress on stderr." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for reproducible synthetic data (same seed, same bytes)." };
        var now = new Option<string?>("--now") { Description = "The generator's clock, yyyy-MM-dd HH:mm:ss (default: the current time; with --seed, 2010-12-09 20:00:00)." };
        var rate = new Option<double?>("--rate") { Description = "Records per second (default: unlimited)." };

        var command = new Command("produce", "Produce retail transactions (synthetic or replayed) into a stream, or to stdout with --service-name console.")
        {
            region, service, stream, endpoint, input, inFormat, encoding, onBadRow, outFormat, maxCount, dryRun, verbose, seed, now, rate, noNewline, maxInFlight, maxRecordKib,
        };
        maxInFlight.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 64) r.AddError($"--max-in-flight must be 1 to 64, got {r.GetValueOrDefault<int>()}."); });
        command.Validators.Add(r =>
        {
            if (r.GetValue(maxCount) is < 0) r.AddError($"--max-count must be 0 or more, got {r.GetValue(maxCount)}.");
            if (r.GetValue(rate) is double d && (d <= 0 || double.IsNaN(d) || double.IsInfinity(d))) r.AddError($"--rate must be a positive number of records per second, got {d}.");
            if (r.GetValue(now) is string s && !TryParseClock(s, out _)) r.AddError($"--now must look like 2010-12-09 20:00:00, got '{s}'.");
            if (r.GetValue(input) is not null && (r.GetValue(seed) is not null || r.GetValue(now) is not null)) r.AddError("--seed and --now apply to synthetic data; they cannot be combined with --input-file.");
            string svc = r.GetValue(service) ?? "console";
            if (svc != "console" && string.IsNullOrEmpty(r.GetValue(stream))) r.AddError($"--stream-name is required with --service-name {svc}.");
            if (r.GetValue(maxRecordKib) is int kib)
            {
                if (kib is < 1 or > 10240) r.AddError($"--max-record-kib must be 1 to 10240 (KiB), got {kib}.");
                else if (svc != "kinesis") r.AddError($"--max-record-kib applies to --service-name kinesis only (Firehose takes at most 1,000 KiB per record), not {svc}.");
            }
        });
        command.SetAction(async (r, ct) =>
        {
            var settings = new ProduceSettings
            {
                Service = r.GetValue(service)!,
                StreamName = r.GetValue(stream),
                Region = r.GetValue(region),
                EndpointUrl = r.GetValue(endpoint),
                NoNewline = r.GetValue(noNewline),
                MaxInFlight = r.GetValue(maxInFlight),
                MaxRecordKib = r.GetValue(maxRecordKib),
                InputFile = r.GetValue(input),
                InFormat = r.GetValue(inFormat),
                Encoding = r.GetValue(encoding) == "latin1" ? TextEncoding.Latin1 : TextEncoding.Utf8,
                SkipBadRows = r.GetValue(onBadRow) == "skip",
                OutFormat = r.GetValue(outFormat)!,
                MaxCount = r.GetValue(maxCount),
                DryRun = r.GetValue(dryRun),
                Verbose = r.GetValue(verbose),
                Seed = r.GetValue(seed),
                Now = r.GetValue(now) is string s && TryParseClock(s, out var n) ? n : null,
                Rate = r.GetValue(rate),
            };
            return await RunAsync(settings, stdout, stderr, TimeProvider.System, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static bool TryParseClock(string s, out DateTime value) =>
        DateTime.TryParseExact(s, RetailFields.InvoiceDateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);

    internal sealed class ProduceSettings
    {
        public required string Service { get; init; }
        public string? StreamName { get; init; }
        public string? Region { get; init; }
        public string? EndpointUrl { get; init; }
        public bool NoNewline { get; init; }
        public int MaxInFlight { get; init; } = 4;
        public int? MaxRecordKib { get; init; }
        public FileInfo? InputFile { get; init; }
        public string? InFormat { get; init; }
        public TextEncoding Encoding { get; init; }
        public bool SkipBadRows { get; init; }
        public required string OutFormat { get; init; }
        public long? MaxCount { get; init; }
        public bool DryRun { get; init; }
        public bool Verbose { get; init; }
        public ulong? Seed { get; init; }
        public DateTime? Now { get; init; }
        public double? Rate { get; init; }
    }

    internal static async Task<int> RunAsync(ProduceSettings s, Stream stdout, TextWriter stderr, TimeProvider time, CancellationToken ct)
    {
        if (s.Service != "console") return await ProduceToServiceAsync(s, stderr, time, ct).ConfigureAwait(false);

        long badRows = 0;
        void OnError(RetailRecordError e)
        {
            badRows++;
            stderr.WriteLine($"[WARN] skipped bad row: {e}");
        }

        using var source = OpenSource(s, OnError);
        using var sink = s.DryRun ? null : RecordSink.Create(s.OutFormat, stdout);
        long count = 0;
        long started = time.GetTimestamp();
        try
        {
            await foreach (var record in Paced(source.Records, s, time, started, ct).ConfigureAwait(false))
            {
                sink?.Write(record);
                count++;
                if (count % ProgressEvery == 0 || (s.Verbose && count % 1000 == 0))
                    await stderr.WriteLineAsync($"[INFO] {count} records are processed").ConfigureAwait(false);
            }
            sink?.Flush();
        }
        catch (RetailFormatException e)
        {
            sink?.Flush();
            throw new CliException($"{DescribeInput(s)}: {e.Message} (use --on-bad-row skip to report bad rows and go on)", 1, e);
        }
        catch (IOException e) when (!s.DryRun)
        {
            throw new CliException($"cannot write records: {e.Message}", 1, e);
        }

        double seconds = time.GetElapsedTime(started).TotalSeconds;
        await stderr.WriteLineAsync($"[INFO] {count} records are processed").ConfigureAwait(false);
        if (badRows > 0) await stderr.WriteLineAsync($"[WARN] {badRows} bad rows were skipped").ConfigureAwait(false);
        if (s.Verbose || s.DryRun)
            await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"[INFO] {(s.DryRun ? "dry run: nothing sent; " : "")}{count} records, {badRows} bad rows, {seconds:0.00} s, {(seconds > 0 ? count / seconds : 0):0} records/s")).ConfigureAwait(false);
        return 0;
    }

    /// <summary>The records to send: at most --max-count, at most --rate a second (from <paramref name="started"/>).</summary>
    private static async IAsyncEnumerable<RetailTransaction> Paced(IEnumerable<RetailTransaction> records, ProduceSettings s, TimeProvider time, long started,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        long count = 0;
        foreach (var record in records)
        {
            ct.ThrowIfCancellationRequested();
            if (s.MaxCount is long max && count >= max) yield break;
            if (s.Rate is double rate)
            {
                var due = TimeSpan.FromSeconds(count / rate) - time.GetElapsedTime(started);
                if (due > TimeSpan.Zero) await Task.Delay(due, time, ct).ConfigureAwait(false);
            }
            count++;
            yield return record;
        }
    }

    private static string DescribeInput(ProduceSettings s) => s.InputFile?.FullName ?? "synthetic data";

    private sealed class Source(IEnumerable<RetailTransaction> records, IDisposable? owner) : IDisposable
    {
        public IEnumerable<RetailTransaction> Records { get; } = records;
        public void Dispose() => owner?.Dispose();
    }

    private static Source OpenSource(ProduceSettings s, Action<RetailRecordError> onError)
    {
        if (s.InputFile is null)
        {
            ulong seed = s.Seed ?? (ulong)Random.Shared.NextInt64();
            DateTime clock = s.Now ?? (s.Seed is null ? DateTime.Now : SyntheticTransactionGenerator.SeededClock);
            var generator = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed, Clock = clock });
            return new Source(generator.Generate(s.MaxCount ?? 10), null);
        }

        if (!s.InputFile.Exists)
        {
            throw new CliException(Directory.Exists(s.InputFile.FullName)
                ? $"--input-file {s.InputFile.FullName} is a directory; give a file."
                : $"--input-file {s.InputFile.FullName} does not exist.", 2);
        }
        string format = s.InFormat ?? (s.InputFile.Extension.ToLowerInvariant() switch
        {
            ".tsv" => "tsv",
            ".json" or ".jsonl" or ".ndjson" => "json",
            _ => "csv",
        });
        var mode = s.SkipBadRows ? BadRecordMode.Lenient : BadRecordMode.Strict;
        Stream file;
        try
        {
            file = new FileStream(s.InputFile.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot open --input-file {s.InputFile.FullName}: {e.Message}", 2, e);
        }
        try
        {
            if (format == "json")
            {
                if (s.Encoding != TextEncoding.Utf8) throw new CliException("JSON lines input must be UTF-8; drop --encoding latin1.", 2);
                var json = new JsonLinesReader(file, new RetailReaderOptions { Mode = mode, OnError = onError });
                return new Source(json.ReadAll(), json);
            }
            var reader = new OnlineRetailReader(file, new OnlineRetailReaderOptions
            {
                Mode = mode,
                OnError = onError,
                Format = format == "tsv" ? DelimitedFormat.Tsv : DelimitedFormat.Csv,
                Encoding = s.Encoding,
            });
            return new Source(reader.ReadAll(), reader);
        }
        catch (RetailFormatException e)
        {
            file.Dispose();
            throw new CliException($"{s.InputFile.FullName}: {e.Message}", 1, e);
        }
    }

    private sealed class RecordSink : IDisposable
    {
        private readonly JsonLinesWriter? _json;
        private readonly RetailDelimitedWriter? _delimited;

        private RecordSink(JsonLinesWriter? json, RetailDelimitedWriter? delimited)
        {
            _json = json;
            _delimited = delimited;
        }

        public static RecordSink Create(string format, Stream stdout) => format switch
        {
            "json" => new RecordSink(new JsonLinesWriter(stdout, leaveOpen: true), null),
            "csv" => new RecordSink(null, new RetailDelimitedWriter(stdout, DelimitedFormat.Csv, leaveOpen: true)),
            "tsv" => new RecordSink(null, new RetailDelimitedWriter(stdout, DelimitedFormat.Tsv, leaveOpen: true)),
            _ => throw new CliException($"--out-format {format} is not one of csv, tsv, json.", 2),
        };

        public void Write(RetailTransaction r)
        {
            if (_json is not null) _json.Write(r);
            else _delimited!.Write(r);
        }

        public void Flush()
        {
            _json?.Flush();
            _delimited?.Flush();
        }

        public void Dispose()
        {
            try
            {
                _json?.Dispose();
                _delimited?.Dispose();
            }
            catch (IOException)
            {
                // stdout closed early (e.g. piped into head): nothing more to write.
            }
        }
    }
}
