using System.CommandLine;

namespace Retail.Cli;

/// <summary>
/// <c>retail dashboards export [--index-pattern retail*] [--output FILE]</c>: the workshop's OpenSearch Dashboards
/// objects (index pattern, visualization, dashboard; see <see cref="SavedObjects"/>) as saved-objects NDJSON, on stdout
/// or into FILE, ready for <c>POST /api/saved_objects/_import?overwrite=true</c> or Stack Management → Saved objects → Import.
/// </summary>
internal static class DashboardsCommand
{
    public static Command Create(Stream stdout, TextWriter stderr)
    {
        var command = new Command("dashboards", "OpenSearch Dashboards objects for the speed layer's index.");
        command.Subcommands.Add(CreateExport(stdout, stderr));
        return command;
    }

    private static Command CreateExport(Stream stdout, TextWriter stderr)
    {
        var pattern = new Option<string>("--index-pattern") { Description = $"The index pattern the objects read (default {SavedObjects.DefaultIndexPattern}: the index retail and its rotated indexes).", DefaultValueFactory = _ => SavedObjects.DefaultIndexPattern };
        pattern.Validators.Add(r => { if (SavedObjects.Validate(r.GetValueOrDefault<string>() ?? "") is { } error) r.AddError(error); });
        var timeFrom = new Option<string>("--time-from") { Description = $"The dashboard's time range start, in Dashboards date math (default {SavedObjects.DefaultTimeFrom}: today, as the synthetic producer's dates; e.g. now-20y or 2009-12-01 for the replayed data set).", DefaultValueFactory = _ => SavedObjects.DefaultTimeFrom };
        var timeTo = new Option<string>("--time-to") { Description = $"Its end (default {SavedObjects.DefaultTimeTo}).", DefaultValueFactory = _ => SavedObjects.DefaultTimeTo };
        foreach (var t in new[] { timeFrom, timeTo })
            t.Validators.Add(r => { if (string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>())) r.AddError($"{t.Name} must not be empty."); });
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write the NDJSON to this file (replaced if it exists) instead of stdout." };
        var command = new Command("export", $"Write an index pattern (time field {SavedObjects.TimeField}), the workshop's visualization (sum of {SavedObjects.MetricField} over a date histogram of {SavedObjects.TimeField}) and a dashboard holding it, as saved-objects NDJSON for the Dashboards import API. Ids derive from the index pattern, so importing again overwrites.")
        {
            pattern, timeFrom, timeTo, output,
        };
        command.SetAction(async (r, ct) =>
        {
            string indexPattern = r.GetValue(pattern)!;
            byte[] ndjson = SavedObjects.Export(indexPattern, r.GetValue(timeFrom)!.Trim(), r.GetValue(timeTo)!.Trim());
            if (r.GetValue(output) is { } file)
            {
                await WriteFileAsync(file, ndjson, ct).ConfigureAwait(false);
                await stderr.WriteLineAsync($"[INFO] wrote 3 saved objects (index pattern {indexPattern}, visualization, dashboard) to {file.FullName}; import with: curl -X POST 'https://DASHBOARDS/_dashboards/api/saved_objects/_import?overwrite=true' -H 'osd-xsrf: true' --form file=@{file.Name}").ConfigureAwait(false);
            }
            else
            {
                await stdout.WriteAsync(ndjson, ct).ConfigureAwait(false);
                await stdout.FlushAsync(ct).ConfigureAwait(false);
            }
            return 0;
        });
        return command;
    }

    /// <summary>Writes the file whole (a temporary file beside it, then renamed), or fails in one line naming --output.</summary>
    private static async Task WriteFileAsync(FileInfo file, byte[] bytes, CancellationToken ct)
    {
        string path = file.FullName;
        if (Directory.Exists(path)) throw new CliException($"--output {path} is a folder; name a file.", 2);
        string? folder = Path.GetDirectoryName(path);
        if (folder is not null && !Directory.Exists(folder))
            throw new CliException($"--output {path}: the folder {folder} does not exist (or is a file).", 2);
        string temp = Path.Combine(folder ?? ".", $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await File.WriteAllBytesAsync(temp, bytes, ct).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--output {path} cannot be written: {e.Message}", 2, e);
        }
        finally
        {
            if (File.Exists(temp)) TryDelete(temp);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing was written there, or nothing can be: the error already says why.
        }
    }
}
