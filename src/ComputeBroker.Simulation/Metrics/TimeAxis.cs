using System.Globalization;

namespace ComputeBroker.Simulation.Metrics;

/// <summary>
/// The calendar months and quarters of a horizon, as indexes for time series. The first bucket is the
/// month (quarter) holding the horizon's start; instants outside the horizon fall in the first or last bucket.
/// Immutable.
/// </summary>
public sealed class TimeAxis
{
    private readonly int _firstMonth;

    public TimeAxis(DateTimeOffset start, DateTimeOffset end)
    {
        if (end <= start)
        {
            throw new ArgumentException($"The horizon's end {end:O} must be after its start {start:O}.", nameof(end));
        }

        Start = start;
        End = end;
        var s = start.UtcDateTime;
        var e = end.AddTicks(-1).UtcDateTime;
        _firstMonth = (s.Year * 12) + s.Month - 1;
        Months = (e.Year * 12) + e.Month - 1 - _firstMonth + 1;
        var firstQuarter = (s.Year * 4) + ((s.Month - 1) / 3);
        Quarters = (e.Year * 4) + ((e.Month - 1) / 3) - firstQuarter + 1;
    }

    public DateTimeOffset Start { get; }

    public DateTimeOffset End { get; }

    public int Months { get; }

    public int Quarters { get; }

    public int MonthOf(DateTimeOffset at)
    {
        var u = at.UtcDateTime;
        return Math.Clamp((u.Year * 12) + u.Month - 1 - _firstMonth, 0, Months - 1);
    }

    public int QuarterOf(DateTimeOffset at) => Math.Clamp((MonthOf(at) + (FirstMonthInQuarter)) / 3, 0, Quarters - 1);

    /// <summary>The first instant of month <paramref name="index"/> (midnight UTC on the 1st; the horizon's start for the first).</summary>
    public DateTimeOffset MonthStart(int index) => index == 0 ? Start : MonthOrigin.AddMonths(index);

    public DateTimeOffset QuarterStart(int index) => index == 0 ? Start : MonthOrigin.AddMonths((index * 3) - FirstMonthInQuarter);

    public string MonthLabel(int index) => MonthOrigin.AddMonths(index).ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public string QuarterLabel(int index)
    {
        var at = MonthOrigin.AddMonths((index * 3) - FirstMonthInQuarter);
        return string.Create(CultureInfo.InvariantCulture, $"{at.Year}-Q{((at.Month - 1) / 3) + 1}");
    }

    /// <summary>Months as fractional years since 0001 for chart x axes: month m plotted at its start.</summary>
    public double MonthX(int index) => MonthOrigin.AddMonths(index).DateTime.ToOADate();

    public double QuarterX(int index) => MonthOrigin.AddMonths((index * 3) - FirstMonthInQuarter).DateTime.ToOADate();

    private int FirstMonthInQuarter => (_firstMonth % 12) % 3;

    private DateTimeOffset MonthOrigin => new(_firstMonth / 12, (_firstMonth % 12) + 1, 1, 0, 0, 0, TimeSpan.Zero);
}
