using System.Diagnostics;
using System.Globalization;
using System.Text;
using ComputeBroker.Simulation.Metrics;
using ComputeBroker.Simulation.Running;
using ComputeBroker.Simulation.Scenarios;
using ComputeBroker.SimulationBench;

// The simulator's throughput: simulated requests per second for N requests over the default scenario's
// horizon, in one run and in one run per core in parallel, with peak memory, beside the bare cost of the
// event queue (the same number of schedule and dequeue operations on the same PriorityQueue type) measured
// in the same process. Outcomes stream to CSV files as requests close, as in `broker simulate`.
//
//   dotnet run -c Release --project bench/ComputeBroker.SimulationBench -- --requests 1000000
//
// Options: --requests N (default 1,000,000), --runs R (parallel phase, default: one per core),
// --scenario FILE (default examples/scenarios/default.yaml), --no-csv, --keep (keep the CSV files); --help lists them.
// A wrong option exits 1 with one line naming it, before anything is measured.
if (Options.Parse(args, Console.Error, out var exitCode) is not { } options)
{
    return exitCode;
}

var scenarioPath = options.Scenario ?? FindDefaultScenario();
var parsed = ScenarioReader.ReadFile(scenarioPath);
if (!parsed.Ok)
{
    Console.Error.WriteLine(string.Join(Environment.NewLine, parsed.Errors));
    return 1;
}

var baseScenario = parsed.Value!.Variants[0];
var scale = options.Requests / baseScenario.ExpectedRequests();
var scenario = baseScenario.Scaled(scale);
var small = baseScenario.Scaled(scale / 10);
var outDir = Path.Combine(Path.GetTempPath(), $"broker-simbench-{Environment.ProcessId}");
Directory.CreateDirectory(outDir);

Console.WriteLine($"scenario   {scenarioPath} ({baseScenario.Name}), {baseScenario.Start:yyyy-MM-dd} to {baseScenario.End:yyyy-MM-dd}");
Console.WriteLine($"scaled     x{scale.ToString("0.0", CultureInfo.InvariantCulture)} (arrivals and capacity) to about {options.Requests:N0} requests per run");
Console.WriteLine($"machine    {Environment.ProcessorCount} cores, .NET {Environment.Version}, GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, load average before: {LoadAverage()}");
Console.WriteLine($"outcomes   {(options.Csv ? $"streamed to CSV in {outDir}" : "not written (--no-csv)")}");
Console.WriteLine();

// Warm-up (JIT, tiered compilation), not measured.
Measure("warm-up", 1, r => Execute(small, r, 100));

var rows = new List<Row>
{
    Measure("1 run", 1, r => Execute(scenario, r, 2)),
    Measure($"{options.Runs} runs in parallel", options.Runs, r => Execute(scenario, r, 3 + r)),
};
var one = rows[0];

// Memory against finished requests: the same demand at a constant rate (the scaled scenario's average) during
// a fifth of the horizon and during all of it: five times the finished requests, the same requests in flight.
var steady = Steady(scenario);
// Same horizon (so the same capacity timelines, whose size follows the horizon's hours), demand for its first fifth only.
var fifthEnd = steady.Start.AddDays(Math.Round((steady.End - steady.Start).TotalDays / 5));
var fifth = steady with { Demand = steady.Demand.Select(d => d is ComputeBroker.Simulation.Demand.GeneratedDemand g ? g with { Until = fifthEnd } : d).ToArray() };
var live = new long[2];
var flat = new[]
{
    Measure("constant rate, demand for 1/5 of the horizon", 1, r => Execute(fifth, r, 20, f => Live(ref live[0], f))),
    Measure("constant rate, whole horizon", 1, r => Execute(steady, r, 21, f => Live(ref live[1], f))),
};
var queue = QueueBaseline(one.Actions, (int)Math.Max(1, Math.Round(one.MeanPending)));

Console.WriteLine(Table([.. rows, .. flat], queue, one));
Console.WriteLine();
var perMillion = one.Seconds / one.Requests * 1_000_000;
Console.WriteLine($"1 run: {one.Requests:N0} requests in {one.Seconds:0.00} s wall ({one.Cpu:0.00} s CPU) = {one.Requests / one.Seconds:N0} requests/s, " +
    $"{perMillion:0.0} s per 1,000,000 requests; target under 10 s: {(perMillion < 10 ? "met" : "missed")}.");
Console.WriteLine($"The event queue alone does the same {one.Actions:N0} schedule+dequeue pairs in {queue.Seconds:0.000} s: a run costs {one.Seconds / queue.Seconds:0.0}x the bare queue.");
Console.WriteLine($"Memory: at a constant rate, {flat[0].Requests:N0} finished requests keep at most {live[0] / 1e6:0.0} MB live on the heap (peak working set {flat[0].PeakMb:N0} MB), " +
    $"{flat[1].Requests:N0} keep {live[1] / 1e6:0.0} MB ({flat[1].PeakMb:N0} MB): memory follows the requests in flight, not the finished ones (outcomes stream to disk). " +
    "Live heap = after a full collection at each tenth of the horizon.");
Console.WriteLine($"Requests in flight at most (weekly samples): {flat[0].PeakOpen:N0} and {flat[1].PeakOpen:N0}; event queue at most {flat[0].PeakPending:N0} and {flat[1].PeakPending:N0} actions.");
Console.WriteLine($"load average after: {LoadAverage()} (other processes on the machine slow wall-clock figures; CPU seconds are the process's own).");
if (!options.Keep)
{
    Directory.Delete(outDir, recursive: true);
}

return 0;

// The scenario with every stream's arrivals at a constant rate: its average over the horizon.
static Scenario Steady(Scenario s) => s with
{
    Demand = s.Demand.Select(d => d is ComputeBroker.Simulation.Demand.GeneratedDemand g
        ? g with
        {
            Arrivals = new ComputeBroker.Simulation.Demand.PoissonArrivals(
                g.ExpectedCount(s.Start, s.End) / ((g.Until ?? s.End) < s.End ? (g.Until ?? s.End) : s.End).Subtract((g.From ?? s.Start) > s.Start ? (g.From ?? s.Start) : s.Start).TotalDays),
            Bursts = null,
            Size = g.Size is ComputeBroker.Simulation.Demand.LogNormalSize l ? l with { GrowthPerYear = 0 } : g.Size is ComputeBroker.Simulation.Demand.ChoiceSize c ? c with { GrowthPerYear = 0 } : g.Size,
            From = null,
            Until = null,
        }
        : d).ToArray(),
};

RunResult Execute(Scenario s, int index, int seed, Action<double>? progress = null)
{
    var path = Path.Combine(outDir, $"requests-{index}-{seed}.csv");
    using var writer = options.Csv ? new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16) : null;
    return SimulationRun.Execute(s, seed, new RunOptions { RequestsCsv = writer, Progress = progress });
}

// At each tenth of the horizon: the bytes still reachable after a full collection.
static void Live(ref long max, double fraction)
{
    var tenth = (int)(fraction * 10);
    if (tenth != (int)((fraction - (7.0 / (6 * 365))) * 10) || fraction >= 1.0)
    {
        max = Math.Max(max, GC.GetTotalMemory(forceFullCollection: true));
    }
}

Row Measure(string name, int runs, Func<int, RunResult> run)
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    using var sampler = new MemorySampler();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var pause = GC.GetTotalPauseDuration();
    var stopwatch = Stopwatch.StartNew();
    var results = new RunResult[runs];
    Parallel.For(0, runs, new ParallelOptions { MaxDegreeOfParallelism = runs }, i => results[i] = run(i));
    stopwatch.Stop();
    var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
    var gcSeconds = (GC.GetTotalPauseDuration() - pause).TotalSeconds;
    var peak = sampler.Stop();
    return new Row(name, runs, results.Sum(r => r.Totals.Requests), results.Sum(r => r.Events), results.Sum(r => r.ScheduledActions),
        results.Average(r => r.MeanPendingActions), stopwatch.Elapsed.TotalSeconds, cpuSeconds, gcSeconds, peak.WorkingSetMb, peak.HeapMb, results.Max(r => r.PeakOpenRequests), results.Max(r => r.PeakPendingActions));
}

// The same number of schedule and dequeue pairs on the VirtualBroker's queue type, the queue held at the
// run's mean length, each action a cached delegate that does nothing: what the queue itself costs.
static (double Seconds, long Operations) QueueBaseline(long operations, int pending)
{
    var queue = new PriorityQueue<Action, (DateTimeOffset At, long Seq)>();
    var random = new Random(1);
    var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    Action nothing = static () => { };
    long seq = 0;
    for (var i = 0; i < pending; i++)
    {
        queue.Enqueue(nothing, (now.AddSeconds(random.Next(1, 86_400)), seq++));
    }

    var stopwatch = Stopwatch.StartNew();
    for (long i = 0; i < operations; i++)
    {
        queue.TryDequeue(out var action, out var key);
        action!();
        queue.Enqueue(nothing, (key.At.AddSeconds(random.Next(1, 86_400)), seq++));
    }

    stopwatch.Stop();
    return (stopwatch.Elapsed.TotalSeconds, operations);
}

static string Table(List<Row> rows, (double Seconds, long Operations) queue, Row one)
{
    var lines = new List<string[]> { Header };
    foreach (var r in rows)
    {
        lines.Add([r.Name, N(r.Runs), N(r.Requests), F(r.Seconds), F(r.Cpu), F(r.GcPause), N(r.Requests / r.Seconds), N(r.Events / r.Seconds), N(r.Actions), N(r.PeakMb), N(r.HeapMb)]);
    }

    lines.Add(["event queue alone (same ops as 1 run)", "1", "-", F(queue.Seconds), "-", "-", "-", "-", N(queue.Operations), "-", "-"]);
    lines.Add(["ratio 1 run / queue alone", "", "", F(one.Seconds / queue.Seconds) + "x", "", "", "", "", "", "", ""]);
    var widths = Enumerable.Range(0, lines[0].Length).Select(c => lines.Max(l => l[c].Length)).ToArray();
    var text = new StringBuilder();
    foreach (var (line, index) in lines.Select((l, i) => (l, i)))
    {
        text.AppendLine(string.Join(" | ", line.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))));
        if (index == 0)
        {
            text.AppendLine(string.Join("-|-", widths.Select(w => new string('-', w))));
        }
    }

    return text.ToString().TrimEnd();
}

static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

static string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static string FindDefaultScenario()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "examples", "scenarios", "default.yaml");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
    }

    throw new FileNotFoundException("examples/scenarios/default.yaml not found above the current directory; pass --scenario FILE");
}

internal static partial class Program
{
    private static readonly string[] Header = ["phase", "runs", "requests", "wall s", "CPU s", "GC pause s", "requests/s", "events/s", "queue ops", "peak WS MB", "peak heap MB"];
}

internal sealed record Row(string Name, int Runs, long Requests, long Events, long Actions, double MeanPending, double Seconds, double Cpu, double GcPause, double PeakMb, double HeapMb, int PeakOpen, int PeakPending);

/// <summary>Samples the process's working set and the GC heap every 10 ms on a background thread; reports the peaks.</summary>
internal sealed class MemorySampler : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _peakWorkingSet;
    private long _peakHeap;

    public MemorySampler()
    {
        _thread = new Thread(Sample) { IsBackground = true, Name = "memory sampler" };
        _thread.Start();
    }

    public (double WorkingSetMb, double HeapMb) Stop()
    {
        _stop = true;
        _thread.Join();
        return (_peakWorkingSet / 1e6, _peakHeap / 1e6);
    }

    public void Dispose() => _stop = true;

    private void Sample()
    {
        using var process = Process.GetCurrentProcess();
        while (!_stop)
        {
            process.Refresh();
            _peakWorkingSet = Math.Max(_peakWorkingSet, process.WorkingSet64);
            _peakHeap = Math.Max(_peakHeap, GC.GetTotalMemory(false));
            Thread.Sleep(10);
        }
    }
}
