using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Retail.Streaming;

namespace Retail;

/// <summary>Settings of the hosted service that <see cref="HostedConsumersRetailBuilderExtensions.AddHostedConsumers(IRetailBuilder)"/> registers.</summary>
public sealed class HostedConsumersOptions
{
    /// <summary>
    /// When a consumer fails, the process exit code to report (<see cref="Environment.ExitCode"/>, set only while it
    /// is still 0), so that a process manager sees the failure although the host stops cleanly (default 1). Null
    /// leaves the exit code alone. A <c>Main</c> that returns its own exit code overrides it.
    /// </summary>
    public int? FailureExitCode { get; set; } = 1;

    /// <summary>Checks every setting; the message names the setting and the bad value.</summary>
    public IReadOnlyList<string> Validate() => FailureExitCode == 0
        ? ["HostedConsumersOptions.FailureExitCode must not be 0, which reports success; set null to leave the exit code alone."]
        : [];
}

/// <summary>Runs Retail's consumers in a generic host (<c>Microsoft.Extensions.Hosting</c>) or an ASP.NET app.</summary>
public static class HostedConsumersRetailBuilderExtensions
{
    /// <summary>
    /// Registers one <see cref="IHostedService"/> that runs every consumer registered in the container — the
    /// <c>DeliveryEngine</c> of <c>AddDelivery</c>, the <c>SpeedLayerEngine</c> of <c>AddSpeedLayer</c>, and every
    /// <see cref="StreamConsumer"/> registered as a service — from the host's start until it stops.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Stopping the host (Ctrl-C, SIGTERM, <see cref="IHostApplicationLifetime.StopApplication"/>) cancels the
    /// consumers: each writes and checkpoints what it buffers within its own <c>ShutdownTimeout</c> (delivery and
    /// speed layer: 30 s by default). The host waits for that only up to <c>HostOptions.ShutdownTimeout</c> (30 s by
    /// default), so set it above the largest engine <c>ShutdownTimeout</c> (e.g.
    /// <c>builder.Services.Configure&lt;HostOptions&gt;(o =&gt; o.ShutdownTimeout = TimeSpan.FromSeconds(45))</c>);
    /// what is not checkpointed when the host gives up is logged and re-read on the next run, never lost.
    /// </para>
    /// <para>
    /// A consumer that fails (a store that keeps failing past the retry limits, a second process on the same consumer
    /// name) is logged with its error and stops the application through
    /// <see cref="IHostApplicationLifetime.StopApplication"/>, so the other consumers flush and checkpoint and the
    /// process ends instead of running a half-dead pipeline; the error is never rethrown into the host, so the process
    /// does not end on an unhandled exception, and <see cref="HostedConsumersOptions.FailureExitCode"/> makes its
    /// exit code non-zero. A consumer whose stream ends (the in-process stream's <c>Complete()</c>) has written and
    /// checkpointed everything and stops normally; the host keeps running.
    /// </para>
    /// <para>Calling it again adds no second service. The host fails to start when no consumer is registered.</para>
    /// </remarks>
    public static IRetailBuilder AddHostedConsumers(this IRetailBuilder builder) => builder.AddHostedConsumers(_ => { });

    /// <summary>
    /// Registers the hosted service of <see cref="AddHostedConsumers(IRetailBuilder)"/> with changes to its
    /// <see cref="HostedConsumersOptions"/> (validated on start).
    /// </summary>
    public static IRetailBuilder AddHostedConsumers(this IRetailBuilder builder, Action<HostedConsumersOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<HostedConsumersOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Options.IValidateOptions<HostedConsumersOptions>>(
            new OptionsListValidator<HostedConsumersOptions>(o => o.Validate())));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RetailConsumersHostedService>());
        return builder;
    }
}
