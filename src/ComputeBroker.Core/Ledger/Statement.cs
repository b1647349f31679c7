using System.Globalization;
using System.Text;
using ComputeBroker.Domain;

namespace ComputeBroker.Ledger;

/// <summary>One line of a revenue share statement: one clause, one period.</summary>
public sealed record StatementLine(
    string Payer,
    string Payee,
    AgreementId Agreement,
    ClauseId Clause,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    int DaysInForce,
    Money Basis,
    Money Accrued,
    Money Cumulative,
    Money? CapRemaining);

/// <summary>A payee's revenue share statement over a range of periods, and its CSV form.</summary>
public sealed record Statement(string Payee, DateTimeOffset? From, DateTimeOffset? To, IReadOnlyList<StatementLine> Lines, IReadOnlyDictionary<string, Money> Totals)
{
    /// <summary>
    /// Folds the accruals (adjustments included) into one line per clause and period, for periods that
    /// start within [from, to).
    /// </summary>
    public static Statement For(IEnumerable<ShareAccrued> accruals, string payee, DateTimeOffset? from, DateTimeOffset? to)
    {
        var lines = new List<StatementLine>();
        foreach (var group in accruals.Where(a => a.Payee == payee).GroupBy(a => (a.Agreement, a.Clause, a.PeriodStart)))
        {
            var first = group.First();
            var last = group.Last();
            var accrued = group.Select(a => a.Amount).Aggregate((x, y) => x + y);
            lines.Add(new StatementLine(first.Payer, payee, first.Agreement, first.Clause, first.PeriodStart, first.PeriodEnd, last.DaysInForce, last.Basis, accrued, last.Cumulative, last.CapRemaining));
        }

        var selected = lines
            .Where(l => (from is null || l.PeriodStart >= from) && (to is null || l.PeriodStart < to))
            .OrderBy(l => l.PeriodStart).ThenBy(l => l.Agreement.Value, StringComparer.Ordinal).ThenBy(l => l.Clause.Value, StringComparer.Ordinal)
            .ToArray();
        var totals = selected
            .GroupBy(l => l.Accrued.Currency.Code)
            .ToDictionary(g => g.Key, g => g.Select(l => l.Accrued).Aggregate((x, y) => x + y), StringComparer.Ordinal);
        return new Statement(payee, from, to, selected, totals);
    }

    public string ToCsv()
    {
        var csv = new StringBuilder("payer,payee,agreement,clause,period_start,period_end,days_in_force,basis,accrued,cumulative,cap_remaining,currency\n");
        foreach (var l in Lines)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{l.Payer},{l.Payee},{l.Agreement},{l.Clause},{l.PeriodStart:yyyy-MM-dd},{l.PeriodEnd:yyyy-MM-dd},{l.DaysInForce},")
               .Append(CultureInfo.InvariantCulture, $"{l.Basis.Amount},{l.Accrued.Amount},{l.Cumulative.Amount},{l.CapRemaining?.Amount.ToString(CultureInfo.InvariantCulture) ?? string.Empty},{l.Accrued.Currency}\n");
        }

        return csv.ToString();
    }
}
