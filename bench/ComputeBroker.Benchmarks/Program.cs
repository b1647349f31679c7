using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace ComputeBroker.Benchmarks;

/// <summary>
/// Entry point. All BenchmarkDotNet command-line options work (<c>--filter '*'</c>, <c>--list flat</c>,
/// <c>--affinity 1</c>...); <c>--quick</c> swaps in a short in-process job for a smoke run, and
/// <c>--breakdown</c> prints the workflow's allocations step by step instead of benchmarking. After the run a
/// per-request summary is printed: ns/request, requests/second and the ratio to the fold baseline.
/// </summary>
public static class Program
{
    /// <summary>The throughput the sourcing workflow must reach on one core.</summary>
    public const double TargetRequestsPerSecond = 200_000;

    public static int Main(string[] args)
    {
        if (args.Contains("--breakdown", StringComparer.Ordinal))
        {
            AllocationBreakdown.Run();
            return 0;
        }

        var quick = args.Contains("--quick", StringComparer.Ordinal);
        var rest = args.Where(a => a != "--quick").ToList();
        var hasFilter = rest.Any(a => a is "--filter" or "-f" || a.StartsWith("--filter=", StringComparison.Ordinal));
        var listing = rest.Any(a => a is "--list" or "--help" or "-h" or "--version" || a.StartsWith("--list=", StringComparison.Ordinal));
        if (!hasFilter && !listing && (quick || Console.IsInputRedirected))
        {
            // No one to answer the interactive chooser: run everything.
            rest.AddRange(["--filter", "*"]);
        }

        // One thread decides the requests; a non-concurrent workstation GC keeps collection work on
        // that thread too, so the figure is what one core does.
        var job = quick
            ? Job.ShortRun
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithWarmupCount(2)
                .WithIterationCount(5)
                .WithId("Quick")
            : Job.Default.WithId("OneCore");
        job = job.WithGcServer(false).WithGcConcurrent(false);

        var config = DefaultConfig.Instance
            .AddJob(quick ? job : job.AsDefault())
            .WithOptions(ConfigOptions.JoinSummary);

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. rest], config).ToArray();
        if (summaries.Length == 0)
        {
            return 0;
        }

        return PrintPerRequestSummary(summaries) ? 0 : 1;
    }

    /// <summary>Prints the per-request table; returns false if a benchmark produced no result.</summary>
    private static bool PrintPerRequestSummary(IReadOnlyList<Summary> summaries)
    {
        var reports = summaries.SelectMany(s => s.Reports).ToArray();
        if (reports.Length == 0)
        {
            return true;
        }

        var ok = true;
        var rows = new List<string[]>();
        foreach (var byJob in reports.GroupBy(r => r.BenchmarkCase.Job.ResolvedId))
        {
            var fold = byJob.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == nameof(SourcingBenchmarks.Fold));
            var foldNs = fold?.ResultStatistics?.Mean;
            foreach (var report in byJob)
            {
                var name = report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo
                    + (report.BenchmarkCase.HasParameters ? $" ({report.BenchmarkCase.Parameters.PrintInfo})" : string.Empty);
                var type = report.BenchmarkCase.Descriptor.Type.Name;
                if (report.ResultStatistics is not { } stats)
                {
                    ok = false;
                    rows.Add([$"{type}.{name}", "failed", "", "", "", byJob.Key]);
                    continue;
                }

                // BenchmarkDotNet's statistics are per operation, and OperationsPerInvoke makes one operation one request.
                var ns = stats.Mean;
                var bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
                rows.Add(
                [
                    $"{type}.{name}",
                    Format(ns, "N1"),
                    Format(1e9 / ns, "N0"),
                    foldNs is { } f && f > 0 ? Format(ns / f, "N2") + "x" : "n/a",
                    bytes is { } b ? Format(b, "N0") : "n/a",
                    byJob.Key,
                ]);
            }
        }

        string[] header = ["Benchmark", "ns/request", "requests/s", "vs fold", "B/request", "Job"];
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        Console.WriteLine();
        Console.WriteLine("// * Per-request summary (ClauseResolverBenchmarks.Resolve and ProjectionBenchmarks: per call) *");
        Console.WriteLine(Line(header, widths));
        Console.WriteLine(string.Join(" | ", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            Console.WriteLine(Line(row, widths));
        }

        var workflow = reports.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == nameof(SourcingBenchmarks.Workflow) && r.ResultStatistics is not null);
        if (workflow is not null)
        {
            var perSecond = 1e9 / workflow.ResultStatistics!.Mean;
            Console.WriteLine();
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"Workflow: {perSecond:N0} requests decided per second on one thread; target {TargetRequestsPerSecond:N0}: {(perSecond >= TargetRequestsPerSecond ? "met" : "NOT met")}."));
        }

        return ok;
    }

    private static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Line(string[] cells, int[] widths) =>
        string.Join(" | ", cells.Select((c, i) => i == 0 || i == cells.Length - 1 ? c.PadRight(widths[i]) : c.PadLeft(widths[i])));
}
