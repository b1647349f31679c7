using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace ComputeBroker.Simulation.Tests;

/// <summary>Reports built once for the class: the default scenario with a Monte Carlo of 2 runs, and a comparison of two terms.</summary>
public sealed class ReportFixture : IDisposable
{
    public ReportFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "broker-sim-report-tests", Guid.NewGuid().ToString("N"));
        MonteCarlo = Simulator.Run([Worlds.Default()], new SimulationSettings { OutputDirectory = Path.Combine(Root, "mc"), Runs = 2 });
        var january = Worlds.Require(Scenarios.ScenarioReader.ReadFile(Worlds.Example("examples/scenarios/january-2025-terms.yaml"))).Variants[0];
        Comparison = Simulator.Run([january, Worlds.Default()], new SimulationSettings { OutputDirectory = Path.Combine(Root, "compare"), RequestsCsv = false });
    }

    public string Root { get; }

    public SimulationOutcome MonteCarlo { get; }

    public SimulationOutcome Comparison { get; }

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}

public sealed partial class ReportTests(ReportFixture fixture) : IClassFixture<ReportFixture>
{
    private static readonly string[] Sections = ["summary", "capacity", "holder", "first-refusal", "time-to-capacity", "unfulfilled", "money", "quarters", "files", "method"];

    [Fact]
    public void Report_HasEverySectionChartAndTable_AndNeedsNothingFromTheNetwork()
    {
        var html = File.ReadAllText(fixture.MonteCarlo.Layout.ReportPath);

        Assert.All(Sections, id => Assert.Contains($"<section id=\"{id}\">", html, StringComparison.Ordinal));
        Assert.True(ChartImage().Count(html) >= 8, "at least eight charts");
        Assert.True(Regex.Count(html, "<table") >= 5, "summary, providers, commitments and quarter tables");
        Assert.DoesNotMatch(@"(src|href)=""(https?:)?//", html);
        Assert.Contains("median (p10–p90)", html, StringComparison.Ordinal);
        Assert.Contains("does not fire within the horizon", html, StringComparison.Ordinal);
    }

    [Fact]
    public void MonteCarlo_WritesBandsAndOneRowPerRun()
    {
        var dir = fixture.MonteCarlo.Layout.Root;
        var monthly = File.ReadAllLines(Path.Combine(dir, "monthly.csv"));
        var runs = File.ReadAllLines(Path.Combine(dir, "runs.csv"));

        Assert.StartsWith("month,requests_p10,requests_p50,requests_p90,", monthly[0], StringComparison.Ordinal);
        Assert.Equal(72 + 1, monthly.Length);
        Assert.Equal(2 + 1, runs.Length);
        Assert.True(File.Exists(Path.Combine(dir, "requests-run-001-seed-1.csv")));
        Assert.True(File.Exists(Path.Combine(dir, "requests-run-002-seed-2.csv")));
    }

    [Fact]
    public void RequestsCsv_HasOneRowPerRequest_WhoseGpusAddUp()
    {
        var set = fixture.MonteCarlo.Sets[0];
        var lines = File.ReadAllLines(Path.Combine(fixture.MonteCarlo.Layout.Root, "requests-run-001-seed-1.csv"));
        var header = lines[0].Split(',');
        int Col(string name) => Array.IndexOf(header, name);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();

        var totals = set.Set.Runs[0].Totals;
        Assert.Equal(totals.Requests, rows.Length);
        Assert.Equal(totals.GpusDemanded, rows.Sum(r => long.Parse(r[Col("gpus")], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(totals.GpusPlaced, rows.Sum(r => long.Parse(r[Col("allocated")], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(totals.GpusUnfulfilled, rows.Sum(r => long.Parse(r[Col("unfulfilled")], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(rows.Length, rows.Select(r => r[Col("id")]).Distinct().Count());
    }

    [Fact]
    public void Comparison_PutsBothScenariosSideBySide_WithTheirDifference()
    {
        var html = File.ReadAllText(fixture.Comparison.Layout.ReportPath);

        Assert.Contains("What-if comparison: January 2025 terms vs default", html, StringComparison.Ordinal);
        Assert.Contains("second − first", html, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(fixture.Comparison.Layout.Root, "january-2025-terms")));
        Assert.True(Directory.Exists(Path.Combine(fixture.Comparison.Layout.Root, "default")));
        // Under the January terms the holder keeps its first refusal all along: more requests are offered to it.
        Assert.True(fixture.Comparison.Sets[0].Scalar("fr_requests").P50 > fixture.Comparison.Sets[1].Scalar("fr_requests").P50);
    }

    [SkippableFact]
    public async Task Report_OpensInHeadlessChromium_WithChartsTablesAndNoConsoleErrors()
    {
        const string Chromium = "/usr/bin/chromium";
        if (!File.Exists(Chromium))
        {
            var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
            Skip.If(!ci && Environment.GetEnvironmentVariable("BROKER_SKIP_BROWSER") == "1", "chromium is missing and BROKER_SKIP_BROWSER=1");
            Assert.Fail($"{Chromium} is missing: install Debian's chromium package (apt-get install chromium), or set BROKER_SKIP_BROWSER=1 outside CI");
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        foreach (var report in new[] { fixture.MonteCarlo.Layout.ReportPath, fixture.Comparison.Layout.ReportPath })
        {
            var page = await browser.NewPageAsync();
            var errors = new List<string>();
            page.Console += (_, message) =>
            {
                if (message.Type == "error")
                {
                    errors.Add(message.Text);
                }
            };
            page.PageError += (_, error) => errors.Add(error);
            page.RequestFailed += (_, request) => errors.Add($"request failed: {request.Url}");

            await page.GotoAsync(new Uri(report).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load });

            var widths = await page.EvalOnSelectorAllAsync<int[]>("img.chart", "images => images.map(i => i.complete ? i.naturalWidth : 0)");
            Assert.True(widths.Length >= 8, $"{report}: {widths.Length} charts");
            Assert.All(widths, w => Assert.True(w > 0, $"{report}: a chart image did not load"));
            var tables = await page.EvalOnSelectorAllAsync<int[]>("table", "tables => tables.map(t => t.rows.length)");
            Assert.True(tables.Length >= 5 && tables.All(rows => rows > 1), $"{report}: tables {string.Join(",", tables)}");
            Assert.Equal("Summary", await page.InnerTextAsync("#summary h2"));
            Assert.Empty(errors);
            await page.CloseAsync();
        }
    }

    [GeneratedRegex("<img class=\"chart\" width=\"\\d+\" height=\"\\d+\" alt=\"[^\"]+\" src=\"data:image/png;base64,")]
    private static partial Regex ChartImage();
}
