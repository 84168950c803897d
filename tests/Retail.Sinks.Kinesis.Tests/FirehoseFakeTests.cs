using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>The strict loopback fake of Firehose PutRecordBatch (not the real service: no emulator exists).</summary>
public sealed class FirehoseFakeTests : IAsyncLifetime
{
    private const string Stream = "retail-delivery";
    private FirehoseLoopbackFake _fake = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync() => _fake = await FirehoseLoopbackFake.StartAsync(Stream);

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _fake.DisposeAsync();
    }

    private static string Batch(string stream, params byte[][] records)
    {
        var sb = new StringBuilder();
        sb.Append("{\"DeliveryStreamName\":").Append(JsonSerializer.Serialize(stream)).Append(",\"Records\":[");
        for (int i = 0; i < records.Length; i++)
            sb.Append(i == 0 ? "" : ",").Append("{\"Data\":\"").Append(Convert.ToBase64String(records[i])).Append("\"}");
        return sb.Append("]}").ToString();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(
        string json, string target = "Firehose_20150804.PutRecordBatch", string contentType = FirehoseLoopbackFake.ContentType, bool sign = true, bool date = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _fake.ServiceUrl + "/") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json)) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        var now = DateTime.UtcNow;
        if (date) request.Headers.TryAddWithoutValidation("X-Amz-Date", now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));
        if (sign)
            request.Headers.TryAddWithoutValidation("Authorization",
                $"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{now.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}/us-east-1/firehose/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={new string('0', 64)}");
        var response = await _http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(FirehoseLoopbackFake.ContentType, response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("x-amzn-RequestId"));
        return (response.StatusCode, JsonDocument.Parse(body).RootElement.Clone(), response);
    }

    private static void AssertError(HttpStatusCode expectedStatus, string expectedType, (HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response) actual)
    {
        Assert.Equal(expectedStatus, actual.Status);
        Assert.Equal(expectedType, actual.Body.GetProperty("__type").GetString());
        actual.Response.Dispose();
    }

    [Fact]
    public async Task PutRecordBatch_ValidBatch_StoresExactBytesInOrder()
    {
        byte[][] records = [Encoding.UTF8.GetBytes("{\"a\":1}"), [0, 1, 2, 255, 254], Encoding.UTF8.GetBytes("{\"b\":\"é\"}\n")];
        var (status, body, response) = await SendAsync(Batch(Stream, records));
        response.Dispose();

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, body.GetProperty("FailedPutCount").GetInt32());
        Assert.False(body.GetProperty("Encrypted").GetBoolean());
        var entries = body.GetProperty("RequestResponses").EnumerateArray().ToList();
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.False(string.IsNullOrEmpty(e.GetProperty("RecordId").GetString())));
        Assert.Equal(records, _fake.Records(Stream));
        Assert.Equal(1, _fake.Calls);
        Assert.Equal("Firehose_20150804.PutRecordBatch", _fake.RequestHeaders[0]["x-amz-target"]);
    }

    [Fact]
    public async Task PutRecordBatch_SignedByAwsSdkSigV4Handler_Accepted()
    {
        using var signer = new SigV4SigningHandler(new BasicAWSCredentials("AKIDEXAMPLE", "not-a-secret"), RegionEndpoint.USEast1, "firehose",
            new SocketsHttpHandler { AllowAutoRedirect = false });
        using var http = new HttpClient(signer);
        using var request = new HttpRequestMessage(HttpMethod.Post, _fake.ServiceUrl + "/") { Content = new StringContent(Batch(Stream, [1, 2, 3])) };
        request.Content.Headers.ContentType = new(FirehoseLoopbackFake.ContentType);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "Firehose_20150804.PutRecordBatch");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", _fake.RequestHeaders[0]["Authorization"], StringComparison.Ordinal);
        Assert.Contains("/us-east-1/firehose/aws4_request", _fake.RequestHeaders[0]["Authorization"], StringComparison.Ordinal);
        Assert.Equal([new byte[] { 1, 2, 3 }], _fake.Records(Stream));
    }

    [Fact]
    public async Task PutRecordBatch_NoAuthorization_MissingAuthenticationToken403() =>
        AssertError(HttpStatusCode.Forbidden, "MissingAuthenticationTokenException", await SendAsync(Batch(Stream, [1]), sign: false));

    [Fact]
    public async Task PutRecordBatch_NoAmzDate_IncompleteSignature400() =>
        AssertError(HttpStatusCode.BadRequest, "IncompleteSignatureException", await SendAsync(Batch(Stream, [1]), date: false));

    [Fact]
    public async Task PutRecordBatch_WrongTargetPrefix_UnknownOperation400() =>
        AssertError(HttpStatusCode.BadRequest, "UnknownOperationException", await SendAsync(Batch(Stream, [1]), target: "Kinesis_20131202.PutRecordBatch"));

    [Fact]
    public async Task PutRecordBatch_UnknownFirehoseOperation_UnknownOperation400() =>
        AssertError(HttpStatusCode.BadRequest, "UnknownOperationException", await SendAsync(Batch(Stream, [1]), target: "Firehose_20150804.PutRecordsBatch"));

    [Fact]
    public async Task Get_AnyRequest_AccessDenied403()
    {
        using var response = await _http.GetAsync(_fake.ServiceUrl + "/");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("AccessDeniedException", body.GetProperty("__type").GetString());
        Assert.True(response.Headers.Contains("x-amzn-RequestId"));
    }

    [Fact]
    public async Task PutRecord_OtherFirehoseOperation_InvalidArgument400() =>
        AssertError(HttpStatusCode.BadRequest, "InvalidArgumentException", await SendAsync(Batch(Stream, [1]), target: "Firehose_20150804.PutRecord"));

    [Fact]
    public async Task PutRecordBatch_WrongContentType_Rejected() =>
        AssertError(HttpStatusCode.NotFound, "UnknownOperationException", await SendAsync(Batch(Stream, [1]), contentType: "application/json"));

    [Fact]
    public async Task PutRecordBatch_501Records_ValidationErrorNamingTheLimit()
    {
        var result = await SendAsync(Batch(Stream, [.. Enumerable.Range(0, 501).Select(i => new[] { (byte)i })]));
        Assert.Contains("less than or equal to 500", result.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
        AssertError(HttpStatusCode.BadRequest, "ValidationException", result);
        Assert.Empty(_fake.Records(Stream));
    }

    [Fact]
    public async Task PutRecordBatch_500Records_Accepted()
    {
        var (status, _, response) = await SendAsync(Batch(Stream, [.. Enumerable.Range(0, 500).Select(i => new[] { (byte)i })]));
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(500, _fake.Records(Stream).Count);
    }

    [Fact]
    public async Task PutRecordBatch_RecordOf1024001Bytes_ValidationErrorNamingTheLimit()
    {
        var result = await SendAsync(Batch(Stream, [1], new byte[1_024_001]));
        Assert.Contains("records.2.member.data", result.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("less than or equal to 1024000", result.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
        AssertError(HttpStatusCode.BadRequest, "ValidationException", result);
        Assert.Empty(_fake.Records(Stream));
    }

    [Fact]
    public async Task PutRecordBatch_RecordOf1024000Bytes_Accepted()
    {
        var (status, _, response) = await SendAsync(Batch(Stream, new byte[1_024_000]));
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task PutRecordBatch_BatchOf4MiBPlusOneByte_InvalidArgumentNamingTheLimit()
    {
        byte[] full = new byte[1_024_000];
        var result = await SendAsync(Batch(Stream, full, full, full, full, new byte[4 * 1024 * 1024 - 4 * 1_024_000 + 1]));
        Assert.Contains("4 MB", result.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
        AssertError(HttpStatusCode.BadRequest, "InvalidArgumentException", result);
        Assert.Empty(_fake.Records(Stream));
    }

    [Fact]
    public async Task PutRecordBatch_BatchOfExactly4MiB_Accepted()
    {
        byte[] full = new byte[1_024_000];
        var (status, _, response) = await SendAsync(Batch(Stream, full, full, full, full, new byte[4 * 1024 * 1024 - 4 * 1_024_000]));
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task PutRecordBatch_UnknownStream_ResourceNotFound400() =>
        AssertError(HttpStatusCode.BadRequest, "ResourceNotFoundException", await SendAsync(Batch("no-such-stream", [1])));

    [Fact]
    public async Task PutRecordBatch_InvalidStreamName_ValidationError() =>
        AssertError(HttpStatusCode.BadRequest, "ValidationException", await SendAsync(Batch("bad/name", [1])));

    [Fact]
    public async Task PutRecordBatch_NoRecords_ValidationError() =>
        AssertError(HttpStatusCode.BadRequest, "ValidationException", await SendAsync(Batch(Stream)));

    [Fact]
    public async Task PutRecordBatch_NotBase64_SerializationError() =>
        AssertError(HttpStatusCode.BadRequest, "SerializationException", await SendAsync($$"""{"DeliveryStreamName":"{{Stream}}","Records":[{"Data":"!!"}]}"""));

    [Fact]
    public async Task PutRecordBatch_FailEntryOnDemand_FailedPutCountAndFailedEntriesNotStored()
    {
        _fake.FailEntry = n => n is 1 or 3;
        byte[][] records = [[0], [1], [2], [3], [4]];

        var (status, body, response) = await SendAsync(Batch(Stream, records));
        response.Dispose();

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetProperty("FailedPutCount").GetInt32());
        var entries = body.GetProperty("RequestResponses").EnumerateArray().ToList();
        Assert.Equal(5, entries.Count);
        Assert.Equal(["RecordId", "ErrorCode", "RecordId", "ErrorCode", "RecordId"],
            entries.Select(e => e.TryGetProperty("RecordId", out _) ? "RecordId" : e.GetProperty("ErrorCode").GetString() == "ServiceUnavailableException" ? "ErrorCode" : "?"));
        Assert.Equal([[0], [2], [4]], _fake.Records(Stream));

        // Entry numbers run on across calls: the next call's first entry is number 5.
        _fake.FailEntry = n => n == 5;
        var (_, second, secondResponse) = await SendAsync(Batch(Stream, [5], [6]));
        secondResponse.Dispose();
        Assert.Equal(1, second.GetProperty("FailedPutCount").GetInt32());
        Assert.Equal([[0], [2], [4], [6]], _fake.Records(Stream));
    }

    [Fact]
    public async Task PutRecordBatch_FailCallOnDemand_ServiceUnavailable503AndNothingStored()
    {
        _fake.FailCall = call => call == 1 ? 503 : null;
        AssertError(HttpStatusCode.ServiceUnavailable, "ServiceUnavailableException", await SendAsync(Batch(Stream, [1])));
        Assert.Empty(_fake.Records(Stream));

        var (status, _, response) = await SendAsync(Batch(Stream, [2]));
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([[2]], _fake.Records(Stream));
        Assert.Equal(2, _fake.Calls);
    }
}
