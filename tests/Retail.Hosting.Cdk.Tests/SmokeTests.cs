using Amazon.CDK;
using Amazon.CDK.Assertions;
using Amazon.CDK.AWS.SQS;

namespace Retail.Hosting.Cdk.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Synth_TrivialStack_HasTheQueue()
    {
        var app = new App();
        var stack = new Stack(app, "Smoke");
        _ = new Queue(stack, "Q");
        Template.FromStack(stack).ResourceCountIs("AWS::SQS::Queue", 1);
    }
}
