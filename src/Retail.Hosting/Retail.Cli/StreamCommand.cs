using System.CommandLine;
using System.Globalization;
using System.Numerics;
using Retail.Sinks.Kinesis;

namespace Retail.Cli;

/// <summary>
/// <c>retail stream create|describe|reshard</c>: the Kinesis streams the workshop's CDK stack makes, by hand. Each
/// change waits until the stream is ACTIVE again.
/// </summary>
internal static class StreamCommand
{
    public static Command Create(Stream stdout, TextWriter stderr)
    {
        var command = new Command("stream", "Create, describe and reshard Kinesis streams.");
        command.Subcommands.Add(CreateCreate(stdout, stderr));
        command.Subcommands.Add(CreateDescribe(stdout));
        command.Subcommands.Add(CreateReshard(stdout, stderr));
        return command;
    }

    private static (Option<string?> Stream, Option<string?> Region, Option<string?> Endpoint) Common(Command command)
    {
        var stream = KinesisFlags.StreamName(required: true);
        var region = KinesisFlags.Region();
        var endpoint = KinesisFlags.Endpoint();
        command.Options.Add(stream);
        command.Options.Add(region);
        command.Options.Add(endpoint);
        return (stream, region, endpoint);
    }

    private static Command CreateCreate(Stream stdout, TextWriter stderr)
    {
        var command = new Command("create", "Create a provisioned stream of --shard-count shards (on-demand without it) and wait until it is ACTIVE.");
        var (stream, region, endpoint) = Common(command);
        var shards = new Option<int?>("--shard-count") { Description = "Shards of the new stream (omit for an ON_DEMAND stream, as the workshop's)." };
        shards.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is < 1 or > 10_000) r.AddError($"--shard-count must be 1 to 10000, got {r.GetValueOrDefault<int?>()}."); });
        command.Options.Add(shards);
        command.SetAction(async (r, ct) =>
        {
            string name = r.GetValue(stream)!;
            using var manager = KinesisFlags.CreateManager(KinesisFlags.Options(null, r.GetValue(region), r.GetValue(endpoint)));
            await stderr.WriteLineAsync($"[INFO] creating stream {name} ({(r.GetValue(shards) is int n ? n + " shards" : "on-demand")}); waiting until it is ACTIVE").ConfigureAwait(false);
            var summary = await Run(() => manager.CreateStreamAsync(name, r.GetValue(shards), ct)).ConfigureAwait(false);
            await WriteAsync(stdout, FormatSummary(summary)).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command CreateDescribe(Stream stdout)
    {
        var command = new Command("describe", "Print the stream's summary and every shard with its lineage, hash-key range and sequence-number range.");
        var (stream, region, endpoint) = Common(command);
        command.SetAction(async (r, ct) =>
        {
            string name = r.GetValue(stream)!;
            using var manager = KinesisFlags.CreateManager(KinesisFlags.Options(null, r.GetValue(region), r.GetValue(endpoint)));
            await WriteAsync(stdout, await DescribeAsync(manager, name, ct).ConfigureAwait(false)).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command CreateReshard(Stream stdout, TextWriter stderr)
    {
        var command = new Command("reshard", "Split a shard, merge two adjacent shards, or scale uniformly to --shard-count; then wait until the stream is ACTIVE and describe it.");
        var (stream, region, endpoint) = Common(command);
        var split = new Option<string?>("--split") { Description = "The open shard to split." };
        var at = new Option<string?>("--at") { Description = "With --split: the new starting hash key (decimal; default: the middle of the shard's range)." };
        var merge = new Option<string[]?>("--merge") { Description = "Two adjacent open shards to merge: --merge SHARD ADJACENT.", Arity = new ArgumentArity(2, 2), AllowMultipleArgumentsPerToken = true };
        var shards = new Option<int?>("--shard-count") { Description = "Scale to this many open shards (UpdateShardCount, uniform scaling)." };
        command.Options.Add(split);
        command.Options.Add(at);
        command.Options.Add(merge);
        command.Options.Add(shards);
        command.Validators.Add(r =>
        {
            int given = (r.GetValue(split) is null ? 0 : 1) + (r.GetValue(merge) is { Length: > 0 } ? 1 : 0) + (r.GetValue(shards) is null ? 0 : 1);
            if (given != 1) r.AddError("reshard needs exactly one of --split SHARD [--at HASHKEY], --merge SHARD ADJACENT or --shard-count N.");
            if (r.GetValue(at) is { } key && r.GetValue(split) is null) r.AddError("--at applies only with --split.");
            if (r.GetValue(at) is { } k && (!BigInteger.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out var h) || h > Streaming.HashKeyRange.MaxHashKey))
                r.AddError($"--at must be a decimal hash key from 0 to 2^128-1, got '{k}'.");
            if (r.GetValue(shards) is < 1 or > 10_000) r.AddError($"--shard-count must be 1 to 10000, got {r.GetValue(shards)}.");
        });
        command.SetAction(async (r, ct) =>
        {
            string name = r.GetValue(stream)!;
            using var manager = KinesisFlags.CreateManager(KinesisFlags.Options(null, r.GetValue(region), r.GetValue(endpoint)));
            if (r.GetValue(split) is { } shard)
            {
                string? atKey = r.GetValue(at);
                BigInteger? key = atKey is null ? null : BigInteger.Parse(atKey, CultureInfo.InvariantCulture);
                await stderr.WriteLineAsync($"[INFO] splitting shard {shard} of {name}{(atKey is null ? " in the middle of its range" : " at " + atKey)}; waiting until it is ACTIVE").ConfigureAwait(false);
                await Run(() => manager.SplitShardAsync(name, shard, key, ct)).ConfigureAwait(false);
            }
            else if (r.GetValue(merge) is [var first, var adjacent])
            {
                await stderr.WriteLineAsync($"[INFO] merging shards {first} and {adjacent} of {name}; waiting until it is ACTIVE").ConfigureAwait(false);
                await Run(() => manager.MergeShardsAsync(name, first, adjacent, ct)).ConfigureAwait(false);
            }
            else if (r.GetValue(shards) is int n)
            {
                await stderr.WriteLineAsync($"[INFO] scaling {name} to {n} open shards; waiting until it is ACTIVE").ConfigureAwait(false);
                await Run(() => manager.UpdateShardCountAsync(name, n, ct)).ConfigureAwait(false);
            }
            await WriteAsync(stdout, await DescribeAsync(manager, name, ct).ConfigureAwait(false)).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>The manager's argument checks (no such shard, a closed shard) as one usage line; a stuck stream as one error line.</summary>
    private static async Task<T> Run<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message.Split(" (Parameter '", 2)[0], 2, e);
        }
        catch (TimeoutException e)
        {
            throw new CliException(e.Message, 1, e);
        }
    }

    private static Task Run(Func<Task> operation) => Run(async () => { await operation().ConfigureAwait(false); return true; });

    private static string FormatSummary(KinesisStreamSummary s) =>
        $"stream {s.StreamName}: {s.Status}, {s.OpenShardCount} open shards, mode {s.StreamMode ?? "PROVISIONED"}, retention {s.RetentionPeriodHours} h{(s.StreamArn is null ? "" : ", " + s.StreamArn)}";

    internal static async Task<string> DescribeAsync(KinesisStreamManager manager, string name, CancellationToken ct)
    {
        var summary = await manager.DescribeAsync(name, ct).ConfigureAwait(false);
        var shards = await manager.ListShardsAsync(name, ct).ConfigureAwait(false);
        var text = new System.Text.StringBuilder();
        text.Append(FormatSummary(summary)).Append('\n');
        foreach (var shard in shards)
        {
            string parents = shard.ParentShardId is null ? "none" : shard.AdjacentParentShardId is null ? shard.ParentShardId : $"{shard.ParentShardId} + {shard.AdjacentParentShardId}";
            text.Append(CultureInfo.InvariantCulture,
                $"shard {shard.ShardId} {(shard.IsOpen ? "open" : "closed")} parents {parents} hash {shard.HashKeyRange.StartingHashKey}..{shard.HashKeyRange.EndingHashKey} sequence {shard.SequenceNumberRange.StartingSequenceNumber}..{shard.SequenceNumberRange.EndingSequenceNumber ?? ""}\n");
        }
        return text.ToString();
    }

    private static async Task WriteAsync(Stream stdout, string text)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text.EndsWith('\n') ? text : text + "\n");
        await stdout.WriteAsync(bytes).ConfigureAwait(false);
        await stdout.FlushAsync().ConfigureAwait(false);
    }
}
