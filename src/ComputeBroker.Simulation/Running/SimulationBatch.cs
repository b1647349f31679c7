using System.Text;
using ComputeBroker.Simulation.Metrics;
using ComputeBroker.Simulation.Scenarios;

namespace ComputeBroker.Simulation.Running;

/// <summary>What a batch runs and where each run's request CSV goes.</summary>
public sealed record BatchOptions
{
    /// <summary>Runs per scenario (Monte Carlo); run i uses seed <c>base seed + i</c>.</summary>
    public int Runs { get; init; } = 1;

    /// <summary>Overrides every scenario's own seed as the base seed.</summary>
    public int? Seed { get; init; }

    /// <summary>
    /// Where run <c>run</c> of scenario <c>set</c> (with its seed) writes its requests CSV; null, or a null
    /// path, writes none. The directory must exist.
    /// </summary>
    public Func<int, int, int, string?>? RequestsCsvPath { get; init; }

    /// <summary>Runs at once; defaults to every core.</summary>
    public int MaxParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Overall progress from 0 to 1 (called from worker threads, often).</summary>
    public Action<double>? Progress { get; init; }

    public CancellationToken Cancellation { get; init; }
}

/// <summary>One scenario's runs, in run order.</summary>
public sealed record SetResult(Scenario Scenario, int BaseSeed, IReadOnlyList<RunResult> Runs);

/// <summary>
/// Runs several scenarios (variants, or A against B) with several seeds each, in parallel on all cores.
/// Every run is independent and deterministic, and results are gathered by (scenario, run index), never by
/// completion order, so the aggregate — and every file written from it — is the same however the threads
/// were scheduled.
/// </summary>
public static class SimulationBatch
{
    public static IReadOnlyList<SetResult> Run(IReadOnlyList<Scenario> scenarios, BatchOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Runs, 1);
        var jobs = new List<(int Set, int Run, int Seed)>();
        for (var s = 0; s < scenarios.Count; s++)
        {
            var baseSeed = options.Seed ?? scenarios[s].Seed;
            for (var r = 0; r < options.Runs; r++)
            {
                jobs.Add((s, r, unchecked(baseSeed + r)));
            }
        }

        var results = new RunResult[jobs.Count];
        var progress = new double[jobs.Count];
        var lastReported = 0L;
        void Report(int job, double fraction)
        {
            if (options.Progress is not { } callback)
            {
                return;
            }

            Volatile.Write(ref progress[job], fraction);
            var now = Environment.TickCount64;
            if (fraction < 1 && now - Interlocked.Read(ref lastReported) < 100)
            {
                return;
            }

            Interlocked.Exchange(ref lastReported, now);
            var sum = 0.0;
            for (var i = 0; i < progress.Length; i++)
            {
                sum += Volatile.Read(ref progress[i]);
            }

            callback(sum / progress.Length);
        }

        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, options.MaxParallelism),
            CancellationToken = options.Cancellation,
        };
        Parallel.For(0, jobs.Count, parallel, j =>
        {
            var (set, run, seed) = jobs[j];
            var path = options.RequestsCsvPath?.Invoke(set, run, seed);
            using var writer = path is null ? null : new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
            results[j] = SimulationRun.Execute(scenarios[set], seed, new RunOptions
            {
                RequestsCsv = writer,
                Progress = f => Report(j, f),
                Cancellation = options.Cancellation,
            });
        });

        return scenarios
            .Select((scenario, s) => new SetResult(
                scenario,
                options.Seed ?? scenario.Seed,
                jobs.Select((job, j) => (job, j)).Where(x => x.job.Set == s).Select(x => results[x.j]).ToArray()))
            .ToArray();
    }
}
