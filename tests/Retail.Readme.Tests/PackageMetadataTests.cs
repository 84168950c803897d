using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace Retail.Readme.Tests;

/// <summary>What a NuGet user sees of each library package: its nuspec, its files and its symbols package.</summary>
[Collection(PackedLibrariesCollection.Name)]
public sealed class PackageMetadataTests(PackedLibraries packed)
{
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    private static readonly Guid EmbeddedSourceKind = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    /// <summary>Tags that name a technology: a package may carry one only if it is that technology's package.</summary>
    private static readonly string[] TechnologyTags =
        ["kinesis", "firehose", "athena", "opensearch", "elasticsearch", "kibana", "s3", "lambda", "dynamodb", "quicksight", "aws", "cdk", "parquet", "duckdb"];

    /// <summary>
    /// Technologies a package serves beside the one it is named for (Firehose's PutRecordBatch shares the Kinesis package:
    /// one dependency, AWSSDK.Core; the OpenSearch bulk client speaks Elasticsearch's <c>_bulk</c> API, which OpenSearch kept).
    /// </summary>
    private static readonly Dictionary<string, string[]> AlsoFor = new(StringComparer.Ordinal)
    {
        ["Retail.Sinks.Kinesis"] = ["firehose"],
        ["Retail.Sinks.OpenSearch"] = ["elasticsearch"],
    };

    public static TheoryData<string> Libraries
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var library in Repository.Libraries) data.Add(library.Name);
            return data;
        }
    }

    [Fact]
    public void Pack_Libraries_OnePackageAndOneSymbolsPackageEachNamedAfterItsFolder()
    {
        Assert.NotEmpty(Repository.Libraries);
        foreach (var library in Repository.Libraries) Assert.Equal(library.FolderName, library.Name);
        var expected = Repository.Libraries.SelectMany(l => new[] { $"{l.Name}.{packed.Version}.nupkg", $"{l.Name}.{packed.Version}.snupkg" }).Order(StringComparer.Ordinal);
        var actual = Directory.EnumerateFiles(packed.Feed).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public async Task Nuspec_EachPackage_HasIdDescriptionRepositoryLicenseAndReadme(string id)
    {
        var library = Repository.Libraries.Single(l => l.Name == id);
        using var package = ZipFile.OpenRead(packed.PackagePath(id));
        var metadata = Metadata(package, id);

        Assert.Equal(id, Value(metadata, "id"));
        Assert.Equal(packed.Version, Value(metadata, "version"));
        Assert.False(string.IsNullOrWhiteSpace(library.Description), $"{library.Path} has no Description");
        Assert.Equal(library.Description, Value(metadata, "description"));

        var license = Element(metadata, "license");
        Assert.Equal("expression", (string?)license.Attribute("type"));
        Assert.Equal(Repository.LicenseExpression, license.Value);

        Assert.Equal(Repository.RepositoryUrl, Value(metadata, "projectUrl"));
        var repository = Element(metadata, "repository");
        Assert.Equal("git", (string?)repository.Attribute("type"));
        Assert.Equal(Repository.RepositoryUrl, (string?)repository.Attribute("url"));
        Assert.Equal(await Repository.HeadCommitAsync(), (string?)repository.Attribute("commit"));

        Assert.Equal("README.md", Value(metadata, "readme"));
        Assert.Equal(File.ReadAllBytes(Repository.ReadmePath), ReadEntry(package, "README.md"));
        Assert.NotNull(package.GetEntry($"lib/net10.0/{id}.dll"));
        Assert.NotNull(package.GetEntry($"lib/net10.0/{id}.xml"));
        Assert.DoesNotContain(package.Entries, e => e.FullName.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Nuspec_EachPackage_TagsDescribeThatPackageOnly(string id)
    {
        string[] tags = Tags(id);
        Assert.Contains("retail", tags);
        foreach (string tag in tags.Intersect(TechnologyTags))
            Assert.True(id.Contains(tag, StringComparison.OrdinalIgnoreCase) || AlsoFor.GetValueOrDefault(id, []).Contains(tag), $"{id} is tagged '{tag}' ({string.Join(' ', tags)}), a technology it is not the package for");
        foreach (var other in Repository.Libraries.Where(l => l.Name != id))
            Assert.False(Tags(other.Name).Order().SequenceEqual(tags.Order()), $"{id} and {other.Name} have the same tags ({string.Join(' ', tags)}): tags must describe each package");
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public async Task SymbolsPackage_EachPackage_HoldsTheDllsPdbWithSourceLinkToTheRepositoryAtTheCommit(string id)
    {
        string symbols = packed.SymbolsPackagePath(id);
        Assert.True(File.Exists(symbols), $"{Path.GetFileName(symbols)} is not beside {Path.GetFileName(packed.PackagePath(id))}");
        byte[] dll;
        using (var package = ZipFile.OpenRead(packed.PackagePath(id))) dll = ReadEntry(package, $"lib/net10.0/{id}.dll");
        byte[] pdb;
        using (var package = ZipFile.OpenRead(symbols)) pdb = ReadEntry(package, $"lib/net10.0/{id}.pdb");

        using var pdbProvider = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(pdb));
        var reader = pdbProvider.GetMetadataReader();
        using (var pe = new PEReader(new MemoryStream(dll)))
        {
            var codeView = pe.ReadDebugDirectory().Single(e => e.Type == DebugDirectoryEntryType.CodeView);
            Assert.Equal(pe.ReadCodeViewDebugDirectoryData(codeView).Guid, new BlobContentId(reader.DebugMetadataHeader!.Id).Guid);
        }

        string? sourceLink = reader.GetCustomDebugInformation(EntityHandle.ModuleDefinition)
            .Select(reader.GetCustomDebugInformation)
            .Where(c => reader.GetGuid(c.Kind) == SourceLinkKind)
            .Select(c => Encoding.UTF8.GetString(reader.GetBlobBytes(c.Value)))
            .SingleOrDefault();
        Assert.True(sourceLink is not null, $"{id}.pdb has no Source Link");
        var documents = JsonDocument.Parse(sourceLink).RootElement.GetProperty("documents").EnumerateObject().ToList();
        var root = Assert.Single(documents);
        var repository = new Uri(Repository.RepositoryUrl);
        Assert.Equal("github.com", repository.Host);
        Assert.Equal($"https://raw.githubusercontent.com{repository.AbsolutePath.TrimEnd('/')}/{await Repository.HeadCommitAsync()}/*", root.Value.GetString());

        // Every source file is reachable: through Source Link, or embedded (generated sources).
        Assert.EndsWith("*", root.Name);
        string prefix = root.Name[..^1];
        foreach (var handle in reader.Documents)
        {
            string name = reader.GetString(reader.GetDocument(handle).Name);
            bool embedded = reader.GetCustomDebugInformation(handle).Any(c => reader.GetGuid(reader.GetCustomDebugInformation(c).Kind) == EmbeddedSourceKind);
            Assert.True(embedded || name.StartsWith(prefix, StringComparison.Ordinal), $"{id}.pdb: {name} is neither under the Source Link root {prefix} nor embedded");
        }
    }

    private string[] Tags(string id)
    {
        using var package = ZipFile.OpenRead(packed.PackagePath(id));
        return Value(Metadata(package, id), "tags").Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private static XElement Metadata(ZipArchive package, string id)
    {
        var nuspec = XDocument.Load(new MemoryStream(ReadEntry(package, $"{id}.nuspec")));
        return nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static XElement Element(XElement metadata, string name) =>
        metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name) ?? throw new Xunit.Sdk.XunitException($"the nuspec has no <{name}>:\n{metadata}");

    private static string Value(XElement metadata, string name) => Element(metadata, name).Value;

    private static byte[] ReadEntry(ZipArchive package, string path)
    {
        var entry = package.GetEntry(path) ?? throw new Xunit.Sdk.XunitException($"the package has no {path}; it has {string.Join(", ", package.Entries.Select(e => e.FullName))}");
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
