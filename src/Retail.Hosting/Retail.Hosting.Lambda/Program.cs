using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Retail.Hosting.Lambda;

/// <summary>
/// The <c>bootstrap</c> of a <c>provided.al2023</c> function: reads its settings from the environment, reports a bad
/// one as an init error naming it (and exits 1), then serves invocations until SIGTERM.
/// </summary>
internal static partial class Program
{
    private static async Task<int> Main()
    {
        Func<string, string?> env = Environment.GetEnvironmentVariable;
        LogLevel level;
        LambdaSettingException? levelError = null;
        try
        {
            level = LambdaSettings.ReadLogLevel(env);
        }
        catch (LambdaSettingException e)
        {
            level = LogLevel.Information;
            levelError = e;
        }
        using var logs = new LambdaLogging(level);
        var logger = logs.CreateLogger("Retail.Lambda");

        string? api = env("AWS_LAMBDA_RUNTIME_API");
        LambdaRuntimeClient runtime;
        try
        {
            runtime = new LambdaRuntimeClient(api ?? "");
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            LogNoRuntimeApi(logger, api ?? "(not set)");
            return 2;
        }
        using (runtime)
        {
            IInvocationHandler handler;
            LambdaSettings settings;
            try
            {
                if (levelError is not null) throw levelError;
                settings = LambdaSettings.FromEnvironment(env);
                handler = LambdaHandlers.Create(settings, env, logs, TimeProvider.System);
            }
#pragma warning disable CA1031 // Whatever stops the start is reported as an init error, then the runtime exits.
            catch (Exception e)
#pragma warning restore CA1031
            {
                string type = e switch
                {
                    LambdaSettingException { Setting: "_HANDLER" } => "Runtime.NoSuchHandler",
                    LambdaSettingException => "Retail.InvalidSetting",
                    _ => "Retail.InitFailed",
                };
                LogInitFailed(logger, type, e);
                try
                {
                    if (await runtime.PostInitErrorAsync(LambdaRuntimeClient.ErrorBody(type, e.Message, e is LambdaSettingException ? null : e)) is { } refused)
                        LogInitRefused(logger, refused);
                }
                catch (Exception post) when (post is LambdaRuntimeFatalException or HttpRequestException or IOException or OperationCanceledException)
                {
                    LogInitRefused(logger, post.Message);
                }
                return 1;
            }

            using var stop = new CancellationTokenSource();
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            LogStarted(logger, settings.Handler);
            return await new LambdaHost(runtime, handler, settings.MarginFor, TimeProvider.System, logger).RunAsync(stop.Token);
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "AWS_LAMBDA_RUNTIME_API '{Value}' is not a host:port: this executable is a Lambda custom runtime (provided.al2023) and runs under Lambda")]
    private static partial void LogNoRuntimeApi(ILogger logger, string value);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Start-up failed ({ErrorType}); reported as an init error")]
    private static partial void LogInitFailed(ILogger logger, string errorType, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The init error could not be reported: {Reason}")]
    private static partial void LogInitRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Handler {Handler} ready")]
    private static partial void LogStarted(ILogger logger, string handler);
}
