using System.Text;
using Retail.Storage;

namespace Retail.Hosting.Lambda.Tests;

internal static class Lake
{
    /// <summary>Every object key under <paramref name="prefix"/> (paged listing, no delimiter).</summary>
    public static async Task<IReadOnlyList<string>> KeysAsync(IObjectStore store, string prefix)
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await store.ListPageAsync(prefix, token);
            keys.AddRange(page.Objects.Select(o => o.Key));
            token = page.ContinuationToken;
        }
        while (token is not null);
        return keys;
    }

    /// <summary>Every line of every object under <paramref name="prefix"/>.</summary>
    public static async Task<IReadOnlyList<string>> LinesAsync(IObjectStore store, string prefix)
    {
        var lines = new List<string>();
        foreach (string key in await KeysAsync(store, prefix))
            lines.AddRange(Encoding.UTF8.GetString(await store.GetBytesAsync(key)).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        return lines;
    }
}
