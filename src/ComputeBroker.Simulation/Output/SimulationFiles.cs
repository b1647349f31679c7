using System.Text;
using System.Text.Json;
using ComputeBroker.Simulation.Metrics;

namespace ComputeBroker.Simulation.Output;

/// <summary>
/// Writes the summary files of a simulation: per scenario <c>monthly.csv</c>, <c>quarterly.csv</c> and
/// <c>runs.csv</c>, and <c>summary.json</c> at the top. With one run a series column is the run's value;
/// with several, each series has <c>_p10</c>, <c>_p50</c> (median) and <c>_p90</c> columns.
/// Invariant culture, <c>\n</c> line ends, no timestamps: the same results give the same bytes.
/// </summary>
public static class SimulationFiles
{
    private static readonly UTF8Encoding Utf8 = new(false);

    public static void WriteSeries(string directory, SetSummary set)
    {
        File.WriteAllText(Path.Combine(directory, "monthly.csv"), SeriesCsv(set, monthly: true), Utf8);
        File.WriteAllText(Path.Combine(directory, "quarterly.csv"), SeriesCsv(set, monthly: false), Utf8);
        File.WriteAllText(Path.Combine(directory, "runs.csv"), RunsCsv(set), Utf8);
    }

    public static string SeriesCsv(SetSummary set, bool monthly)
    {
        var axis = set.Axis;
        var keys = monthly ? set.MonthlyKeys : set.QuarterlyKeys;
        var bands = keys.Select(k => monthly ? set.Monthly(k) : set.Quarterly(k)).ToArray();
        var writer = new StringWriter { NewLine = "\n" };
        var line = new CsvLine(writer);
        line.Text(monthly ? "month" : "quarter");
        foreach (var key in keys)
        {
            if (set.Runs == 1)
            {
                line.Text(key);
            }
            else
            {
                line.Text(key + "_p10").Text(key + "_p50").Text(key + "_p90");
            }
        }

        line.End();
        var count = monthly ? axis.Months : axis.Quarters;
        for (var i = 0; i < count; i++)
        {
            line.Text(monthly ? axis.MonthLabel(i) : axis.QuarterLabel(i));
            foreach (var band in bands)
            {
                var decimals = band.Unit is "share" ? 4 : band.Unit is "hours" ? 2 : band.Unit.Length == 3 ? 2 : 1;
                if (set.Runs == 1)
                {
                    line.Number(band.P50[i], decimals);
                }
                else
                {
                    line.Number(band.P10[i], decimals).Number(band.P50[i], decimals).Number(band.P90[i], decimals);
                }
            }

            line.End();
        }

        return writer.ToString();
    }

    public static string RunsCsv(SetSummary set)
    {
        var writer = new StringWriter { NewLine = "\n" };
        var line = new CsvLine(writer);
        line.Text("run").Text("seed");
        foreach (var key in set.ScalarKeys)
        {
            line.Text(key);
        }

        line.End();
        for (var r = 0; r < set.Set.Runs.Count; r++)
        {
            var run = set.Set.Runs[r];
            line.Number(r + 1).Number(run.Seed);
            foreach (var (_, value) in run.Scalars())
            {
                line.Number(value, 4);
            }

            line.End();
        }

        return writer.ToString();
    }

    /// <summary>The machine-readable summary: the same figures as the report's summary table (what <c>--json</c> prints).</summary>
    public static string SummaryJson(IReadOnlyList<SetSummary> sets)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("scenarios");
            foreach (var set in sets)
            {
                json.WriteStartObject();
                json.WriteString("name", set.Name);
                json.WriteString("source", set.Scenario.Source);
                json.WriteString("horizon-start", set.Axis.Start.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteString("horizon-end", set.Axis.End.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteNumber("runs", set.Runs);
                json.WriteStartArray("seeds");
                foreach (var run in set.Set.Runs)
                {
                    json.WriteNumberValue(run.Seed);
                }

                json.WriteEndArray();
                if (set.Holder is { } holder)
                {
                    json.WriteString("holder", holder.Value);
                }

                json.WriteStartObject("results");
                foreach (var key in set.ScalarKeys)
                {
                    var band = set.Scalar(key);
                    json.WriteStartObject(key);
                    Number(json, "p10", band.P10);
                    Number(json, "median", band.P50);
                    Number(json, "p90", band.P90);
                    json.WriteEndObject();
                }

                json.WriteEndObject();
                json.WriteStartObject("profit-trigger");
                if (set.ProfitTrigger is { } trigger)
                {
                    json.WriteString("agreement", trigger.Agreement.Value);
                    json.WriteString("clause", trigger.Clause.Id.Value);
                    json.WriteString("threshold", trigger.Clause.Threshold.ToString());
                }

                json.WriteNumber("fired-in-runs", set.TriggerFiredRuns);
                if (set.TriggerFiredAt is { } fired)
                {
                    json.WriteString("median-fired-at", fired.EffectiveAt.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
                }

                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    private static void Number(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteNumber(name, Math.Round(value, 6));
        }
    }
}
