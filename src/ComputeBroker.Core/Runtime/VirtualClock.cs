namespace ComputeBroker.Runtime;

/// <summary>
/// A clock that only moves when told: the simulator's and the demo's time. Moving it backwards is a
/// programming error. Not thread-safe.
/// </summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void AdvanceTo(DateTimeOffset at)
    {
        if (at < _now)
        {
            throw new InvalidOperationException($"The virtual clock cannot move back from {_now:O} to {at:O}.");
        }

        _now = at;
    }
}
