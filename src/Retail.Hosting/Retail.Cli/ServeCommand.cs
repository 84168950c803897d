using System.CommandLine;
using Retail.Indexing;
using Retail.Query;
using Retail.Sinks.DuckDb;

namespace Retail.Cli;

/// <summary>
/// <c>retail serve --lake DIR [--urls http://127.0.0.1:5080]</c>: the dashboard (Retail.Hosting.Dashboard) at <c>/</c> over a
/// local lake — the batch layer through the embedded DuckDB engine, the live view from the lake's speed-layer index,
/// opened read-only for each poll so that a <c>retail demo</c> in another process can go on writing it.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(Stream stdout, TextWriter stderr)
    {
        var lake = LakeOption.Create(mustExist: true);
        var urls = DashboardServer.CreateUrlsOption();
        var command = new Command("serve", "Serve the dashboard of a local lake: the workshop's QuickSight and Kibana charts, live, in a browser.") { lake, urls };
        command.SetAction(async (r, ct) =>
        {
            string path = r.GetValue(lake)!.FullName;
            IQueryEngine engine;
            ISpeedLayerView view;
            try
            {
                engine = DuckDbFactory.CreateQueryEngine(new DuckDbQueryOptions { LakePath = path });
                view = DuckDbFactory.CreateSpeedLayerView(new DuckDbIndexOptions { LakePath = path });
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message, 2, e);
            }
            try
            {
                var (app, addresses) = await DashboardServer.StartAsync(r.GetValue(urls)!, engine, view, stderr, ct).ConfigureAwait(false);
                await using (app.ConfigureAwait(false))
                {
                    using (var output = new StreamWriter(stdout, leaveOpen: true))
                        await output.WriteLineAsync($"serving the dashboard of {path} at {string.Join(", ", addresses.Select(a => a.TrimEnd('/') + "/"))} (Ctrl-C to stop)").ConfigureAwait(false);
                    await DashboardServer.ServeUntilStoppedAsync(app, ct).ConfigureAwait(false);
                    await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                (engine as IDisposable)?.Dispose();
                (view as IDisposable)?.Dispose();
            }
            return 0;
        });
        return command;
    }
}
