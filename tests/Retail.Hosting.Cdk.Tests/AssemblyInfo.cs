// jsii runs one Node.js kernel per process and its .NET client is not thread-safe: every synth test runs serially.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
