namespace Retail.Cli.Tests;

public sealed class ConsumerRunIdleTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(5);

    [Fact]
    public void IsIdle_NoReadCompletedYet_IsNotIdleHoweverLong()
        => Assert.False(ConsumerRun.IsIdle(TimeSpan.FromMinutes(10), Idle, reads: 0, readsAtLastRecord: 0, millisBehindLatest: 0));

    [Fact]
    public void IsIdle_OnlyTheReadThatReturnedTheLastRecords_IsNotIdle()
        => Assert.False(ConsumerRun.IsIdle(TimeSpan.FromSeconds(6), Idle, reads: 3, readsAtLastRecord: 3, millisBehindLatest: 0));

    [Fact]
    public void IsIdle_EmptyReadAtTheTipAfterTheWindow_IsIdle()
        => Assert.True(ConsumerRun.IsIdle(TimeSpan.FromSeconds(5), Idle, reads: 4, readsAtLastRecord: 3, millisBehindLatest: 0));

    [Theory]
    [InlineData(4.9, 0)]
    [InlineData(6, 1200)]
    public void IsIdle_WithinTheWindowOrBehindTheTip_IsNotIdle(double seconds, long behind)
        => Assert.False(ConsumerRun.IsIdle(TimeSpan.FromSeconds(seconds), Idle, reads: 9, readsAtLastRecord: 3, millisBehindLatest: behind));
}
