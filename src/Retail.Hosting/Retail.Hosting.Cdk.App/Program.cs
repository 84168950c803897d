using Retail.Hosting.Cdk.App;

var app = new Amazon.CDK.App();
RetailPipelineApp.Build(app);
app.Synth();
