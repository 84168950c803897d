using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Streaming;

namespace Retail;

/// <summary>
/// The hosted service of <see cref="HostedConsumersRetailBuilderExtensions.AddHostedConsumers(IRetailBuilder)"/>: runs
/// every registered consumer from start to stop; a failure is logged and stops the application, never thrown into the
/// host.
/// </summary>
internal sealed partial class RetailConsumersHostedService : IHostedService, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly HostedConsumersOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _running;

    public RetailConsumersHostedService(IServiceProvider services, IHostApplicationLifetime lifetime, IOptions<HostedConsumersOptions> options, ILoggerFactory? loggerFactory = null)
    {
        _services = services;
        _lifetime = lifetime;
        _options = options.Value;
        _logger = loggerFactory?.CreateLogger("Retail.Hosting.HostedConsumers") ?? NullLogger.Instance;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var consumers = Consumers();
        if (consumers.Count == 0)
            throw new InvalidOperationException("AddHostedConsumers() found no consumer to run: register AddDelivery(), AddSpeedLayer() or a StreamConsumer service as well.");
        _running = Task.WhenAll(consumers.Select(c => RunAsync(c.Name, c.Run, _stopping.Token)));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_running is null) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogShutdownTimedOut(_logger);
        }
    }

    public void Dispose() => _stopping.Dispose();

    private List<(string Name, Func<CancellationToken, Task> Run)> Consumers()
    {
        var consumers = new List<(string, Func<CancellationToken, Task>)>();
        if (_services.GetService<DeliveryEngine>() is { } delivery)
            consumers.Add(($"delivery '{delivery.ConsumerName}'", delivery.RunAsync));
        if (_services.GetService<SpeedLayerEngine>() is { } speed)
            consumers.Add(($"speed layer '{speed.ConsumerName}'", speed.RunAsync));
        foreach (var consumer in _services.GetServices<StreamConsumer>())
            consumers.Add(($"consumer '{consumer.ConsumerName}'", consumer.RunAsync));
        return consumers;
    }

    private async Task RunAsync(string name, Func<CancellationToken, Task> run, CancellationToken stopping)
    {
        await Task.Yield(); // the host's start goes on while the consumers run
        try
        {
            LogStarting(_logger, name);
            await run(stopping).ConfigureAwait(false);
            LogStreamEnded(_logger, name);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            LogStopped(_logger, name);
        }
        catch (Exception e)
        {
            // Never rethrown: the host stops cleanly, the other consumers flush and checkpoint, the exit code says it failed.
            LogFailed(_logger, name, e);
            if (_options.FailureExitCode is int code && Environment.ExitCode == 0) Environment.ExitCode = code;
            _lifetime.StopApplication();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Running the {Consumer} in the host")]
    private static partial void LogStarting(ILogger logger, string consumer);

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Consumer} finished: its stream ended, and everything it read is written and checkpointed")]
    private static partial void LogStreamEnded(ILogger logger, string consumer);

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Consumer} stopped with the host: its buffers are written and checkpointed")]
    private static partial void LogStopped(ILogger logger, string consumer);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The {Consumer} failed; stopping the application so the other consumers flush and checkpoint. Nothing past the last checkpoint is lost: the next run re-reads it")]
    private static partial void LogFailed(ILogger logger, string consumer, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The host's shutdown timeout elapsed before the consumers finished writing and checkpointing their buffers; what is not checkpointed is re-read on the next run. Set HostOptions.ShutdownTimeout above the engines' ShutdownTimeout")]
    private static partial void LogShutdownTimedOut(ILogger logger);
}
