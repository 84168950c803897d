using System.Net;

namespace Retail.Sinks.S3.Tests;

/// <summary>
/// Picks the requests that fail, reproducibly: a request fails when a draw seeded with <see cref="Seed"/>, its method
/// and path, and how many times that request has been sent, falls below <see cref="Rate"/>. The choice does not depend on
/// how concurrent requests interleave, so a run with the same seed fails the same attempts.
/// </summary>
internal sealed class SeededFaults(int seed, double rate)
{
    private readonly Dictionary<string, int> _sent = new(StringComparer.Ordinal);

    public int Seed { get; } = seed;

    public double Rate { get; } = rate;

    /// <summary>503 SlowDown for a chosen request, else null (passed to the server).</summary>
    public HttpStatusCode? Decide(HttpRequestMessage request)
    {
        string key = $"{request.Method} {request.RequestUri!.PathAndQuery}";
        int attempt;
        lock (_sent) _sent[key] = attempt = _sent.GetValueOrDefault(key) + 1;
        double draw = new Random(StableHash($"{Seed}|{key}|{attempt}")).NextDouble();
        return draw < Rate ? HttpStatusCode.ServiceUnavailable : null;
    }

    /// <summary>FNV-1a: the same in every process (<see cref="string.GetHashCode()"/> is randomized per process).</summary>
    private static int StableHash(string s)
    {
        uint h = 2166136261;
        foreach (char c in s) h = (h ^ c) * 16777619;
        return (int)(h & int.MaxValue);
    }
}
