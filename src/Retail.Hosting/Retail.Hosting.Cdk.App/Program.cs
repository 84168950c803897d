using Retail.Hosting.Cdk.App;

try
{
    var app = new Amazon.CDK.App();
    RetailPipelineApp.Build(app);
    app.Synth();
    return 0;
}
catch (ArgumentException e)
{
    // A bad context value or prop: one line naming it, no stack trace.
    await Console.Error.WriteLineAsync("error: " + e.Message);
    return 1;
}
