using System.Globalization;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Benchmarks;

/// <summary>
/// <c>--breakdown</c>: where the workflow's allocations go, step by step (managed bytes per request,
/// from <see cref="GC.GetAllocatedBytesForCurrentThread"/>). Exact and noise-free, unlike timings,
/// so it is the first thing to look at when the workflow gets slower. Not a BenchmarkDotNet run.
/// </summary>
public static class AllocationBreakdown
{
    private static readonly string[] Steps =
    [
        "new RequestState",
        "Submit (resolve, offer to holder)",
        "AnswerOffer (accept part, request quotes)",
        "AnswerQuote x3 (window still open)",
        "AnswerQuote #4 (window closes, 4 awards)",
        "AnswerReservation x3",
        "AnswerReservation #4 (request closes)",
    ];

    public static void Run(int requests = 10_000)
    {
        var scenario = new SourcingScenario(requests);
        scenario.Verify();
        for (var i = 0; i < 3; i++)
        {
            Measure(scenario, new long[Steps.Length]);
        }

        var bytes = new long[Steps.Length];
        Measure(scenario, bytes);

        var width = Steps.Max(s => s.Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Managed bytes allocated per request, by step ({requests:N0} requests):"));
        long total = 0;
        for (var i = 0; i < Steps.Length; i++)
        {
            var perRequest = bytes[i] / (double)requests;
            total += bytes[i];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {Steps[i].PadRight(width)}  {perRequest,8:N0} B"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"total".PadRight(width)}  {total / (double)requests,8:N0} B"));
    }

    private static void Measure(SourcingScenario s, long[] bytes)
    {
        var engine = s.Engine;
        foreach (var request in s.Requests)
        {
            var mark = GC.GetAllocatedBytesForCurrentThread();
            var state = new RequestState();
            mark = Add(bytes, 0, mark);

            Check(engine.Submit(state, request, SourcingScenario.SubmittedAt, s.Book, s.Catalog, SourcingScenario.NoWaiverUse));
            mark = Add(bytes, 1, mark);

            var offer = state.OpenOffer!;
            Check(engine.AnswerOffer(state, offer.Id, offer.Provider, s.HolderAccept, SourcingScenario.OfferAnsweredAt));
            mark = Add(bytes, 2, mark);

            var quotes = s.QuoteAnswers;
            for (var q = 0; q < quotes.Length; q++)
            {
                Check(engine.AnswerQuote(state, quotes[q].Provider, quotes[q].Answer, SourcingScenario.QuotesAnsweredAt));
                mark = Add(bytes, q == quotes.Length - 1 ? 4 : 3, mark);
            }

            while (state.PendingAwards.Count > 0)
            {
                var award = state.PendingAwards[0];
                Check(engine.AnswerReservation(state, award.Award, award.Provider, true, null, SourcingScenario.ReservationsAnsweredAt));
                mark = Add(bytes, state.IsClosed ? 6 : 5, mark);
            }
        }
    }

    private static long Add(long[] bytes, int step, long mark)
    {
        var now = GC.GetAllocatedBytesForCurrentThread();
        bytes[step] += now - mark;
        return GC.GetAllocatedBytesForCurrentThread();
    }

    private static void Check(Decision decision)
    {
        if (decision.Rejection is { } rejection)
        {
            throw new InvalidOperationException($"scenario: the engine rejected an input ({rejection.Kind}): {rejection.Message}");
        }
    }
}
