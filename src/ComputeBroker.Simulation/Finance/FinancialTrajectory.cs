using ComputeBroker.Domain;

namespace ComputeBroker.Simulation.Finance;

/// <summary>One reported period: what the customer records in the ledger at its end.</summary>
public sealed record QuarterReport(DateTimeOffset Start, DateTimeOffset End, Money Revenue, Money Profit);

/// <summary>A revenue growth rate per year that applies from <see cref="From"/> until the next step.</summary>
public sealed record GrowthStep(DateTimeOffset From, double PerYear);

/// <summary>
/// The customer's quarterly revenue and profit over the horizon. Revenue starts at
/// <see cref="QuarterlyRevenue"/> for a full first quarter and grows by the <see cref="RevenueGrowth"/> steps,
/// compounded continuously within each step (each quarter's revenue uses the growth up to its start); the margin (profit / revenue)
/// moves linearly from <see cref="MarginStart"/> at the horizon's start to <see cref="MarginEnd"/> at
/// <see cref="MarginEndAt"/> and stays there. With <see cref="RevenueNoise"/> each quarter's revenue is
/// multiplied by 1 + noise x N(0, 1) (never below zero), drawn from the run's own generator.
/// Periods are calendar quarters cut to the horizon; a partial quarter gets its share of days.
/// Amounts are rounded to the cent: money stays decimal, only the growth factor is a double.
/// </summary>
public sealed record FinancialTrajectory(
    string Customer,
    Money QuarterlyRevenue,
    IReadOnlyList<GrowthStep> RevenueGrowth,
    double MarginStart,
    double MarginEnd,
    DateTimeOffset MarginEndAt,
    double RevenueNoise = 0)
{
    /// <summary>The quarters of [<paramref name="start"/>, <paramref name="end"/>), in order.</summary>
    public IReadOnlyList<QuarterReport> Quarters(DateTimeOffset start, DateTimeOffset end, Random? noise = null)
    {
        var reports = new List<QuarterReport>();
        var at = start;
        while (at < end)
        {
            var next = QuarterStartAfter(at);
            if (next > end)
            {
                next = end;
            }

            var quarterStart = QuarterStartOnOrBefore(at);
            var fullDays = (QuarterStartAfter(quarterStart) - quarterStart).TotalDays;
            var share = (next - at).TotalDays / fullDays;
            var factor = GrowthFactor(start, at) * share;
            if (noise is not null && RevenueNoise > 0)
            {
                factor *= Math.Max(0, 1 + (RevenueNoise * Demand.Gaussian.Next(noise)));
            }

            var revenue = new Money(QuarterlyRevenue.Amount * (decimal)factor, QuarterlyRevenue.Currency).RoundToCent();
            var middle = at + ((next - at) / 2);
            var profit = new Money(revenue.Amount * (decimal)MarginAt(start, middle), revenue.Currency).RoundToCent();
            reports.Add(new QuarterReport(at, next, revenue, profit));
            at = next;
        }

        return reports;
    }

    /// <summary>How much revenue has grown from <paramref name="start"/> to <paramref name="at"/>: the product of each step's growth over its share of the time.</summary>
    public double GrowthFactor(DateTimeOffset start, DateTimeOffset at)
    {
        var factor = 1.0;
        for (var i = 0; i < RevenueGrowth.Count; i++)
        {
            var from = RevenueGrowth[i].From > start ? RevenueGrowth[i].From : start;
            var until = i + 1 < RevenueGrowth.Count && RevenueGrowth[i + 1].From < at ? RevenueGrowth[i + 1].From : at;
            if (until > from)
            {
                factor *= Math.Pow(1 + RevenueGrowth[i].PerYear, (until - from).TotalDays / Demand.ArrivalProcess.DaysPerYear);
            }
        }

        return factor;
    }

    /// <summary>The margin at <paramref name="at"/>: linear from the start to <see cref="MarginEndAt"/>, constant after.</summary>
    public double MarginAt(DateTimeOffset start, DateTimeOffset at)
    {
        if (MarginEndAt <= start || at >= MarginEndAt)
        {
            return MarginEnd;
        }

        var fraction = Math.Max(0, (at - start).TotalDays / (MarginEndAt - start).TotalDays);
        return MarginStart + ((MarginEnd - MarginStart) * fraction);
    }

    /// <summary>The first day of the calendar quarter after the one holding <paramref name="at"/>, midnight UTC.</summary>
    public static DateTimeOffset QuarterStartAfter(DateTimeOffset at) => QuarterStartOnOrBefore(at).AddMonths(3);

    public static DateTimeOffset QuarterStartOnOrBefore(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return new DateTimeOffset(utc.Year, ((utc.Month - 1) / 3 * 3) + 1, 1, 0, 0, 0, TimeSpan.Zero);
    }
}
