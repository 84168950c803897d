using Microsoft.Extensions.Logging;

namespace Retail.Sinks.OpenSearch.Tests;

public class LoggingTests
{
    private sealed class Capture : ILoggerProvider, ILogger
    {
        public List<string> Lines { get; } = [];
        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines) Lines.Add($"{logLevel}: {formatter(state, exception)} {exception}");
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task UpsertAsync_BasicAuthRefusedAndRejections_OnOpenSearchFake_LogsNeverCarryThePassword()
    {
        const string password = "pa55-w0rd-never-logged";
        await using var fake = await OpenSearchLoopbackFake.StartAsync(basicAuth: ("admin", password));
        fake.RejectWhen = (_, id, _) => id == "doc-2";
        var capture = new Capture();
        using var factory = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));

        using (var ok = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o =>
        {
            o.Auth = OpenSearchAuth.Basic;
            o.Username = "admin";
            o.Password = password;
        }), loggerFactory: factory))
        {
            var result = await ok.UpsertAsync(TestRecords.Three());
            Assert.Equal(1, result.FailedCount);
        }
        using (var wrong = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o =>
        {
            o.Auth = OpenSearchAuth.Basic;
            o.Username = "admin";
            o.Password = password + "-typo";
        }), loggerFactory: factory))
        {
            await Assert.ThrowsAsync<OpenSearchException>(() => wrong.UpsertAsync(TestRecords.Three()).AsTask());
        }

        Assert.Contains(capture.Lines, l => l.Contains("rejected document doc-2", StringComparison.Ordinal) && l.Contains("mapper_parsing_exception", StringComparison.Ordinal));
        Assert.Contains(capture.Lines, l => l.StartsWith("Error: ", StringComparison.Ordinal) && l.Contains("HTTP 401", StringComparison.Ordinal) && l.Contains("Auth is Basic", StringComparison.Ordinal));
        Assert.Contains(capture.Lines, l => l.StartsWith("Trace: POST _bulk: 3 documents", StringComparison.Ordinal));
        Assert.All(capture.Lines, l => Assert.DoesNotContain(password, l, StringComparison.Ordinal));
    }
}
