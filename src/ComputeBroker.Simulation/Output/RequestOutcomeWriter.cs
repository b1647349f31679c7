using ComputeBroker.Domain;
using ComputeBroker.Simulation.Metrics;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Simulation.Output;

/// <summary>
/// Streams one CSV row per request as it closes (requests.csv): what was asked, how it was routed, how the
/// first-refusal holder answered, the outcome, where the GPUs went, the waits and the cost. Rows come in
/// closing order, which is deterministic for a seed. Not thread-safe.
/// </summary>
public sealed class RequestOutcomeWriter
{
    public const string Header =
        "id,submitted_at,customer,workload_class,accelerator,gpus,earliest_start,duration_hours,route,holder_answer,outcome,allocated,unfulfilled,allocations,closed_at,time_to_capacity_hours,window_delay_hours,cost,currency,reason";

    private readonly TextWriter _writer;
    private readonly CsvLine _line;

    public RequestOutcomeWriter(TextWriter writer)
    {
        _writer = writer;
        _line = new CsvLine(writer);
        writer.Write(Header);
        writer.Write('\n');
    }

    public void Write(RequestState state, HolderAnswer answer, TimeSpan? timeToCapacity, TimeSpan? windowDelay, decimal cost)
    {
        var request = state.Request!;
        var closed = state.Closed!;
        Start(request, state.SubmittedAt)
            .Text(Route(state.Clauses?.Route))
            .Text(Answer(answer))
            .Text(Outcome(closed.Outcome))
            .Number(closed.Allocated.Value)
            .Number(closed.Unfulfilled.Value)
            .Field();
        var allocations = state.Allocations;
        if (closed.Outcome != RequestOutcome.Cancelled)
        {
            for (var i = 0; i < allocations.Count; i++)
            {
                if (i > 0)
                {
                    _line.Raw(";");
                }

                _line.Raw(allocations[i].Provider.Value).Raw(":").RawNumber(allocations[i].Gpus.Value);
            }
        }

        _line.Instant(closed.At)
            .Number(timeToCapacity?.TotalHours ?? double.NaN)
            .Number(windowDelay?.TotalHours ?? double.NaN)
            .Money(cost)
            .Text(request.MaxPrice.Currency.Code)
            .Text(closed.Reason)
            .End();
    }

    public void WriteRejected(CapacityRequest request, DateTimeOffset at, Rejection rejection)
    {
        Start(request, at)
            .Text(string.Empty)
            .Text(string.Empty)
            .Text("rejected")
            .Number(0)
            .Number(request.Gpus.Value)
            .Text(string.Empty)
            .Instant(at)
            .Text(string.Empty)
            .Text(string.Empty)
            .Money(0)
            .Text(request.MaxPrice.Currency.Code)
            .Text(rejection.Message)
            .End();
    }

    public void Flush() => _writer.Flush();

    private CsvLine Start(CapacityRequest request, DateTimeOffset submittedAt) =>
        _line.Text(request.Id.Value)
            .Instant(submittedAt)
            .Text(request.Customer)
            .Text(request.WorkloadClass)
            .Text(request.Accelerator)
            .Number(request.Gpus.Value)
            .Instant(request.EarliestStart)
            .Number(request.DurationHours);

    private static string Route(Contracts.SourcingRoute? route) => route switch
    {
        Contracts.SourcingRoute.Exclusive => "exclusive",
        Contracts.SourcingRoute.FirstRefusal => "first-refusal",
        Contracts.SourcingRoute.Waived => "waived",
        Contracts.SourcingRoute.Open => "open",
        _ => string.Empty,
    };

    public static string Answer(HolderAnswer answer) => answer switch
    {
        HolderAnswer.Accepted => "accepted",
        HolderAnswer.Partial => "partial",
        HolderAnswer.Declined => "declined",
        HolderAnswer.Expired => "expired",
        _ => string.Empty,
    };

    public static string Outcome(RequestOutcome outcome) => outcome switch
    {
        RequestOutcome.Placed => "placed",
        RequestOutcome.PartiallyPlaced => "partially-placed",
        RequestOutcome.Unfulfilled => "unfulfilled",
        _ => "cancelled",
    };
}
