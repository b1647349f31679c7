namespace ComputeBroker.Server.Hosting;

/// <summary>
/// A wall clock that runs <see cref="Speed"/> times faster than real time from a chosen start, so a demo
/// shows days of response windows in minutes. Speed 1 is the real clock. Thread-safe.
/// </summary>
public sealed class ScaledTimeProvider : TimeProvider
{
    private readonly TimeProvider _real;
    private readonly DateTimeOffset _realStart;

    public ScaledTimeProvider(DateTimeOffset start, double speed, TimeProvider? real = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(speed, 1.0);
        _real = real ?? System;
        _realStart = _real.GetUtcNow();
        Start = start;
        Speed = speed;
    }

    public DateTimeOffset Start { get; }

    public double Speed { get; }

    public override DateTimeOffset GetUtcNow() => Start + ((_real.GetUtcNow() - _realStart) * Speed);

    /// <summary>The same speed and real clock, reading <paramref name="start"/> now.</summary>
    public ScaledTimeProvider StartingAt(DateTimeOffset start) => new(start, Speed, _real);

    /// <summary>How much time <paramref name="clock"/> shows pass in <paramref name="real"/> real time.</summary>
    public static TimeSpan OnClock(TimeProvider clock, TimeSpan real) => clock is ScaledTimeProvider scaled ? real * scaled.Speed : real;

    /// <summary>The real time to wait until this clock reads <paramref name="at"/>.</summary>
    public TimeSpan RealDelayUntil(DateTimeOffset at)
    {
        var delta = at - GetUtcNow();
        return delta <= TimeSpan.Zero ? TimeSpan.Zero : delta / Speed;
    }
}
