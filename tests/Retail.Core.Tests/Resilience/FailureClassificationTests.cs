using System.Net;
using System.Net.Sockets;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Core.Tests.Resilience;

public class FailureClassificationTests
{
    private sealed class AdapterException(bool transient, Exception? inner = null) : Exception("adapter", inner), IRetryClassified
    {
        public bool IsTransient => transient;
    }

    public static TheoryData<Exception, bool> Cases() => new()
    {
        { new HttpRequestException("connection refused"), true },
        { new HttpRequestException("", null, HttpStatusCode.ServiceUnavailable), true },
        { new HttpRequestException("", null, HttpStatusCode.InternalServerError), true },
        { new HttpRequestException("", null, HttpStatusCode.TooManyRequests), true },
        { new HttpRequestException("", null, HttpStatusCode.RequestTimeout), true },
        { new HttpRequestException("", null, HttpStatusCode.NotFound), false },
        { new HttpRequestException("", null, HttpStatusCode.Forbidden), false },
        { new HttpRequestException("", null, HttpStatusCode.Unauthorized), false },
        { new HttpRequestException("", null, HttpStatusCode.Conflict), false },
        { new TimeoutException(), true },
        { new TaskCanceledException("HttpClient.Timeout elapsed", new TimeoutException()), true },
        { new SocketException((int)SocketError.ConnectionReset), true },
        { new IOException("Connection reset by peer", new SocketException((int)SocketError.ConnectionReset)), true },
        { new IOException("connection reset", 104), true },
        { new IOException("No space left on device", 28), false },
        { new IOException("x", new IOException("Read-only file system", 30)), false },
        { new UnauthorizedAccessException(), false },
        { new ObjectNotFoundException("k"), false },
        { new ArgumentException("bad"), false },
        { new FormatException("bad"), false },
        { new InvalidDataException("bad"), false },
        { new InvalidOperationException("bug"), false },
        { new InvalidOperationException("upsert failed", new TimeoutException()), true },
        { new StreamThrottledException("throttled"), true },
        { new AdapterException(true), true },
        { new AdapterException(false, new HttpRequestException("", null, HttpStatusCode.ServiceUnavailable)), false },
        { new InvalidOperationException("wrapped", new AdapterException(true)), true },
        { new RetryExhaustedException("gave up", 3, TimeSpan.FromSeconds(1), "503", new HttpRequestException("", null, HttpStatusCode.ServiceUnavailable)), false },
        { new AggregateException(new TimeoutException(), new SocketException()), true },
        { new AggregateException(new TimeoutException(), new ArgumentException()), false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void IsTransient_ByTypeStatusAndAdapter_AsDocumented(Exception exception, bool transient) =>
        Assert.Equal(transient, FailureClassification.IsTransient(exception));

    [Fact]
    public void IsTransient_CancellationByTheCaller_IsNotTransient()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.False(FailureClassification.IsTransient(new OperationCanceledException(cts.Token), cts.Token));
        Assert.False(FailureClassification.IsTransient(new TaskCanceledException(), cts.Token));
        Assert.True(FailureClassification.IsTransient(new TaskCanceledException(), CancellationToken.None));
    }
}
