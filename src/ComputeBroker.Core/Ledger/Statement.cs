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
    /// start within [from, to). A line's cumulative and cap remaining are the clause's running totals
    /// through that period, in period order, whenever its accruals (and corrections) were made.
    /// </summary>
    public static Statement For(IEnumerable<ShareAccrued> accruals, string payee, DateTimeOffset? from, DateTimeOffset? to)
    {
        var lines = new List<StatementLine>();
        foreach (var clause in accruals.Where(a => a.Payee == payee).GroupBy(a => (a.Agreement, a.Clause)))
        {
            Money? running = null;
            foreach (var group in clause.GroupBy(a => a.PeriodStart).OrderBy(g => g.Key))
            {
                var first = group.First();
                var last = group.Last();
                var accrued = group.Select(a => a.Amount).Aggregate((x, y) => x + y);
                var cumulative = running is { } r ? r + accrued : accrued;
                running = cumulative;

                // When the last accrual was made the cap was its cap remaining plus its cumulative.
                Money? capRemaining = last.CapRemaining is { } left ? left + last.Cumulative - cumulative : null;
                lines.Add(new StatementLine(first.Payer, payee, first.Agreement, first.Clause, first.PeriodStart, first.PeriodEnd, last.DaysInForce, last.Basis, accrued, cumulative, capRemaining));
            }
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
               .Append(CultureInfo.InvariantCulture, $"{Amount(l.Basis)},{Amount(l.Accrued)},{Amount(l.Cumulative)},{(l.CapRemaining is { } cap ? Amount(cap) : string.Empty)},{l.Accrued.Currency}\n");
        }

        return csv.ToString();
    }

    /// <summary>An amount with at least two decimals, however it was computed (0.00, not 0), as <see cref="Money.ToString"/> writes it.</summary>
    private static string Amount(Money money) => money.Amount.ToString("0.00##########", CultureInfo.InvariantCulture);
}
