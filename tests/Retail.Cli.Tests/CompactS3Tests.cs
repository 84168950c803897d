using System.Globalization;
using DuckDB.NET.Data;
using Retail.Codecs;
using Retail.Core.Tests;
using Retail.Sinks.S3.Tests;
using Retail.Storage;
using Retail.Synthetic;

namespace Retail.Cli.Tests;

/// <summary><c>retail compact</c> on a bucket (s3rver), and <c>retail query</c>'s refusal of one.</summary>
[Collection(S3rverCollection.Name)]
public sealed class CompactS3Tests(S3rverFixture s3rver)
{
    [Fact]
    public async Task Compact_FirehoseObjectsOnS3rver_ParquetInTheBucketHoldsExactlyTheInputsRowsAndRevenue()
    {
        // The SDK's default chain (environment first) gives the CLI s3rver's credentials.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "S3RVER");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "S3RVER");
        string prefix = $"cli-{Guid.NewGuid():N}";
        var store = s3rver.Store(prefix);
        var records = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 11 }).Generate(3000).ToList();
        int objects = 0;
        // Objects as real Firehose writes them: names ending in a random UUID, the workshop's records concatenated
        // without a delimiter, one in three GZIP-compressed (.gz), and some newline-delimited (Firehose's own producer).
        foreach (var hour in records.GroupBy(r => new DateTime(r.InvoiceDate.Year, r.InvoiceDate.Month, r.InvoiceDate.Day, r.InvoiceDate.Hour, 0, 0)))
            foreach (var chunk in hour.Chunk(400))
            {
                var ms = new MemoryStream();
                foreach (var r in chunk)
                {
                    byte[] line = RetailJson.ToJsonLine(r);
                    ms.Write(line, 0, objects % 3 == 2 ? line.Length : line.Length - 1);
                }
                byte[] body = ms.ToArray();
                string name = $"retail-trans-1-{hour.Key:yyyy-MM-dd-HH}-{objects % 60:00}-00-{Guid.NewGuid()}";
                if (objects % 3 == 1)
                {
                    var gz = new MemoryStream();
                    using (var zip = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) zip.Write(body);
                    body = gz.ToArray();
                    name += ".gz";
                }
                await store.PutAsync(LakeLayout.JsonPrefix + LakeLayout.HourPartition(hour.Key) + name, body);
                objects++;
            }
        Assert.True(objects >= 3, "the data must give every kind of object");

        var compact = await CliRunner.RunAsync("compact", "--lake", $"s3://{S3rverFixture.Bucket}/{prefix}", "--s3-endpoint-url", s3rver.ServiceUrl, "--all");

        Assert.True(compact.ExitCode == 0, compact.Stderr + compact.StdoutText);
        Assert.Contains("failed 0", compact.StdoutText, StringComparison.Ordinal);
        using var dir = new TempDir();
        int parts = 0;
        await foreach (var o in store.ListAsync(LakeLayout.ParquetPrefix))
        {
            string path = Path.Combine(dir.Path, o.Key);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, await store.GetBytesAsync(o.Key));
            parts++;
        }
        Assert.InRange(parts, 1, objects);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SET autoinstall_known_extensions=false; SET autoload_known_extensions=false;";
        cmd.ExecuteNonQuery();
        cmd.CommandText = $"SELECT count(*), sum(quantity * price)::VARCHAR FROM read_parquet('{dir.Path}/parquet-retail-trans/*/*/*/*/*.parquet')";
        using var reader = cmd.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(records.Count, Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
        Assert.Equal(records.Sum(r => r.Quantity * r.Price), decimal.Parse(reader.GetString(1), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Compact_BucketMissing_OneErrorLineNamingTheBucket()
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "S3RVER");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "S3RVER");
        var result = await CliRunner.RunAsync("compact", "--lake", "s3://no-such-retail-bucket/x", "--s3-endpoint-url", s3rver.ServiceUrl, "--all");

        Assert.Equal(2, result.ExitCode);
        string error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("[ERROR]", StringComparison.Ordinal));
        Assert.Contains("'no-such-retail-bucket' does not exist", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("query", "SELECT 1")]
    public async Task Query_S3Lake_OneLineSayingQueriesAreLocal(string command, string sql)
    {
        var result = await CliRunner.RunAsync(command, sql, "--lake", "s3://some-bucket/lake");

        Assert.Equal(2, result.ExitCode);
        string error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("local lake only", error, StringComparison.Ordinal);
        Assert.Contains("extension download", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3://Bad_Bucket/x", "bucket name 'Bad_Bucket'")]
    [InlineData("s3://", "bucket name '' is empty")]
    public async Task Compact_BadS3Uri_RefusedNamingTheUri(string uri, string problem)
    {
        var result = await CliRunner.RunAsync("compact", "--lake", uri);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(problem, result.Stderr, StringComparison.Ordinal);
        Assert.Contains(uri, result.Stderr, StringComparison.Ordinal);
    }
}
