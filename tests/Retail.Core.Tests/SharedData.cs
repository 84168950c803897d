namespace Retail.Core.Tests;

/// <summary>Locates ../shared/data (beside the repository) from the test binaries.</summary>
internal static class SharedData
{
    public static string Path(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "shared", "data", fileName);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"shared/data/{fileName} not found above {AppContext.BaseDirectory}");
    }

    public const string DevSample = "online_retail_II_dev_sample.csv";
    public const string Sample2010 = "online_retail_2010_sample.csv";
}
