using System.Globalization;
using Retail.Streaming;

namespace Retail.Cli;

/// <summary>
/// The run loop <c>retail deliver</c> and <c>retail upsert</c> share: runs a consumer until every shard ends, Ctrl-C or
/// SIGTERM cancels it, or (<c>--idle-exit</c>) nothing has been read for a while and the stream has nothing left; writes
/// a progress line to stderr every <see cref="ProgressInterval"/> and a last one at the end.
/// </summary>
internal static class ConsumerRun
{
    /// <summary>How often the progress line is written.</summary>
    internal static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);

    /// <summary>Whether <c>--idle-exit</c> may stop the run: no record for <paramref name="idle"/>, a read completed since the
    /// last record (so a slow start, before any read returns, is never idle), and the last read was at the tip.</summary>
    internal static bool IsIdle(TimeSpan sinceLastRecord, TimeSpan idle, long reads, long readsAtLastRecord, long millisBehindLatest)
        => sinceLastRecord >= idle && reads > readsAtLastRecord && millisBehindLatest == 0;

    /// <summary>How a run ended: why, in words, and the failure the consumer could not get past (null when it stopped cleanly).</summary>
    internal readonly record struct Outcome(string Why, Exception? Failure);

    /// <param name="run">Starts the consumer (its <c>RunAsync</c>).</param>
    /// <param name="stats">The consumer's counters (reads, behind-latest).</param>
    /// <param name="progress">The progress line, given the records read per second since the last one.</param>
    /// <param name="ended">Why it stopped when every shard was read to its end.</param>
    /// <param name="idleExit">Stop once nothing has been read for this long, a read has completed since (a slow start never counts as idle) and nothing is left; null to run until stopped.</param>
    /// <param name="stderr">Where the lines go.</param>
    /// <param name="time">The clock.</param>
    /// <param name="ct">Ctrl-C or SIGTERM.</param>
    public static async Task<Outcome> RunAsync(Func<CancellationToken, Task> run, StreamConsumerStats stats, Func<double, string> progress, string ended,
        TimeSpan? idleExit, TextWriter stderr, TimeProvider time, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long started = time.GetTimestamp();
        var running = run(stop.Token);
        string? why = null;
        Exception? failure = null;
        long lastRead = 0, lastReadAt = time.GetTimestamp(), lastProgress = time.GetTimestamp(), readAtProgress = 0, readsAtLastRecord = 0;
        while (!running.IsCompleted)
        {
            await Task.WhenAny(running, Task.Delay(TimeSpan.FromMilliseconds(200), time, CancellationToken.None)).ConfigureAwait(false);
            if (running.IsCompleted) break;
            long read = stats.RecordsRead;
            if (read != lastRead)
            {
                lastRead = read;
                lastReadAt = time.GetTimestamp();
                readsAtLastRecord = stats.Reads;
            }
            if (time.GetElapsedTime(lastProgress) >= ProgressInterval)
            {
                double seconds = time.GetElapsedTime(lastProgress).TotalSeconds;
                await stderr.WriteLineAsync(progress((read - readAtProgress) / seconds)).ConfigureAwait(false);
                lastProgress = time.GetTimestamp();
                readAtProgress = read;
            }
            if (idleExit is TimeSpan idle && !stop.IsCancellationRequested && IsIdle(time.GetElapsedTime(lastReadAt), idle, stats.Reads, readsAtLastRecord, stats.MillisBehindLatest))
            {
                why = string.Create(CultureInfo.InvariantCulture, $"nothing read for {idle.TotalSeconds:0.#} s and nothing left in the stream (--idle-exit)");
                await stop.CancelAsync().ConfigureAwait(false);
            }
        }
        try
        {
            await running.ConfigureAwait(false);
            why ??= ended;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            why ??= "interrupted (Ctrl-C or SIGTERM)";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            failure = e;
            why = "failed (a restart resumes after the last checkpoint)";
        }
        double total = time.GetElapsedTime(started).TotalSeconds;
        await stderr.WriteLineAsync(progress(total > 0 ? stats.RecordsRead / total : 0)).ConfigureAwait(false);
        return new Outcome(why, failure);
    }
}
