using System.Runtime.CompilerServices;

namespace Retail.Hosting.Cdk.Tests;

internal static class NodeWarnings
{
    /// <summary>jsii's Node child inherits the environment: silence its end-of-life warning for Node 20 before it starts.</summary>
    [ModuleInitializer]
    internal static void Silence() => Environment.SetEnvironmentVariable("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1");
}
