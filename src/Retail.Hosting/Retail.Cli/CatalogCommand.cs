using System.CommandLine;

namespace Retail.Cli;

/// <summary><c>retail catalog ddl|apply</c>: the Athena catalog of the lake, generated from the lake definition.</summary>
internal static class CatalogCommand
{
    public static Command Create(Stream stdout, TextWriter stderr)
    {
        _ = stdout; _ = stderr;
        return new Command("catalog", "The lake's Athena catalog (DDL generated from the lake definition).");
    }
}
