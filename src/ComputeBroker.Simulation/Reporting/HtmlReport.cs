using System.Globalization;
using System.Net;
using System.Text;
using ComputeBroker.Simulation.Metrics;
using ComputeBroker.Simulation.Output;

namespace ComputeBroker.Simulation.Reporting;

/// <summary>
/// Builds <c>report.html</c>: one self-contained page (styles inline, charts as base64 PNG) that opens from
/// disk with no network. One scenario: its charts and tables. Several (variants, or A against B): a summary
/// table with a column each (and B − A for two), overlaid charts for the key measures, and each scenario's
/// charts side by side. With several runs every figure is the median across runs and charts draw the
/// p10–p90 band. No timestamps or paths of the machine: the same results give the same bytes.
/// </summary>
public static class HtmlReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Build(IReadOnlyList<SetSummary> sets, OutputLayout layout)
    {
        var html = new StringBuilder(1 << 20);
        var title = sets.Count == 1 ? $"What-if simulation: {sets[0].Name}" : $"What-if comparison: {string.Join(" vs ", sets.Select(s => s.Name))}";
        html.Append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(E(title)).Append("</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
        html.Append("<header>\n<h1>").Append(E(title)).Append("</h1>\n");
        AppendIntro(html, sets);
        html.Append("</header>\n");
        html.Append("<nav><a href=\"#summary\">Summary</a> <a href=\"#capacity\">GPUs placed</a> <a href=\"#holder\">Holder's share</a> <a href=\"#first-refusal\">First refusal</a> <a href=\"#time-to-capacity\">Time to capacity</a> <a href=\"#unfulfilled\">Unfulfilled</a> <a href=\"#money\">Money and trigger</a> <a href=\"#quarters\">Quarters</a> <a href=\"#files\">Data files</a> <a href=\"#method\">How to read</a></nav>\n<main>\n");

        Section(html, "summary", "Summary");
        AppendSummaryTable(html, sets);
        html.Append("</section>\n");

        Section(html, "capacity", "GPUs placed per provider");
        html.Append("<p>GPUs placed each month, by the month the request was submitted, stacked by provider").Append(Multi(sets) ? " (medians across runs)" : string.Empty).Append(".</p>\n");
        Grid(html, sets, s => PlacedChart(s));
        Grid(html, sets, s => ProviderTable(s));
        html.Append("</section>\n");

        Section(html, "holder", "The holder's share");
        html.Append("<p>Share of the GPUs placed each month that went to the first-refusal holder").Append(Multi(sets) ? "; the band spans the 10th to 90th percentile across runs" : string.Empty).Append(".</p>\n");
        Figure(html, HolderChart(sets));
        html.Append("</section>\n");

        Section(html, "first-refusal", "First-refusal outcomes per quarter");
        html.Append("<p>How the holder answered its first-refusal offers, by the quarter the request was submitted: accepted whole, accepted part, declined, or let expire.</p>\n");
        Grid(html, sets, s => FirstRefusalChart(s));
        html.Append("</section>\n");

        Section(html, "time-to-capacity", "Time to capacity");
        html.Append("<p>From submission to the last allocation, for requests that got GPUs, per quarter of submission (p50, p90, p99). ")
            .Append("The dashed line is the delay the response window adds: for requests that went to the first-refusal holder and then on to the market, the time from submission until the holder answered or its offer expired, which is when the market was asked; without first refusal the market would have been asked at submission.</p>\n");
        Grid(html, sets, s => TimeToCapacityChart(s));
        html.Append("</section>\n");

        Section(html, "unfulfilled", "Unfulfilled demand");
        html.Append("<p>GPUs demanded and GPUs left unfulfilled each month, by submission month. Demanded = placed + unfulfilled in every month.</p>\n");
        Grid(html, sets, s => UnfulfilledChart(s));
        html.Append("</section>\n");

        Section(html, "money", "Revenue share, profit and the trigger");
        Grid(html, sets, s => RevenueShareChart(s));
        Grid(html, sets, s => ProfitChart(s));
        Grid(html, sets, s => CommitmentChart(s));
        Grid(html, sets, s => CommitmentTable(s));
        html.Append("</section>\n");

        Section(html, "quarters", "Quarter by quarter");
        Grid(html, sets, s => QuarterTable(s));
        html.Append("</section>\n");

        Section(html, "files", "Data files");
        AppendFiles(html, sets, layout);
        html.Append("</section>\n");

        Section(html, "method", "How to read this report");
        html.Append(Method);
        html.Append("</section>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static bool Multi(IReadOnlyList<SetSummary> sets) => sets.Any(s => s.Runs > 1);

    private static void AppendIntro(StringBuilder html, IReadOnlyList<SetSummary> sets)
    {
        html.Append("<table class=\"meta\">\n");
        foreach (var set in sets)
        {
            var s = set.Scenario;
            var seeds = set.Runs == 1 ? $"seed {set.Set.Runs[0].Seed}" : $"{set.Runs} runs, seeds {set.Set.Runs[0].Seed}–{set.Set.Runs[^1].Seed}";
            html.Append("<tr><th>").Append(E(set.Name)).Append("</th><td>")
                .Append(E(s.Source)).Append("; ")
                .Append(E($"{s.Start:yyyy-MM-dd} to {s.End.AddDays(-1):yyyy-MM-dd}")).Append("; ").Append(E(seeds))
                .Append("; agreements: ").Append(E(string.Join(", ", s.AgreementFiles.Select(Path.GetFileName))))
                .Append(s.ResponseWindow is { } w ? E($"; response window {w.TotalDays.ToString("0.##", Invariant)} days") : string.Empty)
                .Append("</td></tr>\n");
            if (!string.IsNullOrWhiteSpace(s.Description))
            {
                html.Append("<tr><th></th><td class=\"note\">").Append(E(s.Description!)).Append("</td></tr>\n");
            }
        }

        html.Append("</table>\n");
    }

    private static void Section(StringBuilder html, string id, string title) =>
        html.Append("<section id=\"").Append(id).Append("\">\n<h2>").Append(E(title)).Append("</h2>\n");

    private static void Grid(StringBuilder html, IReadOnlyList<SetSummary> sets, Func<SetSummary, object> part)
    {
        html.Append(sets.Count > 1 ? "<div class=\"grid\">\n" : "<div>\n");
        foreach (var set in sets)
        {
            html.Append("<div class=\"cell\">");
            if (sets.Count > 1)
            {
                html.Append("<h3>").Append(E(set.Name)).Append("</h3>");
            }

            switch (part(set))
            {
                case Chart chart:
                    Figure(html, chart);
                    break;
                case string fragment:
                    html.Append(fragment);
                    break;
            }

            html.Append("</div>\n");
        }

        html.Append("</div>\n");
    }

    private static void Figure(StringBuilder html, Chart chart) =>
        html.Append("<figure><img class=\"chart\" width=\"").Append(chart.Width.ToString(Invariant)).Append("\" height=\"").Append(chart.Height.ToString(Invariant))
            .Append("\" alt=\"").Append(E(chart.Alt)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(chart.Png)).Append("\"></figure>\n");

    // ---- summary ----

    private static void AppendSummaryTable(StringBuilder html, IReadOnlyList<SetSummary> sets)
    {
        var two = sets.Count == 2;
        html.Append("<table class=\"summary\">\n<thead><tr><th>measure</th>");
        foreach (var set in sets)
        {
            html.Append("<th>").Append(E(set.Name)).Append(set.Runs > 1 ? "<br><span class=\"note\">median (p10–p90)</span>" : string.Empty).Append("</th>");
        }

        if (two)
        {
            html.Append("<th>difference<br><span class=\"note\">second − first</span></th>");
        }

        html.Append("</tr></thead>\n<tbody>\n");
        void Row(string label, string key, Func<double, string> format, string? unitNote = null)
        {
            html.Append("<tr><th>").Append(E(label)).Append(unitNote is null ? string.Empty : $" <span class=\"note\">{E(unitNote)}</span>").Append("</th>");
            foreach (var set in sets)
            {
                html.Append("<td>").Append(E(BandText(set.Scalar(key), format, set.Runs))).Append("</td>");
            }

            if (two)
            {
                var a = sets[0].Scalar(key).P50;
                var b = sets[1].Scalar(key).P50;
                html.Append("<td>").Append(E(double.IsNaN(a) || double.IsNaN(b) ? "n/a" : Signed(b - a, format))).Append("</td>");
            }

            html.Append("</tr>\n");
        }

        void TextRow(string label, Func<SetSummary, string> text)
        {
            html.Append("<tr><th>").Append(E(label)).Append("</th>");
            foreach (var set in sets)
            {
                html.Append("<td>").Append(E(text(set))).Append("</td>");
            }

            if (two)
            {
                html.Append("<td></td>");
            }

            html.Append("</tr>\n");
        }

        Row("requests submitted", "requests", Count);
        Row("GPUs demanded", "gpus_demanded", Count);
        Row("GPUs placed", "gpus_placed", Count);
        Row("GPUs unfulfilled", "gpus_unfulfilled", Count);
        Row("requests placed whole", "placed", Count);
        Row("requests placed in part", "partially_placed", Count);
        Row("requests unfulfilled", "unfulfilled", Count);
        Row("requests refused at submission", "rejected", Count);
        TextRow("first-refusal holder", s => s.Holder?.Value ?? "none");
        Row("holder's share of GPUs placed", "holder_share", Percent);
        Row("time to capacity p50", "ttc_p50_hours", Hours);
        Row("time to capacity p90", "ttc_p90_hours", Hours);
        Row("time to capacity p99", "ttc_p99_hours", Hours);
        Row("requests offered to the holder first", "fr_requests", Count);
        Row("holder accepted all", "fr_accepted", Count);
        Row("holder accepted part", "fr_partial", Count);
        Row("holder declined", "fr_declined", Count);
        Row("holder's offer expired", "fr_expired", Count);
        Row("requests delayed by the response window", "window_delayed_requests", Count);
        Row("delay the response window adds, p50", "window_delay_p50_hours", Hours);
        Row("delay the response window adds, p90", "window_delay_p90_hours", Hours);
        Row("delay the response window adds, mean", "window_delay_mean_hours", Hours);
        Row("revenue share paid", "revenue_share", Money, "USD");
        Row("cumulative revenue at the end", "cumulative_revenue", Money, "USD");
        Row("cumulative profit at the end", "cumulative_profit", Money, "USD");
        TextRow("profit trigger", TriggerText);
        foreach (var key in sets[0].ScalarKeys.Where(k => k.StartsWith("commitment_", StringComparison.Ordinal)))
        {
            Row($"commitment {key["commitment_".Length..^"_fraction".Length].Replace('_', ':')} reached", key, Percent);
        }

        foreach (var provider in sets[0].Providers)
        {
            Row($"GPUs placed with {provider}", $"gpus_placed_{provider}", Count);
        }

        foreach (var provider in sets[0].Providers)
        {
            Row($"spend with {provider}", $"spend_{provider}", Money, "USD");
        }

        html.Append("</tbody>\n</table>\n");
    }

    private static string TriggerText(SetSummary set)
    {
        if (set.ProfitTrigger is not { } trigger)
        {
            return "no cumulative-profit trigger";
        }

        var threshold = $"{trigger.Clause.Id} at {Money((double)trigger.Clause.Threshold.Amount)} {trigger.Clause.Threshold.Currency}";
        if (set.TriggerFiredRuns == 0)
        {
            return $"{threshold}: does not fire within the horizon{(set.Runs > 1 ? $" (0 of {set.Runs} runs)" : string.Empty)}";
        }

        var at = set.TriggerFiredAt!.EffectiveAt.ToString("yyyy-MM-dd", Invariant);
        return set.Runs == 1
            ? $"{threshold}: fires at {at}, terminating {string.Join(", ", set.TriggerFiredAt.Terminates)}"
            : $"{threshold}: fires in {set.TriggerFiredRuns} of {set.Runs} runs, median {at}, terminating {string.Join(", ", set.TriggerFiredAt.Terminates)}";
    }

    private static string BandText(Band band, Func<double, string> format, int runs) =>
        double.IsNaN(band.P50) ? "n/a"
        : runs == 1 || (band.P10 == band.P90) ? format(band.P50)
        : $"{format(band.P50)} ({format(band.P10)}–{format(band.P90)})";

    private static string Signed(double value, Func<double, string> format) => value > 0 ? "+" + format(value) : value < 0 ? "−" + format(-value) : "0";

    private static string Count(double v) => v.ToString("#,0", Invariant);

    private static string Percent(double v) => (v * 100).ToString("0.0", Invariant) + "%";

    private static string Hours(double v) => v >= 48 ? $"{(v / 24).ToString("0.0", Invariant)} d" : $"{v.ToString("0.0", Invariant)} h";

    private static string Money(double v) =>
        Math.Abs(v) >= 1e9 ? $"{(v / 1e9).ToString("#,0.0", Invariant)}B"
        : Math.Abs(v) >= 1e6 ? $"{(v / 1e6).ToString("#,0.0", Invariant)}M"
        : v.ToString("#,0", Invariant);

    // ---- charts ----

    private static double[] MonthXs(SetSummary s) => Enumerable.Range(0, s.Axis.Months).Select(s.Axis.MonthX).ToArray();

    private static double[] QuarterXs(SetSummary s) => Enumerable.Range(0, s.Axis.Quarters).Select(i => s.Axis.QuarterX(i) + 45).ToArray();

    private static (double Divisor, string Unit) GpuScale(double max) =>
        max >= 2e6 ? (1e6, "million GPUs") : max >= 2e3 ? (1e3, "thousand GPUs") : (1, "GPUs");

    private static (double Divisor, string Unit) MoneyScale(double max, string currency) =>
        max >= 2e9 ? (1e9, $"billion {currency}") : max >= 2e6 ? (1e6, $"million {currency}") : (1, currency);

    private static double[] Scale(double[] values, double divisor) => values.Select(v => v / divisor).ToArray();

    private static double MaxOf(params double[][] values) => values.SelectMany(v => v).Where(v => !double.IsNaN(v)).DefaultIfEmpty(0).Max(Math.Abs);

    private static Chart PlacedChart(SetSummary s)
    {
        var layers = s.Providers.Select(p => (p.Value, s.Monthly($"placed_{p}").P50)).ToArray();
        var totals = new double[s.Axis.Months];
        foreach (var (_, values) in layers)
        {
            for (var i = 0; i < totals.Length; i++)
            {
                totals[i] += double.IsNaN(values[i]) ? 0 : values[i];
            }
        }

        var (divisor, unit) = GpuScale(MaxOf(totals));
        return Charts.StackedArea("GPUs placed per provider, per month", unit, MonthXs(s), layers.Select(l => (l.Value, Scale(l.P50, divisor))).ToArray());
    }

    private static Chart HolderChart(IReadOnlyList<SetSummary> sets)
    {
        var s0 = sets[0];
        var lines = sets.Select(s =>
        {
            var band = s.Monthly("holder_share");
            return new ChartLine($"{s.Name}{(s.Holder is { } h ? $" ({h})" : string.Empty)}", Scale(band.P50, 0.01), s.Runs > 1 ? Scale(band.P10, 0.01) : null, s.Runs > 1 ? Scale(band.P90, 0.01) : null);
        }).ToArray();
        return Charts.Lines("Holder's share of GPUs placed, per month", "% of GPUs placed", MonthXs(s0), lines);
    }

    private static Chart FirstRefusalChart(SetSummary s)
    {
        var layers = new (string, double[])[]
        {
            ("accepted", s.Quarterly("fr_accepted").P50),
            ("accepted part", s.Quarterly("fr_partial").P50),
            ("declined", s.Quarterly("fr_declined").P50),
            ("expired", s.Quarterly("fr_expired").P50),
        };
        return Charts.StackedBars("First-refusal offers per quarter, by answer", "requests", QuarterXs(s), layers, 70);
    }

    private static Chart TimeToCapacityChart(SetSummary s)
    {
        var p50 = s.Quarterly("ttc_p50_hours");
        var p90 = s.Quarterly("ttc_p90_hours");
        var p99 = s.Quarterly("ttc_p99_hours");
        var delay = s.Quarterly("window_delay_p50_hours");
        var days = MaxOf(p99.P50, p90.P90) >= 72;
        var d = days ? 24.0 : 1.0;
        var multi = s.Runs > 1;
        var lines = new List<ChartLine>
        {
            new("p50", Scale(p50.P50, d), multi ? Scale(p50.P10, d) : null, multi ? Scale(p50.P90, d) : null),
            new("p90", Scale(p90.P50, d), multi ? Scale(p90.P10, d) : null, multi ? Scale(p90.P90, d) : null),
            new("p99", Scale(p99.P50, d)),
            new("window delay p50", Scale(delay.P50, d), Dashed: true),
        };
        return Charts.Lines("Time to capacity per quarter of submission", days ? "days" : "hours", QuarterXs(s), lines);
    }

    private static Chart UnfulfilledChart(SetSummary s)
    {
        var demanded = s.Monthly("gpus_demanded");
        var unfulfilled = s.Monthly("gpus_unfulfilled");
        var (divisor, unit) = GpuScale(MaxOf(demanded.P90, demanded.P50));
        var multi = s.Runs > 1;
        return Charts.Lines("GPUs demanded and unfulfilled, per month", unit, MonthXs(s),
        [
            new("demanded", Scale(demanded.P50, divisor), multi ? Scale(demanded.P10, divisor) : null, multi ? Scale(demanded.P90, divisor) : null),
            new("unfulfilled", Scale(unfulfilled.P50, divisor), multi ? Scale(unfulfilled.P10, divisor) : null, multi ? Scale(unfulfilled.P90, divisor) : null),
        ]);
    }

    private static Chart RevenueShareChart(SetSummary s)
    {
        var share = s.Quarterly("revenue_share");
        var cumulative = s.Quarterly("cumulative_revenue_share");
        var currency = share.Unit;
        var (divisor, unit) = MoneyScale(MaxOf(cumulative.P50, cumulative.P90), currency);
        var multi = s.Runs > 1;
        return Charts.Lines("Revenue share paid per quarter, and cumulative", unit, QuarterXs(s),
        [
            new("paid in the quarter", Scale(share.P50, divisor), multi ? Scale(share.P10, divisor) : null, multi ? Scale(share.P90, divisor) : null),
            new("cumulative", Scale(cumulative.P50, divisor), multi ? Scale(cumulative.P10, divisor) : null, multi ? Scale(cumulative.P90, divisor) : null),
        ]);
    }

    private static Chart ProfitChart(SetSummary s)
    {
        var profit = s.Quarterly("cumulative_profit");
        var currency = profit.Unit;
        var threshold = s.ProfitTrigger is { } t ? (double)t.Clause.Threshold.Amount : double.NaN;
        var (divisor, unit) = MoneyScale(Math.Max(MaxOf(profit.P50, profit.P90), double.IsNaN(threshold) ? 0 : threshold), currency);
        var multi = s.Runs > 1;
        var horizontal = double.IsNaN(threshold) ? [] : new[] { ($"trigger threshold ({s.ProfitTrigger!.Value.Clause.Id})", threshold / divisor) };
        var vertical = s.TriggerFiredAt is { } fired
            ? new[] { ($"fires {fired.EffectiveAt:yyyy-MM-dd}{(s.Runs > 1 ? " (median)" : string.Empty)}", fired.EffectiveAt.UtcDateTime.ToOADate()) }
            : [];
        return Charts.Lines("Cumulative profit against the trigger threshold", unit, QuarterXs(s),
            [new("cumulative profit", Scale(profit.P50, divisor), multi ? Scale(profit.P10, divisor) : null, multi ? Scale(profit.P90, divisor) : null)],
            horizontal, vertical, fromZero: false);
    }

    private static object CommitmentChart(SetSummary s)
    {
        var commitments = s.Set.Runs[0].Commitments;
        if (commitments.Count == 0)
        {
            return "<p class=\"note\">No spend commitment in the agreements.</p>";
        }

        var lines = new List<ChartLine>();
        var horizontal = new List<(string, double)>();
        var max = 0.0;
        foreach (var c in commitments)
        {
            max = Math.Max(max, Math.Max((double)c.Amount.Amount, MaxOf(s.Monthly(c.Key).P90)));
        }

        var (divisor, unit) = MoneyScale(max, commitments[0].Amount.Currency.Code);
        foreach (var c in commitments)
        {
            var band = s.Monthly(c.Key);
            lines.Add(new ChartLine($"spend with {c.Provider} toward {c.Clause}", Scale(band.P50, divisor), s.Runs > 1 ? Scale(band.P10, divisor) : null, s.Runs > 1 ? Scale(band.P90, divisor) : null));
            horizontal.Add(($"{c.Clause}: {Money((double)c.Amount.Amount)} by {c.Deadline:yyyy-MM-dd}", (double)c.Amount.Amount / divisor));
        }

        return Charts.Lines("Commitment progress: cumulative spend", unit, MonthXs(s), lines, horizontal);
    }

    // ---- tables ----

    private static string ProviderTable(SetSummary s)
    {
        var html = new StringBuilder("<table>\n<thead><tr><th>provider</th><th>GPUs placed</th><th>share</th><th>spend</th></tr></thead>\n<tbody>\n");
        var total = s.Scalar("gpus_placed").P50;
        foreach (var provider in s.Providers)
        {
            var gpus = s.Scalar($"gpus_placed_{provider}").P50;
            html.Append("<tr><td>").Append(E(provider.Value)).Append(provider == s.Holder ? " <span class=\"note\">(holder)</span>" : string.Empty).Append("</td><td>")
                .Append(E(Count(gpus))).Append("</td><td>").Append(E(total > 0 ? Percent(gpus / total) : "n/a")).Append("</td><td>")
                .Append(E(Money(s.Scalar($"spend_{provider}").P50))).Append("</td></tr>\n");
        }

        return html.Append("</tbody>\n</table>\n").ToString();
    }

    private static string CommitmentTable(SetSummary s)
    {
        var commitments = s.Set.Runs[0].Commitments;
        if (commitments.Count == 0)
        {
            return string.Empty;
        }

        var html = new StringBuilder("<table>\n<thead><tr><th>commitment</th><th>provider</th><th>amount</th><th>counted from</th><th>deadline</th><th>spent by the end</th><th>reached</th></tr></thead>\n<tbody>\n");
        foreach (var c in commitments)
        {
            var spent = s.Scalar($"{c.Key}_fraction");
            html.Append("<tr><td>").Append(E($"{c.Agreement}:{c.Clause}")).Append("</td><td>").Append(E(c.Provider.Value)).Append("</td><td>")
                .Append(E($"{Money((double)c.Amount.Amount)} {c.Amount.Currency}")).Append("</td><td>").Append(E(c.Start.ToString("yyyy-MM-dd", Invariant)))
                .Append("</td><td>").Append(E(c.Deadline.ToString("yyyy-MM-dd", Invariant))).Append("</td><td>")
                .Append(E(Money(spent.P50 * (double)c.Amount.Amount))).Append("</td><td>").Append(E(BandText(spent, Percent, s.Runs))).Append("</td></tr>\n");
        }

        return html.Append("</tbody>\n</table>\n").ToString();
    }

    private static string QuarterTable(SetSummary s)
    {
        var html = new StringBuilder("<table class=\"quarters\">\n<thead><tr><th>quarter</th><th>accepted</th><th>part</th><th>declined</th><th>expired</th><th>TTC p50</th><th>TTC p90</th><th>TTC p99</th><th>window delay p50</th><th>revenue</th><th>profit</th><th>cumulative profit</th><th>revenue share</th></tr></thead>\n<tbody>\n");
        var keys = new (string Key, Func<double, string> Format)[]
        {
            ("fr_accepted", Count), ("fr_partial", Count), ("fr_declined", Count), ("fr_expired", Count),
            ("ttc_p50_hours", Hours), ("ttc_p90_hours", Hours), ("ttc_p99_hours", Hours), ("window_delay_p50_hours", Hours),
            ("revenue", Money), ("profit", Money), ("cumulative_profit", Money), ("revenue_share", Money),
        };
        for (var q = 0; q < s.Axis.Quarters; q++)
        {
            html.Append("<tr><td>").Append(E(s.Axis.QuarterLabel(q))).Append("</td>");
            foreach (var (key, format) in keys)
            {
                var value = s.Quarterly(key).P50[q];
                html.Append("<td>").Append(E(double.IsNaN(value) ? "–" : format(value))).Append("</td>");
            }

            html.Append("</tr>\n");
        }

        return html.Append("</tbody>\n</table>\n").ToString();
    }

    private static void AppendFiles(StringBuilder html, IReadOnlyList<SetSummary> sets, OutputLayout layout)
    {
        html.Append("<p>Beside this page (links are relative, so the folder can be moved). <code>summary.json</code> holds the summary table's figures.</p>\n<ul>\n");
        for (var i = 0; i < sets.Count; i++)
        {
            var folder = layout.Folder(i);
            html.Append("<li>").Append(sets.Count > 1 ? E(sets[i].Name) + ": " : string.Empty);
            foreach (var (file, what) in new[] { ("monthly.csv", "monthly series"), ("quarterly.csv", "quarterly series"), ("runs.csv", "one row per run") })
            {
                html.Append("<a href=\"").Append(E(folder + file)).Append("\">").Append(E(file)).Append("</a> (").Append(what).Append("), ");
            }

            var requestFiles = sets[i].Set.Runs.Select((r, n) => layout.RequestsFile(n, r.Seed)).Where(f => f is not null).ToArray();
            if (requestFiles.Length == 0)
            {
                html.Append("no request rows written");
            }
            else if (requestFiles.Length == 1)
            {
                html.Append("<a href=\"").Append(E(folder + requestFiles[0])).Append("\">").Append(E(requestFiles[0]!)).Append("</a> (every request's outcome)");
            }
            else
            {
                html.Append("every request's outcome per run: <a href=\"").Append(E(folder + requestFiles[0])).Append("\">").Append(E(requestFiles[0]!)).Append("</a> … ")
                    .Append(E(requestFiles[^1]!));
            }

            html.Append("</li>\n");
        }

        html.Append("</ul>\n");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Style = """
        body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
        header, main, nav { max-width: 1840px; margin: 0 auto; padding: 0 24px; }
        header { padding-top: 16px; }
        h1 { font-size: 1.6em; margin: 0.4em 0; }
        h2 { font-size: 1.3em; border-bottom: 2px solid #1f77b4; padding-bottom: 4px; margin-top: 1.6em; }
        h3 { font-size: 1.05em; margin: 0.4em 0; }
        nav { position: sticky; top: 0; background: #fafafa; padding-top: 8px; padding-bottom: 8px; border-bottom: 1px solid #ddd; }
        nav a { margin-right: 14px; color: #1f77b4; text-decoration: none; }
        table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9em; background: white; }
        th, td { border: 1px solid #d8d8d8; padding: 4px 8px; text-align: right; vertical-align: top; }
        th:first-child, td:first-child { text-align: left; }
        thead th { background: #eef3f8; }
        table.meta th, table.meta td { text-align: left; border: none; padding: 2px 8px 2px 0; background: transparent; }
        .note { color: #666; font-weight: normal; font-size: 0.9em; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(760px, 1fr)); gap: 16px; }
        figure { margin: 8px 0; }
        img.chart { max-width: 100%; height: auto; border: 1px solid #e2e2e2; background: white; }
        code { background: #eee; padding: 1px 4px; }
        """;

    private const string Method = """
        <ul>
        <li><b>One engine.</b> Every request is decided by the same sourcing engine as the service, on a virtual clock, against simulated providers that answer from their capacity over time. Each agreement version governs the requests submitted while it is in force.</li>
        <li><b>Buckets.</b> Request counts, GPUs, outcomes and waits are counted in the month or quarter the request was <i>submitted</i>, so that GPUs demanded = placed + unfulfilled holds in every bucket. Spend is counted when the allocation is made; money per reported quarter.</li>
        <li><b>Time to capacity</b> runs from submission to the request's last allocation, for requests that got GPUs. Percentiles are nearest-rank, to the minute below 6 hours, to 5 minutes below 2 days, to 30 minutes beyond.</li>
        <li><b>The delay the response window adds</b> is measured inside each run: for a request offered to the first-refusal holder that then went to the market (the holder declined, accepted part, or let the offer expire), the time from submission to the holder's answer or the offer's expiry, the instant the market was asked. Without first refusal the market would have been asked at submission. Comparing a short and a long window (a variants block) shows the whole effect, including what the holder takes.</li>
        <li><b>Unfulfilled</b> GPUs are those no provider placed by the request's needed-by instant, plus requests refused at submission.</li>
        <li><b>Money.</b> The customer's quarterly revenue and profit are recorded in the ledger at each quarter's end: revenue share accrues per clause in force, and a trigger whose metric reaches its threshold fires at the end of that quarter, terminating its clauses from then on (requests submitted later are decided without them).</li>
        <li><b>Several runs.</b> Run <i>i</i> uses seed <i>base + i</i>; each figure is the median across runs and bands span the 10th to 90th percentile. Stacked charts stack the medians. Two variants run with one seed see the same demand, so differences come from the terms.</li>
        <li><b>Determinism.</b> The same scenario and seeds give the same files, byte for byte.</li>
        </ul>
        """;
}
