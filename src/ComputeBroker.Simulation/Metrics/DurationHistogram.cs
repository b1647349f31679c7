namespace ComputeBroker.Simulation.Metrics;

/// <summary>
/// Counts durations in fixed buckets so that percentiles over millions of requests cost a few kilobytes
/// and memory does not grow with the number of requests: to the minute below 6 hours, to 5 minutes below
/// 2 days, to 30 minutes below 60 days, and one bucket beyond. A percentile is the nearest-rank bucket's
/// lower bound, so it is exact to the minute for waits under 6 hours. Not thread-safe.
/// </summary>
public sealed class DurationHistogram
{
    private const int FineMinutes = 6 * 60;
    private const int MidMinutes = 2 * 24 * 60;
    private const int CoarseMinutes = 60 * 24 * 60;
    private const int MidStep = 5;
    private const int CoarseStep = 30;
    private const int FineBuckets = FineMinutes;
    private const int MidBuckets = (MidMinutes - FineMinutes) / MidStep;
    private const int CoarseBuckets = (CoarseMinutes - MidMinutes) / CoarseStep;
    private const int Buckets = FineBuckets + MidBuckets + CoarseBuckets + 1;

    private readonly int[] _counts = new int[Buckets];

    public long Count { get; private set; }

    public double SumHours { get; private set; }

    public void Add(TimeSpan value)
    {
        var minutes = value <= TimeSpan.Zero ? 0 : (long)value.TotalMinutes;
        _counts[Bucket(minutes)]++;
        Count++;
        SumHours += value.TotalHours;
    }

    public void Add(DurationHistogram other)
    {
        for (var i = 0; i < Buckets; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        SumHours += other.SumHours;
    }

    /// <summary>The nearest-rank percentile (0 &lt; p ≤ 1) in hours, or NaN when empty.</summary>
    public double PercentileHours(double p)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(p * Count));
        long seen = 0;
        for (var i = 0; i < Buckets; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return LowerBoundMinutes(i) / 60.0;
            }
        }

        return LowerBoundMinutes(Buckets - 1) / 60.0;
    }

    public double MeanHours => Count == 0 ? double.NaN : SumHours / Count;

    private static int Bucket(long minutes) =>
        minutes < FineMinutes ? (int)minutes
        : minutes < MidMinutes ? FineBuckets + (int)((minutes - FineMinutes) / MidStep)
        : minutes < CoarseMinutes ? FineBuckets + MidBuckets + (int)((minutes - MidMinutes) / CoarseStep)
        : Buckets - 1;

    private static long LowerBoundMinutes(int bucket) =>
        bucket < FineBuckets ? bucket
        : bucket < FineBuckets + MidBuckets ? FineMinutes + ((bucket - FineBuckets) * (long)MidStep)
        : bucket < Buckets - 1 ? MidMinutes + ((bucket - FineBuckets - MidBuckets) * (long)CoarseStep)
        : CoarseMinutes;
}
