using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using ComputeBroker.Sourcing;
using static ComputeBroker.Tests.Ledger.LedgerFixture;

namespace ComputeBroker.Tests.Ledger;

/// <summary>
/// Issue 5, point 4: spend with a provider (price x GPUs x hours of each allocation) against a
/// commitment's amount and deadline, with progress and the shortfall projected linearly from the pace so far.
/// The events are made by hand, as the sourcing engine would record them.
/// </summary>
public sealed class CommitmentTrackerTests
{
    private static readonly ProviderId Azure = new("azure");
    private static readonly ProviderId CoreWeave = new("coreweave");

    /// <summary>USD 1,000,000.00 with Azure from 2025-01-01 (the version's effective day) to 2026-01-01: 365 days.</summary>
    private static readonly ContractBook CommitmentBook = Book(
        new CommitmentClause(new ClauseId("azure-commitment"), null, null, Azure, Usd(1_000_000.00m), Day(2026, 1, 1)));

    [Fact]
    public void Progress_AllocationsAndACancellation_CountsPriceTimesGpusTimesHours()
    {
        var tracker = new CommitmentTracker();
        // Before the commitment starts: not counted. 1,000 x 10.00 x 10 h = 100,000.00
        Allocate(tracker, "r0", Day(2024, 12, 15), Azure, 1_000, "10.00", hours: 10);
        // 100 GPUs x 12.29 x 100 h = 122,900.00
        Allocate(tracker, "r1", Day(2025, 2, 1), Azure, 100, "12.29", hours: 100);
        // 50 GPUs x 10.00 x 200 h = 100,000.00
        Allocate(tracker, "r2", Day(2025, 3, 1), Azure, 50, "10.00", hours: 200);
        // Another provider: 10 x 3.00 x 10 h = 300.00, not Azure's.
        Allocate(tracker, "r3", Day(2025, 3, 2), CoreWeave, 10, "3.00", hours: 10);
        // 20 x 12.00 x 50 h = 12,000.00, given back when the request is cancelled.
        Allocate(tracker, "r4", Day(2025, 3, 15), Azure, 20, "12.00", hours: 50);
        Cancel(tracker, "r4", Day(2025, 3, 20), (Azure, 20));

        var progress = Assert.Single(tracker.Progress(CommitmentBook, Day(2025, 4, 1)));

        // Spent 122,900.00 + 100,000.00 + 12,000.00 - 12,000.00 = 222,900.00 in 90 of 365 days.
        Assert.Equal((MicrosoftOpenAi, new ClauseId("azure-commitment"), Azure), (progress.Agreement, progress.Clause, progress.Provider));
        Assert.Equal((Usd(1_000_000.00m), Day(2026, 1, 1)), (progress.Amount, progress.Deadline));
        Assert.Equal(Usd(222_900.00m), progress.Spent);
        Assert.Equal(Usd(777_100.00m), progress.Remaining);
        Assert.Equal(0.2229m, progress.Fraction);
        // At that pace: 222,900.00 x 365/90 = 903,983.333... -> 903,983.33; short by 1,000,000.00 - 903,983.33 = 96,016.67.
        Assert.Equal(Usd(903_983.33m), progress.ProjectedSpend);
        Assert.Equal(Usd(96_016.67m), progress.ProjectedShortfall);
        Assert.Equal(Usd(300.00m), tracker.Spent(Customer, CoreWeave, Currency.Usd, Day(2025, 1, 1), Day(2026, 1, 1)));
    }

    [Fact]
    public void Progress_AfterTheDeadline_CountsSpendUpToItAndTheShortfallIsWhatIsLeft()
    {
        var tracker = new CommitmentTracker();
        Allocate(tracker, "r1", Day(2025, 2, 1), Azure, 100, "12.29", hours: 100);      // 122,900.00
        Allocate(tracker, "r2", Day(2025, 12, 1), Azure, 1_000, "10.00", hours: 70);    // 700,000.00
        Allocate(tracker, "r3", Day(2026, 2, 1), Azure, 1_000, "10.00", hours: 70);     // after the deadline: not counted

        var progress = Assert.Single(tracker.Progress(CommitmentBook, Day(2026, 6, 1)));

        // 122,900.00 + 700,000.00 = 822,900.00; nothing left to project: short by 177,100.00.
        Assert.Equal(Usd(822_900.00m), progress.Spent);
        Assert.Equal(Usd(822_900.00m), progress.ProjectedSpend);
        Assert.Equal(Usd(177_100.00m), progress.ProjectedShortfall);
        Assert.Equal(Usd(177_100.00m), progress.Remaining);
        Assert.Equal(0.8229m, progress.Fraction);
    }

    [Fact]
    public void Progress_CommitmentMet_IsCompleteWithNoShortfall()
    {
        var tracker = new CommitmentTracker();
        Allocate(tracker, "r1", Day(2025, 6, 1), Azure, 10_000, "12.00", hours: 10);    // 1,200,000.00

        var progress = Assert.Single(tracker.Progress(CommitmentBook, Day(2025, 7, 1)));

        Assert.Equal((Usd(1_200_000.00m), Usd(0m), 1m, Usd(0m)), (progress.Spent, progress.Remaining, progress.Fraction, progress.ProjectedShortfall));
    }

    [Fact]
    public void Progress_BeforeTheAgreementTakesEffect_ReportsNothing()
    {
        Assert.Empty(new CommitmentTracker().Progress(CommitmentBook, Day(2024, 12, 31)));
    }

    // Regression (issue 5): spend was per provider only, so another customer's Azure spend counted.
    [Fact]
    public void Progress_AnotherCustomersSpendWithTheProvider_IsNotCounted()
    {
        var tracker = new CommitmentTracker();
        Allocate(tracker, "r1", Day(2025, 2, 1), Azure, 100, "12.29", hours: 100);                          // 122,900.00
        Allocate(tracker, "other-1", Day(2025, 2, 1), Azure, 10_000, "12.29", hours: 100, customer: "anthropic");

        var progress = Assert.Single(tracker.Progress(CommitmentBook, Day(2025, 4, 1)));

        Assert.Equal(Usd(122_900.00m), progress.Spent);
    }

    // Regression (issue 5): both releases were priced at the last allocation (9.00), leaving 329.00 spent.
    [Fact]
    public void Progress_CancelledRequestWithTwoAllocationsFromOneProvider_GivesBackEachAtItsOwnPrice()
    {
        var tracker = new CommitmentTracker();
        // The holder takes 10 GPUs at 12.29 on its first offer, then matches the market at 9.00 for 10 more:
        // 10 x 12.29 x 10 h = 1,229.00 and 10 x 9.00 x 10 h = 900.00.
        Submit(tracker, "r1", Day(2025, 2, 1), hours: 10);
        tracker.Apply(Allocation("r1", Day(2025, 2, 2), Azure, 10, "12.29", AllocationSource.Offer));
        tracker.Apply(Allocation("r1", Day(2025, 2, 3), Azure, 10, "9.00", AllocationSource.Match));
        Cancel(tracker, "r1", Day(2025, 2, 4), (Azure, 10), (Azure, 10));

        var progress = Assert.Single(tracker.Progress(CommitmentBook, Day(2025, 4, 1)));

        Assert.Equal(Usd(0m), progress.Spent);
    }

    [Fact]
    public void Progress_TheOctober2025Example_TracksTheAzureCommitmentFromTheAmendment()
    {
        var book = new ContractBook([Example("microsoft-openai-2025-10.yaml")]);
        var tracker = new CommitmentTracker();
        // 16,384 H100 x 12.29 x 720 h (30 days) = 11,796,480 GPU-hours x 12.29 = 144,978,739.20
        Allocate(tracker, "r1", Day(2025, 10, 30), Azure, 16_384, "12.29", hours: 720);

        Assert.Empty(tracker.Progress(book, Day(2025, 10, 27)));    // version 1 has no commitment
        var progress = Assert.Single(tracker.Progress(book, Day(2025, 11, 1)));

        // From 2025-10-28 (version 2 takes effect) to the deadline 2032-12-31: 7 years with 2 leap days
        // (2,557 days) + 2025-10-28..2025-12-31 (64 days) = 2,621 days; 4 of them have passed.
        // 144,978,739.20 x 2,621/4 = 144,978,739.20 x 655.25 = 94,997,318,860.80;
        // short of 250,000,000,000.00 by 155,002,681,139.20.
        Assert.Equal(Usd(250_000_000_000m), progress.Amount);
        Assert.Equal(Usd(144_978_739.20m), progress.Spent);
        Assert.Equal(Usd(94_997_318_860.80m), progress.ProjectedSpend);
        Assert.Equal(Usd(155_002_681_139.20m), progress.ProjectedShortfall);
        Assert.Equal(0.0006m, progress.Fraction);        // 144,978,739.20 / 250e9 = 0.00057991... -> 0.0006
    }

    private static void Allocate(CommitmentTracker tracker, string request, DateTimeOffset at, ProviderId provider, int gpus, string price, int hours, string customer = Customer)
    {
        Submit(tracker, request, at.AddDays(-1), hours, customer);
        tracker.Apply(Allocation(request, at, provider, gpus, price, AllocationSource.Market));
    }

    private static void Submit(CommitmentTracker tracker, string request, DateTimeOffset at, int hours, string customer = Customer) =>
        tracker.Apply(new RequestSubmitted(new RequestId(request), at, new CapacityRequest
        {
            Id = new RequestId(request),
            Customer = customer,
            WorkloadClass = "training",
            Accelerator = "H100",
            Gpus = new GpuCount(1),
            EarliestStart = at.AddDays(7),
            DurationHours = hours,
            MaxPrice = PricePerGpuHour.Parse("20.00 USD"),
            NeededBy = at.AddDays(5),
        }));

    private static AllocationMade Allocation(string request, DateTimeOffset at, ProviderId provider, int gpus, string price, AllocationSource source) =>
        new(new RequestId(request), at, provider, new GpuCount(gpus), PricePerGpuHour.Parse($"{price} USD"), at.AddDays(7), source, source == AllocationSource.Market ? 1 : null);

    private static void Cancel(CommitmentTracker tracker, string request, DateTimeOffset at, params (ProviderId Provider, int Gpus)[] released)
    {
        foreach (var (provider, gpus) in released)
        {
            tracker.Apply(new AllocationReleased(new RequestId(request), at, provider, new GpuCount(gpus)));
        }

        tracker.Apply(new RequestClosed(new RequestId(request), at, RequestOutcome.Cancelled, GpuCount.None, new GpuCount(1), "cancelled by the customer"));
    }
}
