namespace ComputeBroker.Server.Tests.Infrastructure;

/// <summary>
/// A broker clock that stands still until the test moves it on: brokers sharing one agree on every instant, and a
/// deadline days away passes in one step. Thread-safe.
/// </summary>
public sealed class SteppedClock(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        lock (_gate)
        {
            _now += by;
        }
    }
}
