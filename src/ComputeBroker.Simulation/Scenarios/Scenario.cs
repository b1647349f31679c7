using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Simulation.Demand;
using ComputeBroker.Simulation.Finance;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Simulation.Scenarios;

/// <summary>
/// One fully resolved what-if: the agreements (amendments included), the providers with their capacity
/// over time and answer policies, the demand, the financial trajectory and the horizon
/// [<see cref="Start"/>, <see cref="End"/>). Immutable; a run never changes it, so one scenario can be
/// run many times in parallel.
/// </summary>
public sealed record Scenario
{
    /// <summary>The name shown in reports; for a variant, the variant's name.</summary>
    public required string Name { get; init; }

    public string? Description { get; init; }

    /// <summary>The file the scenario was read from (for messages and the report), or a label for scenarios built in code.</summary>
    public string Source { get; init; } = "(in code)";

    /// <summary>First instant of the horizon: demand starts here, the first financial quarter starts here.</summary>
    public required DateTimeOffset Start { get; init; }

    /// <summary>End of the horizon (exclusive): no request is submitted at or after it; requests in flight still finish.</summary>
    public required DateTimeOffset End { get; init; }

    /// <summary>The base seed; run i of a Monte Carlo uses <c>Seed + i</c>.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The agreements, with the scenario's response-window override applied.</summary>
    public required ContractBook Book { get; init; }

    /// <summary>The agreement files named by the scenario, for the report.</summary>
    public IReadOnlyList<string> AgreementFiles { get; init; } = [];

    /// <summary>The providers with the scenario's capacity changes and answer overrides applied. Every one is simulated.</summary>
    public required IReadOnlyList<ProviderDefinition> Providers { get; init; }

    public BrokerPolicy Policy { get; init; } = BrokerPolicy.Default;

    /// <summary>When set, every first-refusal clause of every agreement version uses this response window.</summary>
    public TimeSpan? ResponseWindow { get; init; }

    public required IReadOnlyList<DemandStream> Demand { get; init; }

    public FinancialTrajectory? Financials { get; init; }

    /// <summary>
    /// The same scenario with every arrival rate and every capacity change multiplied by <paramref name="factor"/>,
    /// so that it produces about <paramref name="factor"/> times the requests against proportionally more
    /// capacity (the benchmark's way to reach a million requests with the default scenario's shape).
    /// </summary>
    public Scenario Scaled(double factor)
    {
        if (factor <= 0 || double.IsNaN(factor) || double.IsInfinity(factor))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The scale factor must be a positive number.");
        }

        return this with
        {
            Demand = Demand.Select(d => d.Scaled(factor)).ToArray(),
            Providers = Providers.Select(p => p with
            {
                Capacity = p.Capacity.Select(c => c with { Gpus = (int)Math.Clamp(Math.Round(c.Gpus * factor), int.MinValue + 1, int.MaxValue) }).ToArray(),
            }).ToArray(),
        };
    }

    /// <summary>How many requests the demand is expected to produce over the horizon (the Poisson means, plus fixed arrivals).</summary>
    public double ExpectedRequests() => Demand.Sum(d => d.ExpectedCount(Start, End));

    /// <summary>
    /// The provider whose share the report follows: the holder of the first first-refusal clause found in the
    /// agreements (in file order, oldest version first), else the first exclusive provider, else none.
    /// </summary>
    public ProviderId? Holder()
    {
        foreach (var clause in Book.Agreements.SelectMany(a => a.Versions.OrderBy(v => v.EffectiveFrom)).SelectMany(v => v.Clauses))
        {
            if (clause is FirstRefusalClause f)
            {
                return f.Holder;
            }
        }

        foreach (var clause in Book.Agreements.SelectMany(a => a.Versions).SelectMany(v => v.Clauses))
        {
            if (clause is ExclusivityClause e)
            {
                return e.Provider;
            }
        }

        return null;
    }

    /// <summary>Applies a response window to every first-refusal clause of every version of every agreement.</summary>
    public static ContractBook WithResponseWindow(ContractBook book, TimeSpan window) =>
        new(book.Agreements.Select(a => a with
        {
            Versions = a.Versions.Select(v => v with
            {
                Clauses = v.Clauses.Select(c => c is FirstRefusalClause f ? f with { ResponseWindow = window } : c).ToArray(),
            }).ToArray(),
        }), book.Terminations);
}

/// <summary>What a scenario file holds: one scenario, or the variants it compares (each fully resolved).</summary>
public sealed record ScenarioFile(string Source, IReadOnlyList<Scenario> Variants)
{
    public bool HasVariants => Variants.Count > 1;
}
