using Microsoft.Extensions.Logging;

namespace Retail.Hosting.Lambda;

/// <summary>
/// The runtime loop: next invocation → handler → response, for ever. A handler that throws is reported as an
/// invocation error (Lambda retries the batch); only the Runtime API itself failing (a 500 "container error", an
/// answer that is not an invocation, the connection gone) ends the loop, with a non-zero exit code.
/// </summary>
internal sealed partial class LambdaHost(LambdaRuntimeClient runtime, IInvocationHandler handler, Func<TimeSpan, TimeSpan> marginFor, TimeProvider time, ILogger logger)
{
    public const string TraceEnvironmentVariable = "_X_AMZN_TRACE_ID";

    /// <summary>Runs until <paramref name="stop"/> (SIGTERM) or a fatal Runtime API failure.</summary>
    /// <returns>The process exit code: 0 after a stop, 1 after a fatal failure.</returns>
    public async Task<int> RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            LambdaInvocation invocation;
            try
            {
                LambdaLogging.RequestId = null;
                invocation = await runtime.NextAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return 0;
            }
            catch (Exception e) when (e is LambdaRuntimeFatalException or HttpRequestException or IOException)
            {
                LogFatal(logger, e);
                return 1;
            }
            try
            {
                await InvokeAsync(invocation).ConfigureAwait(false);
            }
            catch (Exception e) when (e is LambdaRuntimeFatalException or HttpRequestException or IOException or OperationCanceledException)
            {
                // Posting the result failed: the Runtime API is gone or in a state the runtime cannot recover from.
                LogFatal(logger, e);
                return 1;
            }
        }
        return 0;
    }

    private async Task InvokeAsync(LambdaInvocation invocation)
    {
        LambdaLogging.RequestId = invocation.RequestId;
        Environment.SetEnvironmentVariable(TraceEnvironmentVariable, string.IsNullOrEmpty(invocation.TraceId) ? null : invocation.TraceId);
        var left = invocation.Deadline - time.GetUtcNow();
        var stopAfter = left - marginFor(left);
        using var deadline = new CancellationTokenSource(stopAfter > TimeSpan.Zero ? stopAfter : TimeSpan.Zero, time);
        LogStart(logger, invocation.RequestId, (long)left.TotalMilliseconds, (long)Math.Max(0, stopAfter.TotalMilliseconds));
        byte[] payload;
        try
        {
            payload = await handler.HandleAsync(invocation, deadline.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Any handler failure is an invocation error, never the end of the runtime.
        catch (Exception e)
#pragma warning restore CA1031
        {
            string type = e switch
            {
                InvalidKinesisEventException or InvalidScheduledEventException => "Retail.InvalidEvent",
                CompactionFailedException => "Retail.CompactionFailed",
                OperationCanceledException => "Retail.DeadlineReached",
                _ => "Retail." + e.GetType().Name,
            };
            LogHandlerFailed(logger, invocation.RequestId, type, e);
            if (await runtime.PostInvocationErrorAsync(invocation.RequestId, LambdaRuntimeClient.ErrorBody(type, e.Message, e)).ConfigureAwait(false) is { } refused)
                LogRefused(logger, invocation.RequestId, refused);
            return;
        }
        if (await runtime.PostResponseAsync(invocation.RequestId, payload).ConfigureAwait(false) is { } rejected)
        {
            LogRefused(logger, invocation.RequestId, rejected);
            var error = LambdaRuntimeClient.ErrorBody("Runtime.ResponseRejected", $"The Runtime API refused the response ({rejected}).");
            if (await runtime.PostInvocationErrorAsync(invocation.RequestId, error).ConfigureAwait(false) is { } refused)
                LogRefused(logger, invocation.RequestId, refused);
            return;
        }
        LogDone(logger, invocation.RequestId, payload.Length);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Invocation {RequestId}: {TimeLeftMs} ms to the deadline; the batch stops after {StopAfterMs} ms")]
    private static partial void LogStart(ILogger logger, string requestId, long timeLeftMs, long stopAfterMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Invocation {RequestId}: response sent ({Bytes} bytes)")]
    private static partial void LogDone(ILogger logger, string requestId, int bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Invocation {RequestId} failed ({ErrorType}); reported as an invocation error, so Lambda retries the batch")]
    private static partial void LogHandlerFailed(ILogger logger, string requestId, string errorType, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Invocation {RequestId}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string requestId, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The Lambda Runtime API failed; the runtime exits")]
    private static partial void LogFatal(ILogger logger, Exception exception);
}
