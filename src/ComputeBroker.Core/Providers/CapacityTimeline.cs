namespace ComputeBroker.Providers;

/// <summary>
/// Free GPUs of one accelerator in one region, hour by hour, over a fixed horizon: a segment tree
/// with lazy range-add and range-min, so "how many GPUs are free over [start, end)" and "reserve n
/// GPUs over [start, end)" both cost O(log hours) however many reservations exist. Hours outside the
/// horizon have no capacity. Not thread-safe.
/// </summary>
public sealed class CapacityTimeline
{
    private readonly int _size;
    private readonly int[] _min;
    private readonly int[] _lazy;

    public CapacityTimeline(DateTimeOffset origin, int hours, Func<DateTimeOffset, long> capacityAt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hours, 1);
        Origin = origin;
        Hours = hours;
        _size = 1;
        while (_size < hours)
        {
            _size <<= 1;
        }

        _min = new int[2 * _size];
        _lazy = new int[2 * _size];
        for (var h = 0; h < _size; h++)
        {
            _min[_size + h] = h < hours ? (int)Math.Clamp(capacityAt(origin.AddHours(h)), 0, int.MaxValue) : 0;
        }

        for (var i = _size - 1; i >= 1; i--)
        {
            _min[i] = Math.Min(_min[2 * i], _min[2 * i + 1]);
        }
    }

    public DateTimeOffset Origin { get; }

    public int Hours { get; }

    /// <summary>The fewest free GPUs at any hour of [start, start + hours); zero if any of it lies outside the horizon.</summary>
    public int Free(DateTimeOffset start, int hours)
    {
        var (from, to) = Slots(start, hours);
        return InHorizon(from, to) ? Query(from, to) : 0;
    }

    /// <summary>Takes <paramref name="gpus"/> GPUs over the interval if that many are free at every hour.</summary>
    public bool TryReserve(DateTimeOffset start, int hours, int gpus)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gpus);
        if (Free(start, hours) < gpus)
        {
            return false;
        }

        // Zero GPUs "fit" anywhere, even outside the horizon; only an interval inside it is touched
        // (the tree recurses forever on a range outside [0, size)).
        var (from, to) = Slots(start, hours);
        if (InHorizon(from, to))
        {
            Add(1, 0, _size, from, to, -gpus);
        }

        return true;
    }

    /// <summary>Gives back GPUs taken by <see cref="TryReserve"/>.</summary>
    public void Release(DateTimeOffset start, int hours, int gpus)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gpus);
        var (from, to) = Slots(start, hours);
        if (InHorizon(from, to))
        {
            Add(1, 0, _size, from, to, gpus);
        }
    }

    private bool InHorizon(int from, int to) => from >= 0 && to <= Hours && from < to;

    private (int From, int To) Slots(DateTimeOffset start, int hours)
    {
        // A reservation covers every hour it touches: 10:30 for two hours runs until 12:30, so it
        // occupies the 10:00, 11:00 and 12:00 slots (from + hours would leave 12:00-12:30 free to promise twice).
        var from = (int)Math.Floor((start - Origin).TotalHours);
        var to = hours <= 0 ? from : (int)Math.Ceiling((start.AddHours(hours) - Origin).TotalHours);
        return (from, to);
    }

    /// <summary>
    /// The minimum over leaves [from, to): the same sum of ancestors' pending adds plus covered nodes' minima as a
    /// recursive walk, but iterative: down to the node where the range splits, then along its two boundary paths.
    /// It runs for every offer, quote and reservation, several pools each, so it avoids the calls.
    /// </summary>
    private int Query(int from, int to)
    {
        var node = 1;
        var lo = 0;
        var hi = _size;
        var pending = 0;
        int mid;
        while (true)
        {
            if (from <= lo && hi <= to)
            {
                return pending + _min[node];
            }

            pending += _lazy[node];
            mid = (lo + hi) >> 1;
            if (to <= mid)
            {
                node <<= 1;
                hi = mid;
            }
            else if (from >= mid)
            {
                node = (node << 1) + 1;
                lo = mid;
            }
            else
            {
                break;
            }
        }

        var best = int.MaxValue;

        // [from, mid) is a suffix of the left child [lo, mid).
        var n = node << 1;
        var l = lo;
        var h = mid;
        var sum = pending;
        while (from > l)
        {
            sum += _lazy[n];
            var m = (l + h) >> 1;
            if (from < m)
            {
                best = Math.Min(best, sum + _min[(n << 1) + 1]);
                n <<= 1;
                h = m;
            }
            else
            {
                n = (n << 1) + 1;
                l = m;
            }
        }

        best = Math.Min(best, sum + _min[n]);

        // [mid, to) is a prefix of the right child [mid, hi).
        n = (node << 1) + 1;
        l = mid;
        h = hi;
        sum = pending;
        while (h > to)
        {
            sum += _lazy[n];
            var m = (l + h) >> 1;
            if (to > m)
            {
                best = Math.Min(best, sum + _min[n << 1]);
                n = (n << 1) + 1;
                l = m;
            }
            else
            {
                n <<= 1;
                h = m;
            }
        }

        return Math.Min(best, sum + _min[n]);
    }

    private void Add(int node, int lo, int hi, int from, int to, int delta)
    {
        if (from <= lo && hi <= to)
        {
            _min[node] += delta;
            _lazy[node] += delta;
            return;
        }

        var mid = (lo + hi) / 2;
        if (from < mid)
        {
            Add(2 * node, lo, mid, from, to, delta);
        }

        if (to > mid)
        {
            Add(2 * node + 1, mid, hi, from, to, delta);
        }

        _min[node] = Math.Min(_min[2 * node], _min[2 * node + 1]) + _lazy[node];
    }
}
