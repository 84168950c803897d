using System.CommandLine;
using Retail.Delivery;
using Retail.Storage;

namespace Retail.Cli;

/// <summary>
/// The Firehose settings <c>retail demo</c> and <c>retail deliver</c> share (<c>--partition-by</c>,
/// <c>--buffer-size-mb</c>, <c>--buffer-interval</c>) and how they map onto <see cref="DeliveryOptions"/>.
/// </summary>
internal sealed class DeliveryFlags
{
    public Option<string> PartitionBy { get; } = new("--partition-by") { Description = "arrival-time (Firehose's default) or event-time (InvoiceDate; for historical replays).", DefaultValueFactory = _ => "arrival-time" };

    public Option<int> BufferSizeMiB { get; } = new("--buffer-size-mb") { Description = "Firehose buffer size hint, MiB (1–128).", DefaultValueFactory = _ => 1 };

    public Option<int> BufferInterval { get; } = new("--buffer-interval") { Description = "Firehose buffer interval hint, seconds (0–900).", DefaultValueFactory = _ => 60 };

    public DeliveryFlags()
    {
        PartitionBy.AcceptOnlyFromAmong("arrival-time", "event-time");
        BufferSizeMiB.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 128) r.AddError($"--buffer-size-mb must be 1 to 128, got {r.GetValueOrDefault<int>()}."); });
        BufferInterval.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 900) r.AddError($"--buffer-interval must be 0 to 900, got {r.GetValueOrDefault<int>()}."); });
    }

    /// <summary>The options to add to a command.</summary>
    public IEnumerable<Option> All => [PartitionBy, BufferSizeMiB, BufferInterval];

    /// <summary>Sets the prefix for the partitioning and the buffering hints.</summary>
    public static void Apply(DeliveryOptions o, bool eventTime, int bufferSizeMiB, int bufferIntervalSeconds)
    {
        o.Prefix = eventTime ? LakeLayout.EventTimeJsonPrefixTemplate : LakeLayout.WorkshopJsonPrefixTemplate;
        o.BufferSizeMiB = bufferSizeMiB;
        o.BufferIntervalSeconds = bufferIntervalSeconds;
    }
}
