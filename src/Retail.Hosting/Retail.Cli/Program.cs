using Retail.Cli;

return await RetailCli.RunAsync(args, Console.OpenStandardOutput(), Console.Error, CancellationToken.None).ConfigureAwait(false);
