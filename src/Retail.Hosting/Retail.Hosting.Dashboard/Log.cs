using Microsoft.Extensions.Logging;

namespace Retail.Hosting.Dashboard;

internal static partial class Log
{
    /// <summary>The logger category of every dashboard message.</summary>
    public const string Category = "Retail.Hosting.Dashboard";

    [LoggerMessage(1, LogLevel.Information, "Retail dashboard mapped at {Prefix}/ (page embedded: {HasPage}, assets: {Assets})")]
    public static partial void Mapped(ILogger logger, string prefix, bool hasPage, int assets);

    [LoggerMessage(2, LogLevel.Error, "Dashboard API {Endpoint} failed: {Error}")]
    public static partial void ApiFailed(ILogger logger, Exception exception, string endpoint, string error);

    [LoggerMessage(3, LogLevel.Warning, "Dashboard API {Endpoint}: {Error}")]
    public static partial void ServiceMissing(ILogger logger, string endpoint, string error);

    [LoggerMessage(4, LogLevel.Debug, "Dashboard API {Endpoint} refused parameter {Parameter}: {Error}")]
    public static partial void ParameterRefused(ILogger logger, string endpoint, string parameter, string error);
}
