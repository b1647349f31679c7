using System.Diagnostics;
using ComputeBroker.Simulation.Running;
using ComputeBroker.Simulation.Scenarios;

var path = args.Length > 0 ? args[0] : "/work/wt-sim/examples/scenarios/default.yaml";
var requests = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
var parsed = ScenarioReader.ReadFile(path);
if (!parsed.Ok) { foreach (var e in parsed.Errors) Console.WriteLine(e); return 1; }
var scenario = parsed.Value!.Variants[0];
Console.WriteLine($"expected requests: {scenario.ExpectedRequests():N0}");
if (requests > 0) scenario = scenario.Scaled(requests / scenario.ExpectedRequests());
AllocListener? al = Environment.GetEnvironmentVariable("ALLOC") == "1" ? new AllocListener() : null;
var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
var sw = Stopwatch.StartNew();
using var w = new StreamWriter("/tmp/sim-requests.csv");
var r = SimulationRun.Execute(scenario, 1, new RunOptions { RequestsCsv = Environment.GetEnvironmentVariable("NOCSV") == "1" ? null : w });
sw.Stop();
Console.WriteLine($"cpu {(Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds:F2}s");
var t = r.Totals;
Console.WriteLine($"{sw.Elapsed.TotalSeconds:F2}s requests {t.Requests:N0} ({t.Requests / sw.Elapsed.TotalSeconds:N0}/s) events {r.Events:N0} actions {r.ScheduledActions:N0}");
Console.WriteLine($"placed {t.Placed} partial {t.PartiallyPlaced} unf {t.Unfulfilled} rej {t.Rejected}; gpus d/p/u {t.GpusDemanded:N0}/{t.GpusPlaced:N0}/{t.GpusUnfulfilled:N0}; holder {t.HolderShare:P1}");
Console.WriteLine($"ttc p50/90/99 {t.TimeToCapacityP50Hours}/{t.TimeToCapacityP90Hours}/{t.TimeToCapacityP99Hours} h; fr {t.FirstRefusalRequests} acc {t.HolderAccepted} part {t.HolderPartial} dec {t.HolderDeclined} exp {t.HolderExpired}; delay p50 {t.WindowDelayP50Hours} p90 {t.WindowDelayP90Hours}");
Console.WriteLine($"revenue share {t.RevenueShare:N0}; cum profit {t.CumulativeProfit:N0}; firings {r.Firings.Count}");
foreach (var (k, v) in r.PlacedByProvider) Console.WriteLine($"  {k}: {v:N0}");
foreach (var c in r.Commitments) Console.WriteLine($"  {c.Key}: {c.Spent} of {c.Amount} ({c.Fraction:P1})");
Console.WriteLine($"gc0 {GC.CollectionCount(0)} gc1 {GC.CollectionCount(1)} gc2 {GC.CollectionCount(2)} pause {GC.GetTotalPauseDuration().TotalMilliseconds} ms alloc {GC.GetTotalAllocatedBytes()/1e6:N0} MB");
if (al != null) foreach (var (k, v) in al.Counts.OrderByDescending(x => x.Value).Take(40)) Console.WriteLine($"  {v,6} {k}");
Console.WriteLine($"peak WS {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:N0} MB");
return 0;
static class Probe2
{
    public static void Time(ComputeBroker.Simulation.Scenarios.Scenario s)
    {
        var sw = Stopwatch.StartNew();
        var sims = s.Providers.Select(p => new ComputeBroker.Providers.SimulatedProvider(p, s.Start, 60000)).ToArray();
        Console.WriteLine($"providers built in {sw.ElapsedMilliseconds} ms");
    }
}
sealed class AllocListener : System.Diagnostics.Tracing.EventListener
{
    public readonly Dictionary<string, long> Counts = new();
    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
    }
    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCAllocationTick") != true) return;
        var i = e.PayloadNames!.IndexOf("TypeName");
        var name = (string)e.Payload![i]!;
        lock (Counts) Counts[name] = Counts.GetValueOrDefault(name) + 1;
    }
}
