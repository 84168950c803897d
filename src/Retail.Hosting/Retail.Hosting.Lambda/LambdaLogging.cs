using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Retail.Hosting.Lambda;

/// <summary>
/// Logging the way Lambda reads it: one line per event on stdout (CloudWatch Logs makes one log event of each line),
/// <c>time&lt;TAB&gt;request id&lt;TAB&gt;LEVEL&lt;TAB&gt;category: message</c>, an exception's type and message on the same
/// line (its stack trace goes to the invocation error, not to the log). Newlines inside a message become <c>" | "</c>.
/// Settings and credentials are never logged by the host.
/// </summary>
internal sealed class LambdaLogging(LogLevel minimum, TextWriter? output = null) : ILoggerFactory
{
    private static readonly AsyncLocal<string?> CurrentRequest = new();
    private readonly TextWriter _output = output ?? Console.Out;
    private readonly Lock _lock = new();

    /// <summary>The request id logged with each line (set per invocation).</summary>
    public static string? RequestId
    {
        get => CurrentRequest.Value;
        set => CurrentRequest.Value = value;
    }

    public LogLevel Minimum { get; } = minimum;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("The Lambda host logs to stdout only.");

    public void Dispose() => _output.Flush();

    internal void Write(LogLevel level, string category, string message, Exception? exception)
    {
        var line = new StringBuilder(128 + message.Length);
        line.Append(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append('\t')
            .Append(RequestId ?? "-").Append('\t')
            .Append(LevelName(level)).Append('\t')
            .Append(category).Append(": ").Append(OneLine(message));
        for (var e = exception; e is not null; e = e.InnerException)
            line.Append(ReferenceEquals(e, exception) ? " — " : " ← ").Append(e.GetType().Name).Append(": ").Append(OneLine(e.Message));
        line.Append('\n');
        lock (_lock)
        {
            _output.Write(line.ToString());
            _output.Flush();
        }
    }

    private static string OneLine(string text) => text.Contains('\n', StringComparison.Ordinal) || text.Contains('\r', StringComparison.Ordinal)
        ? text.ReplaceLineEndings(" | ")
        : text;

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRACE",
        LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARN",
        LogLevel.Error => "ERROR",
        LogLevel.Critical => "FATAL",
        _ => level.ToString().ToUpperInvariant(),
    };

    private sealed class Logger(LambdaLogging owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= owner.Minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            owner.Write(logLevel, category, formatter(state, exception), exception);
        }
    }
}
