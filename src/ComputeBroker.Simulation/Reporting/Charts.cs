using ScottPlot;

namespace ComputeBroker.Simulation.Reporting;

/// <summary>One line of a chart: its values, and optionally a p10–p90 band drawn under it.</summary>
public sealed record ChartLine(string Label, double[] Values, double[]? Low = null, double[]? High = null, bool Dashed = false);

/// <summary>A rendered chart: PNG bytes and the text that describes it.</summary>
public sealed record Chart(string Title, string Alt, byte[] Png, int Width, int Height);

/// <summary>
/// Renders the report's charts with ScottPlot as PNG (deterministic bytes for the same data, unlike its
/// SVG output, whose clip-path ids come from a process-wide counter). Dates on x axes are OLE automation
/// dates. NaN values are gaps. Stateless and thread-safe: each call builds its own plot.
/// </summary>
public static class Charts
{
    public const int Width = 880;
    public const int Height = 340;

    private static readonly Color[] Palette =
    [
        Color.FromHex("#1f77b4"), Color.FromHex("#ff7f0e"), Color.FromHex("#2ca02c"), Color.FromHex("#d62728"),
        Color.FromHex("#9467bd"), Color.FromHex("#8c564b"), Color.FromHex("#e377c2"), Color.FromHex("#7f7f7f"),
    ];

    public static Color ColorOf(int index) => Palette[index % Palette.Length];

    /// <summary>Layers stacked on top of each other (e.g. GPUs placed per provider per month).</summary>
    public static Chart StackedArea(string title, string yLabel, double[] xs, IReadOnlyList<(string Label, double[] Values)> layers)
    {
        var plot = NewPlot(title, yLabel);
        var below = new double[xs.Length];
        for (var l = 0; l < layers.Count; l++)
        {
            var above = new double[xs.Length];
            for (var i = 0; i < xs.Length; i++)
            {
                above[i] = below[i] + Clean(layers[l].Values[i]);
            }

            var fill = plot.Add.FillY(xs, below, above);
            fill.FillColor = ColorOf(l).WithAlpha(0.75);
            fill.LineColor = ColorOf(l);
            fill.LegendText = layers[l].Label;
            below = above;
        }

        plot.Axes.SetLimitsY(0, Max(below) * 1.08 + 1e-9);
        return Finish(plot, title, $"{title}: stacked areas for {string.Join(", ", layers.Select(l => l.Label))}");
    }

    /// <summary>Bars stacked per x (e.g. first-refusal outcomes per quarter). <paramref name="barWidth"/> is in x units (days for dates).</summary>
    public static Chart StackedBars(string title, string yLabel, double[] xs, IReadOnlyList<(string Label, double[] Values)> layers, double barWidth)
    {
        var plot = NewPlot(title, yLabel);
        var below = new double[xs.Length];
        for (var l = 0; l < layers.Count; l++)
        {
            var bars = new List<Bar>();
            for (var i = 0; i < xs.Length; i++)
            {
                var value = Clean(layers[l].Values[i]);
                bars.Add(new Bar { Position = xs[i], ValueBase = below[i], Value = below[i] + value, Size = barWidth, FillColor = ColorOf(l), LineWidth = 0 });
                below[i] += value;
            }

            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = layers[l].Label;
        }

        plot.Axes.SetLimitsY(0, Max(below) * 1.08 + 1e-9);
        return Finish(plot, title, $"{title}: stacked bars for {string.Join(", ", layers.Select(l => l.Label))}");
    }

    /// <summary>Lines with optional bands, horizontal reference lines and vertical markers (label, x).</summary>
    public static Chart Lines(
        string title,
        string yLabel,
        double[] xs,
        IReadOnlyList<ChartLine> lines,
        IReadOnlyList<(string Label, double Y)>? horizontal = null,
        IReadOnlyList<(string Label, double X)>? vertical = null,
        bool fromZero = true)
    {
        var plot = NewPlot(title, yLabel);
        var max = double.MinValue;
        var min = double.MaxValue;
        for (var l = 0; l < lines.Count; l++)
        {
            var line = lines[l];
            var color = ColorOf(l);
            if (line.Low is { } low && line.High is { } high)
            {
                var idx = Enumerable.Range(0, xs.Length).Where(i => !double.IsNaN(low[i]) && !double.IsNaN(high[i])).ToArray();
                if (idx.Length > 1)
                {
                    var band = plot.Add.FillY(idx.Select(i => xs[i]).ToArray(), idx.Select(i => low[i]).ToArray(), idx.Select(i => high[i]).ToArray());
                    band.FillColor = color.WithAlpha(0.2);
                    band.LineWidth = 0;
                    band.LegendText = string.Empty;
                    foreach (var i in idx)
                    {
                        max = Math.Max(max, high[i]);
                        min = Math.Min(min, low[i]);
                    }
                }
            }

            var points = Enumerable.Range(0, xs.Length).Where(i => !double.IsNaN(line.Values[i])).ToArray();
            if (points.Length == 0)
            {
                continue;
            }

            var scatter = plot.Add.Scatter(points.Select(i => xs[i]).ToArray(), points.Select(i => line.Values[i]).ToArray(), color);
            scatter.LegendText = line.Label;
            scatter.LineWidth = 2;
            scatter.MarkerSize = points.Length > 40 ? 0 : 4;
            if (line.Dashed)
            {
                scatter.LinePattern = LinePattern.Dashed;
            }

            foreach (var i in points)
            {
                max = Math.Max(max, line.Values[i]);
                min = Math.Min(min, line.Values[i]);
            }
        }

        foreach (var (label, y) in horizontal ?? [])
        {
            var h = plot.Add.HorizontalLine(y, 1.5f, Colors.Black, LinePattern.Dashed);
            h.LegendText = label;
            max = Math.Max(max, y);
            min = Math.Min(min, y);
        }

        foreach (var (index, (label, x)) in (vertical ?? []).Select((v, i) => (i, v)))
        {
            var v = plot.Add.VerticalLine(x, 1.5f, ColorOf(index + 3), LinePattern.Dotted);
            v.LegendText = label;
        }

        if (max > double.MinValue)
        {
            var low = fromZero ? Math.Min(0, min) : min;
            var span = max - low;
            plot.Axes.SetLimitsY(low - (span * (fromZero && low == 0 ? 0 : 0.05)), max + (span * 0.08) + 1e-9);
        }

        return Finish(plot, title, $"{title}: lines for {string.Join(", ", lines.Select(l => l.Label))}");
    }

    private static Plot NewPlot(string title, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title, 15);
        plot.YLabel(yLabel, 13);
        plot.Axes.DateTimeTicksBottom();
        plot.Font.Set("DejaVu Sans");
        return plot;
    }

    private static Chart Finish(Plot plot, string title, string alt)
    {
        plot.Axes.Margins(horizontal: 0.01, vertical: 0);
        plot.ShowLegend(Alignment.UpperLeft);
        var png = plot.GetImageBytes(Width, Height, ImageFormat.Png);
        return new Chart(title, alt, png, Width, Height);
    }

    private static double Clean(double value) => double.IsNaN(value) ? 0 : value;

    private static double Max(double[] values)
    {
        var max = 0.0;
        foreach (var value in values)
        {
            max = Math.Max(max, value);
        }

        return max;
    }
}
