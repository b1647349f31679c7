namespace ComputeBroker.Server.Tests.Infrastructure;

/// <summary>
/// The "real" clock under a <see cref="Hosting.ScaledTimeProvider"/> that a test can hold still: while it is held, the
/// broker's scaled clock stands still too, so a test can look at the broker before a deadline without racing it. Once
/// released, it runs on from where it stood. Thread-safe.
/// </summary>
public sealed class HeldClock : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _heldAt = System.GetUtcNow();
    private TimeSpan _lost;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _heldAt ?? System.GetUtcNow() - _lost;
        }
    }

    public void Release()
    {
        lock (_gate)
        {
            if (_heldAt is { } at)
            {
                _lost += System.GetUtcNow() - at;
                _heldAt = null;
            }
        }
    }
}
