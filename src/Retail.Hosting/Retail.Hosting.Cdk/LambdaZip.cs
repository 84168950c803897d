using System.IO.Compression;

namespace Retail.Hosting.Cdk;

/// <summary>Checks the Lambda host's AOT zip: what <c>provided.al2023</c> needs of it.</summary>
internal static class LambdaZip
{
    /// <summary>Null when <paramref name="path"/> is a zip with an executable <c>bootstrap</c> at its root; otherwise what is wrong.</summary>
    public static string? Check(string path)
    {
        if (!path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase)) return "is not a .zip";
        if (!File.Exists(path)) return "does not exist";
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var bootstrap = zip.GetEntry("bootstrap");
            if (bootstrap is null) return "has no bootstrap at its root (it is not the Lambda host's zip)";
            // Unix mode bits live in the high 16 bits of the external attributes; Lambda runs bootstrap only when executable.
            int mode = (bootstrap.ExternalAttributes >> 16) & 0x1FF;
            if ((mode & 0x49) == 0) return "holds a bootstrap that is not executable";
            return null;
        }
        catch (InvalidDataException e)
        {
            return $"is not a readable zip ({e.Message})";
        }
        catch (IOException e)
        {
            return $"cannot be read ({e.Message})";
        }
    }
}
