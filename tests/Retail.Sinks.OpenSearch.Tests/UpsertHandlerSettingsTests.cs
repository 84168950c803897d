using Retail.Indexing;

namespace Retail.Sinks.OpenSearch.Tests;

public class UpsertHandlerSettingsTests
{
    private const string Host = "vpc-retail-xxx.us-east-1.es.amazonaws.com";

    private static UpsertHandlerSettings From(params (string Name, string? Value)[] variables)
    {
        var env = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return UpsertHandlerSettings.FromEnvironment(name => env.TryGetValue(name, out var v) ? v : null);
    }

    private static UpsertSettingsException Fails(params (string Name, string? Value)[] variables) =>
        Assert.Throws<UpsertSettingsException>(() => From(variables));

    [Fact]
    public void FromEnvironment_WorkshopDeployment_WorkshopDefaultsAndFixedIdMode()
    {
        // The workshop's CDK app sets these (ES_TYPE "trans", the strptime format, InvoiceDate converted).
        var s = From(("ES_HOST", Host), ("ES_INDEX", "retail"), ("ES_TYPE", "trans"), ("REQUIRED_FIELDS", "Invoice,StockCode,Customer_ID"),
            ("REGION_NAME", "us-east-1"), ("DATE_TYPE_FIELDS", "InvoiceDate"), ("DATE_FORMAT", "%Y-%m-%d %H:%M:%S"));

        Assert.Equal(Host, s.OpenSearch.Endpoint);
        Assert.Equal("retail", s.OpenSearch.Index);
        Assert.Equal("trans", s.OpenSearch.TypeName);
        Assert.Equal("trans", s.SpeedLayer.DocumentTypeName);
        Assert.Equal("us-east-1", s.OpenSearch.Region);
        Assert.True(s.OpenSearch.IsoDates);
        Assert.Equal(OpenSearchAuth.SigV4, s.OpenSearch.Auth);
        Assert.Equal("es", s.OpenSearch.SigningService);
        Assert.Equal(BulkAction.Index, s.OpenSearch.Action);
        Assert.Equal(RefreshPolicy.None, s.OpenSearch.Refresh);
        Assert.Equal(IndexRotation.None, s.OpenSearch.Rotation);
        Assert.Equal(DocumentIdMode.SourcePosition, s.SpeedLayer.IdMode);
        Assert.Equal(["Invoice", "StockCode", "Customer_ID"], s.SpeedLayer.RequiredFields);
        Assert.Empty(s.OpenSearch.Validate());
    }

    [Fact]
    public void FromEnvironment_OnlyHost_Defaults()
    {
        var s = From(("ES_HOST", "https://search-x.eu-west-2.es.amazonaws.com"));
        Assert.Equal("retail", s.OpenSearch.Index);
        Assert.Null(s.OpenSearch.TypeName);
        Assert.True(s.OpenSearch.IsoDates);
        Assert.Equal("eu-west-2", s.OpenSearch.Region); // from the host name
        Assert.Equal(["Invoice", "StockCode", "Customer_ID"], s.SpeedLayer.RequiredFields);
        Assert.True(s.OpenSearch.EnsureIndexTemplate);
    }

    [Fact]
    public void FromEnvironment_RegionName_WinsOverHost()
    {
        Assert.Equal("ap-south-1", From(("ES_HOST", Host), ("REGION_NAME", "ap-south-1")).OpenSearch.Region);
    }

    [Fact]
    public void FromEnvironment_ServerlessHost_SignsForAoss()
    {
        var s = From(("ES_HOST", "abc123.us-west-2.aoss.amazonaws.com"));
        Assert.Equal("aoss", s.OpenSearch.SigningService);
        Assert.Equal("us-west-2", s.OpenSearch.Region);
        Assert.Equal("es", From(("ES_HOST", "abc123.us-west-2.aoss.amazonaws.com"), ("RETAIL_OPENSEARCH_SERVICE", "es")).OpenSearch.SigningService);
    }

    [Fact]
    public void FromEnvironment_HostUrlWithPort_Kept()
    {
        var s = From(("ES_HOST", "http://127.0.0.1:9200"), ("ES_AUTH", "none"));
        Assert.Equal("http://127.0.0.1:9200", s.OpenSearch.Endpoint);
        Assert.Equal(OpenSearchAuth.None, s.OpenSearch.Auth);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void FromEnvironment_NoHost_FailsNamingEsHost(string? value)
    {
        var e = Fails(("ES_HOST", value));
        Assert.Equal("ES_HOST", e.Variable);
        Assert.Contains("ES_HOST", e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<ArgumentException>(e);
    }

    [Theory]
    [InlineData("ftp://host")]
    [InlineData("https://host/?a=1")]
    public void FromEnvironment_BadHost_FailsNamingEsHostAndValue(string value)
    {
        var e = Fails(("ES_HOST", value));
        Assert.Equal("ES_HOST", e.Variable);
        Assert.Contains(value, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://admin:hunter2@search-retail.example.com")]
    [InlineData("admin:hunter2@vpc-retail.us-east-1.es.amazonaws.com")]
    public void FromEnvironment_HostWithCredentials_FailsWithoutEchoingThePassword(string value)
    {
        var e = Fails(("ES_HOST", value));
        Assert.Equal("ES_HOST", e.Variable);
        Assert.Contains("credentials", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("admin", e.Message, StringComparison.Ordinal);
        Assert.Contains("***@", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", string.Join(" ", new OpenSearchOptions { Endpoint = value }.Validate()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Retail")]
    [InlineData("_retail")]
    [InlineData("a b")]
    public void FromEnvironment_BadIndex_FailsNamingEsIndex(string value)
    {
        var e = Fails(("ES_HOST", Host), ("ES_INDEX", value));
        Assert.Equal("ES_INDEX", e.Variable);
        Assert.Contains($"'{value}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_RequiredFieldsWithSpaces_Trimmed()
    {
        var s = From(("ES_HOST", Host), ("REQUIRED_FIELDS", " Invoice , StockCode "));
        Assert.Equal(["Invoice", "StockCode"], s.SpeedLayer.RequiredFields);
    }

    [Theory]
    [InlineData("Invoice,Customer ID")]
    [InlineData("invoice")]
    [InlineData(",")]
    public void FromEnvironment_BadRequiredFields_FailsNamingVariable(string value)
    {
        var e = Fails(("ES_HOST", Host), ("REQUIRED_FIELDS", value));
        Assert.Equal("REQUIRED_FIELDS", e.Variable);
        Assert.Contains("REQUIRED_FIELDS", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_BadRegion_FailsNamingRegionName()
    {
        var e = Fails(("ES_HOST", Host), ("REGION_NAME", "US East"));
        Assert.Equal("REGION_NAME", e.Variable);
        Assert.Contains("US East", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("InvoiceDate", true)]
    [InlineData(" InvoiceDate ", true)]
    public void FromEnvironment_DateTypeFields_SetsIsoDates(string value, bool iso)
    {
        Assert.Equal(iso, From(("ES_HOST", Host), ("DATE_TYPE_FIELDS", value)).OpenSearch.IsoDates);
    }

    [Fact]
    public void FromEnvironment_DateTypeFieldsOtherField_FailsNamingVariable()
    {
        var e = Fails(("ES_HOST", Host), ("DATE_TYPE_FIELDS", "InvoiceDate,ShipDate"));
        Assert.Equal("DATE_TYPE_FIELDS", e.Variable);
        Assert.Contains("InvoiceDate", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("%Y-%m-%d %H:%M:%S")]
    [InlineData("%Y-%m-%dT%H:%M:%S")]
    public void FromEnvironment_SupportedDateFormats_Accepted(string format)
    {
        From(("ES_HOST", Host), ("DATE_FORMAT", format));
    }

    [Fact]
    public void FromEnvironment_OtherDateFormat_FailsNamingVariableAndSupportedFormats()
    {
        var e = Fails(("ES_HOST", Host), ("DATE_FORMAT", "%d/%m/%Y %H:%M"));
        Assert.Equal("DATE_FORMAT", e.Variable);
        Assert.Contains("%Y-%m-%d %H:%M:%S", e.Message, StringComparison.Ordinal);
        Assert.Contains("%d/%m/%Y %H:%M", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_BasicAuth_UsernameAndPassword()
    {
        var s = From(("ES_HOST", Host), ("ES_AUTH", "BASIC"), ("ES_USERNAME", "admin"), ("ES_PASSWORD", " p@ss word "));
        Assert.Equal(OpenSearchAuth.Basic, s.OpenSearch.Auth);
        Assert.Equal("admin", s.OpenSearch.Username);
        Assert.Equal(" p@ss word ", s.OpenSearch.Password);
    }

    [Fact]
    public void FromEnvironment_BasicAuthWithoutPassword_FailsNamingEsPassword()
    {
        var e = Fails(("ES_HOST", Host), ("ES_AUTH", "basic"), ("ES_USERNAME", "admin"));
        Assert.Equal("ES_PASSWORD", e.Variable);
    }

    [Fact]
    public void FromEnvironment_BasicAuthWithoutUser_FailsNamingEsUsername()
    {
        var e = Fails(("ES_HOST", Host), ("ES_AUTH", "basic"), ("ES_PASSWORD", "TopSecret-42"));
        Assert.Equal("ES_USERNAME", e.Variable);
        Assert.DoesNotContain("TopSecret-42", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_AnyFailureWithPasswordSet_PasswordNeverInMessage()
    {
        const string password = "TopSecret-42";
        var broken = new (string, string?)[][]
        {
            [("ES_HOST", "ftp://x"), ("ES_AUTH", "basic"), ("ES_USERNAME", "a"), ("ES_PASSWORD", password)],
            [("ES_HOST", Host), ("ES_AUTH", "basic"), ("ES_USERNAME", "a:b"), ("ES_PASSWORD", password)],
            [("ES_HOST", Host), ("ES_AUTH", "kerberos"), ("ES_USERNAME", "a"), ("ES_PASSWORD", password)],
            [("ES_HOST", Host), ("ES_AUTH", "basic"), ("ES_USERNAME", "a"), ("ES_PASSWORD", password), ("RETAIL_REFRESH", "always")],
        };
        foreach (var env in broken)
        {
            var e = Fails(env);
            Assert.DoesNotContain(password, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(password, e.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("ES_AUTH", "kerberos")]
    [InlineData("RETAIL_ID_MODE", "md5")]
    [InlineData("RETAIL_OPENSEARCH_SERVICE", "opensearch")]
    [InlineData("RETAIL_INDEX_ROTATION", "yearly")]
    [InlineData("RETAIL_BULK_ACTION", "delete")]
    [InlineData("RETAIL_REFRESH", "always")]
    [InlineData("RETAIL_INDEX_TEMPLATE", "maybe")]
    public void FromEnvironment_UnknownChoice_FailsNamingVariableValueAndChoices(string variable, string value)
    {
        var e = Fails(("ES_HOST", Host), (variable, value));
        Assert.Equal(variable, e.Variable);
        Assert.Contains(variable, e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("must be one of", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("source-position", DocumentIdMode.SourcePosition)]
    [InlineData("business-key", DocumentIdMode.BusinessKey)]
    [InlineData("workshop-md5", DocumentIdMode.WorkshopMd5Prefix)]
    [InlineData("Workshop-MD5", DocumentIdMode.WorkshopMd5Prefix)]
    public void FromEnvironment_IdMode_Parsed(string value, DocumentIdMode mode)
    {
        Assert.Equal(mode, From(("ES_HOST", Host), ("RETAIL_ID_MODE", value)).SpeedLayer.IdMode);
    }

    [Theory]
    [InlineData("none", IndexRotation.None)]
    [InlineData("hour", IndexRotation.Hour)]
    [InlineData("day", IndexRotation.Day)]
    [InlineData("week", IndexRotation.Week)]
    [InlineData("month", IndexRotation.Month)]
    public void FromEnvironment_Rotation_Parsed(string value, IndexRotation rotation)
    {
        Assert.Equal(rotation, From(("ES_HOST", Host), ("RETAIL_INDEX_ROTATION", value)).OpenSearch.Rotation);
    }

    [Theory]
    [InlineData("index", BulkAction.Index)]
    [InlineData("create", BulkAction.Create)]
    [InlineData("update", BulkAction.Update)]
    public void FromEnvironment_BulkAction_Parsed(string value, BulkAction action)
    {
        Assert.Equal(action, From(("ES_HOST", Host), ("RETAIL_BULK_ACTION", value)).OpenSearch.Action);
    }

    [Theory]
    [InlineData("none", RefreshPolicy.None)]
    [InlineData("true", RefreshPolicy.True)]
    [InlineData("wait_for", RefreshPolicy.WaitFor)]
    public void FromEnvironment_Refresh_Parsed(string value, RefreshPolicy refresh)
    {
        Assert.Equal(refresh, From(("ES_HOST", Host), ("RETAIL_REFRESH", value)).OpenSearch.Refresh);
    }

    [Fact]
    public void FromEnvironment_IndexTemplate_OnByDefaultAndOffOnRequest()
    {
        Assert.True(From(("ES_HOST", Host)).OpenSearch.EnsureIndexTemplate);
        Assert.False(From(("ES_HOST", Host), ("RETAIL_INDEX_TEMPLATE", "FALSE")).OpenSearch.EnsureIndexTemplate);
    }

    [Fact]
    public void FromEnvironment_Settings_CreateAWorkingIndex()
    {
        var s = From(("ES_HOST", "http://127.0.0.1:9200"), ("ES_AUTH", "none"));
        using var index = OpenSearchClientFactory.CreateIndex(s.OpenSearch);
        Assert.Equal("retail", index.IndexPattern);
    }
}
