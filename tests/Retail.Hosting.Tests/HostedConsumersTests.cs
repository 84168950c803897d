using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Hosting.Tests;

/// <summary>The pipeline in a real generic host (<c>Host.CreateApplicationBuilder</c>), run by <c>AddHostedConsumers</c>.</summary>
public sealed class HostedConsumersTests : IDisposable
{
    /// <summary>Every wait below is on a task or a condition, bounded by this guard (never a sleep).</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private readonly string _lake = Path.Combine(Path.GetTempPath(), "retail-host-" + Guid.NewGuid().ToString("N"));
    private readonly LogCollector _logs = new();

    public void Dispose()
    {
        if (Directory.Exists(_lake)) Directory.Delete(_lake, true);
    }

    [Fact]
    public async Task AddHostedConsumers_RecordsProducedWhileTheHostRuns_AreDeliveredToTheLake()
    {
        using var host = Build(r => r.AddLocalLake(o => o.Path = _lake).AddInProcessStream().AddDelivery(o => o.BufferIntervalSeconds = 0));
        var delivery = host.Services.GetRequiredService<DeliveryEngine>();
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long objects = 0;
        delivery.ObjectWritten += o =>
        {
            if (Interlocked.Add(ref objects, o.Records) == 100) delivered.TrySetResult();
        };
        await host.StartAsync();

        await Produce(host, 0, 100);
        await delivered.Task.WaitAsync(Guard);

        Assert.False(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        Assert.Equal(Invoices(0, 100), await LakeInvoices());
        await host.StopAsync();
        Assert.Equal(Invoices(0, 100), await LakeInvoices());
    }

    [Fact]
    public async Task StopAsync_RecordsStillBuffered_AreWrittenAndCheckpointedExactlyOnce()
    {
        using var host = Build(r => r.AddLocalLake(o => o.Path = _lake).AddInProcessStream().AddDelivery(o => o.BufferIntervalSeconds = 900));
        var delivery = host.Services.GetRequiredService<DeliveryEngine>();
        var stream = host.Services.GetRequiredService<InProcessRecordStream>();
        await host.StartAsync();

        var last = await Produce(host, 0, 250);
        await WaitUntil(() => delivery.Stats.RecordsRead == 250);
        Assert.Empty(await LakeInvoices()); // all of them buffered: 900 s, and far below 1 MiB
        await host.StopAsync().WaitAsync(Guard);

        Assert.Equal(Invoices(0, 250), await LakeInvoices()); // every record once, none twice
        Assert.Equal(250, delivery.Stats.RecordsDelivered);
        foreach (var (shard, sequence) in last)
            Assert.Equal(sequence, (await stream.LoadAsync("delivery", shard))?.SequenceNumber);
        Assert.Equal(0, stream.BufferedRecords); // the checkpoints released every record
        Assert.Contains(_logs.Entries, e => e.Message.Contains("stopped with the host", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task StopAsync_DeliveryAndSpeedLayer_BothRunInTheHostAndStoreEveryRecordOnce()
    {
        var index = new MemoryIndex();
        using var host = Build(r =>
        {
            r.Services.AddSingleton<IUpsertIndex>(index);
            r.AddLocalLake(o => o.Path = _lake).AddInProcessStream()
                .AddDelivery(o => o.BufferIntervalSeconds = 900)
                .AddSpeedLayer(o => o.MaxBatchLatency = TimeSpan.FromHours(1));
        });
        var delivery = host.Services.GetRequiredService<DeliveryEngine>();
        var speed = host.Services.GetRequiredService<SpeedLayerEngine>();
        var stream = host.Services.GetRequiredService<InProcessRecordStream>();
        await host.StartAsync();

        await Produce(host, 0, 120);
        await WaitUntil(() => delivery.Stats.RecordsRead == 120 && speed.Stats.RecordsRead == 120);
        Assert.Equal(0, index.Count); // the speed layer's open batch waits an hour
        await host.StopAsync().WaitAsync(Guard);

        Assert.Equal(Invoices(0, 120), await LakeInvoices());
        Assert.Equal(Invoices(0, 120), index.Invoices());
        Assert.Equal(0, stream.BufferedRecords); // both consumers checkpointed everything
    }

    [Fact]
    public async Task AddHostedConsumers_EngineFails_StopsTheHostWithTheErrorLoggedAndAFailureExitCode()
    {
        int exitCode = Environment.ExitCode;
        try
        {
            Environment.ExitCode = 0;
            using var host = Build(r =>
            {
                r.Services.AddSingleton<IObjectStore>(new DenyingStore());
                r.AddInProcessStream().AddDelivery(o => o.BufferIntervalSeconds = 0);
            });
            var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            await host.StartAsync();

            await Produce(host, 0, 10);
            await WaitForCancellation(lifetime.ApplicationStopping);
            await host.StopAsync().WaitAsync(Guard); // no exception reaches the host: it stops cleanly

            var failure = Assert.Single(_logs.Entries, e => e.Level == LogLevel.Critical);
            Assert.Contains("delivery 'delivery' failed; stopping the application", failure.Message, StringComparison.Ordinal);
            Assert.IsType<DeliveryFailedException>(failure.Exception);
            Assert.IsType<UnauthorizedAccessException>(failure.Exception!.InnerException);
            Assert.Equal(1, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = exitCode;
        }
    }

    [Fact]
    public async Task AddHostedConsumers_StreamCompletes_ConsumerEndsNormallyAndTheHostKeepsRunning()
    {
        using var host = Build(r => r.AddLocalLake(o => o.Path = _lake).AddInProcessStream().AddDelivery(o => o.BufferIntervalSeconds = 900));
        var stream = host.Services.GetRequiredService<InProcessRecordStream>();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        await host.StartAsync();

        await Produce(host, 0, 20);
        stream.Complete();
        await _logs.WaitFor(e => e.Message.Contains("its stream ended", StringComparison.Ordinal)).WaitAsync(Guard);

        Assert.Equal(Invoices(0, 20), await LakeInvoices()); // the end of the stream wrote the buffers
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested);
        await host.StopAsync().WaitAsync(Guard);
        Assert.DoesNotContain(_logs.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task StartAsync_NoConsumerRegistered_FailsNamingWhatToAdd()
    {
        using var host = Build(r => r.AddLocalLake(o => o.Path = _lake));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("AddDelivery(), AddSpeedLayer() or a StreamConsumer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddHostedConsumers_CalledTwice_RegistersOneHostedService()
    {
        var services = new ServiceCollection();
        services.AddRetail().AddHostedConsumers().AddHostedConsumers(o => o.FailureExitCode = null);

        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
    }

    [Fact]
    public async Task AddHostedConsumers_FailureExitCodeZero_FailsAtStartNamingTheSetting()
    {
        using var host = Build(r => r.AddLocalLake(o => o.Path = _lake).AddInProcessStream().AddDelivery(), o => o.FailureExitCode = 0);

        var e = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains("HostedConsumersOptions.FailureExitCode must not be 0", e.Message, StringComparison.Ordinal);
    }

    private IHost Build(Action<IRetailBuilder> compose, Action<HostedConsumersOptions>? hosted = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders().AddProvider(_logs).SetMinimumLevel(LogLevel.Information);
        var retail = builder.Services.AddRetail();
        compose(retail);
        retail.AddHostedConsumers(hosted ?? (_ => { }));
        return builder.Build();
    }

    /// <summary>Puts records <paramref name="from"/>…; returns the last sequence number put into each shard.</summary>
    private static async Task<Dictionary<string, string>> Produce(IHost host, int from, int count)
    {
        var stream = host.Services.GetRequiredService<IRecordStream>();
        var entries = Enumerable.Range(from, count).Select(i => new PutRecordsEntry("key-" + i, Record(i))).ToList();
        var result = await stream.PutRecordsAsync(entries);
        Assert.Equal(0, result.FailedRecordCount);
        var last = new Dictionary<string, string>();
        foreach (var r in result.Records) last[r.ShardId!] = r.SequenceNumber!;
        return last;
    }

    private static byte[] Record(int i) => Encoding.UTF8.GetBytes(
        $"{{\"Invoice\":\"{i}\",\"StockCode\":\"S\",\"Description\":\"d\",\"Quantity\":1,\"InvoiceDate\":\"2010-01-01 00:00:00\",\"Price\":1.5,\"Customer_ID\":\"\",\"Country\":\"UK\"}}");

    private static List<string> Invoices(int from, int count) => [.. Enumerable.Range(from, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal)];

    /// <summary>The invoice of every record in the lake's JSON objects, duplicates kept, sorted.</summary>
    private async Task<List<string>> LakeInvoices()
    {
        if (!Directory.Exists(_lake)) return [];
        var store = new LocalFolderObjectStore(_lake);
        var invoices = new List<string>();
        await foreach (var o in store.ListAsync(LakeLayout.JsonPrefix))
        {
            await using var content = await store.OpenReadAsync(o.Key);
            using var reader = new StreamReader(content);
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.Length > 0) invoices.Add(JsonDocument.Parse(line).RootElement.GetProperty("Invoice").GetString()!);
            }
        }
        return [.. invoices.Order(StringComparer.Ordinal)];
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var guard = new CancellationTokenSource(Guard);
        while (!condition())
            await Task.Delay(10, guard.Token); // a polled condition, bounded by the guard
    }

    private static Task WaitForCancellation(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => cancelled.TrySetResult());
        return cancelled.Task.WaitAsync(Guard);
    }

    /// <summary>An upsert index in memory.</summary>
    private sealed class MemoryIndex : IUpsertIndex
    {
        private readonly ConcurrentDictionary<string, RetailTransaction> _documents = new();

        public int Count => _documents.Count;

        public List<string> Invoices() => [.. _documents.Values.Select(d => d.Invoice).Order(StringComparer.Ordinal)];

        public ValueTask<UpsertResult> UpsertAsync(IReadOnlyList<IndexDocument> documents, CancellationToken cancellationToken = default)
        {
            foreach (var d in documents) _documents[d.Id] = d.Record;
            return ValueTask.FromResult(new UpsertResult([.. documents.Select(d => new UpsertItemResult(d.Id, null, false))]));
        }

        public ValueTask<long> CountAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult((long)_documents.Count);
    }

    /// <summary>An object store that refuses every write: retrying cannot fix it, so delivery stops at once.</summary>
    private sealed class DenyingStore : IObjectStore
    {
        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
            throw new UnauthorizedAccessException($"Access to '{key}' is denied.");
        public ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default) =>
            throw new UnauthorizedAccessException($"Access to '{key}' is denied.");
        public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) => throw new ObjectNotFoundException(key);
        public ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => ValueTask.FromResult<ObjectInfo?>(null);
        public ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new ObjectPage([], null));
        public ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}

/// <summary>Collects log entries; lets a test wait for one.</summary>
internal sealed class LogCollector : ILoggerProvider
{
    private readonly Lock _lock = new();
    private readonly List<(Func<LogEntry, bool> Match, TaskCompletionSource Seen)> _waiters = [];
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public Task WaitFor(Func<LogEntry, bool> match)
    {
        lock (_lock)
        {
            if (_entries.Any(match)) return Task.CompletedTask;
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, seen));
            return seen.Task;
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(LogEntry entry)
    {
        lock (_lock)
        {
            _entries.Enqueue(entry);
            foreach (var w in _waiters.Where(w => w.Match(entry))) w.Seen.TrySetResult();
        }
    }

    private sealed class Logger(LogCollector owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(new LogEntry(category, logLevel, formatter(state, exception), exception));
    }
}

internal sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception);
