using ComputeBroker.Domain;
using ComputeBroker.Server.Service;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Server.Tests.Service;

/// <summary>
/// The projection's request list pages the same requests, newest first, whichever index it reads: a customer's own, a
/// state's (a state few requests are in), or every request (a state many are in). Each case is checked against the
/// requests filtered one by one, page size by page size.
/// </summary>
public sealed class RequestListTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(50)]
    public void EveryStateAndCustomer_PagesExactlyItsRequests_NewestFirst(int pageSize)
    {
        var (projection, requests) = Fold(seed: 7, count: 400);

        foreach (var customer in new string?[] { null, "openai", "anthropic" })
        {
            foreach (var state in new string?[] { null, "awaiting-offer", "placed", "cancelled", "unfulfilled", "awaiting-quotes" })
            {
                foreach (var provider in new string?[] { null, "azure" })
                {
                    var expected = requests
                        .Where(r => (customer is null || r.Customer == customer) && (state is null || r.State == state)
                                    && (provider is null || r.Providers.Contains(provider)))
                        .Select(r => r.Id)
                        .Reverse()
                        .ToArray();

                    Assert.Equal(expected, PageThrough(projection, state, provider, customer, pageSize));
                }
            }
        }
    }

    [Fact]
    public void AStateFewRequestsAreIn_PagesItsOwnRequestsBelowACursorFromTheWholeList()
    {
        var (projection, requests) = Fold(seed: 11, count: 200);
        var whole = projection.Requests(null, null, null, 20);

        var open = PageThrough(projection, "awaiting-offer", null, null, 2, whole.NextCursor);

        // The whole list's cursor is a position in the log's order: the state's pages go on below it.
        var below = requests.Take(requests.Count - 20).Where(r => r.State == "awaiting-offer").Select(r => r.Id).Reverse();
        Assert.Equal(below, open);
        Assert.NotEmpty(open);
    }

    private static List<string> PageThrough(BrokerProjection projection, string? state, string? provider, string? customer, int pageSize, string? cursor = null)
    {
        var seen = new List<string>();
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = projection.Requests(state, provider, cursor, pageSize, customer);
            Assert.True(page.Items.Count <= pageSize);
            Assert.All(page.Items, r => Assert.True(state is null || r.State == state));
            seen.AddRange(page.Items.Select(r => r.Id.Value));
            if (page.NextCursor is null)
            {
                return seen;
            }

            cursor = page.NextCursor;
        }

        throw new InvalidOperationException("the list did not end");
    }

    private sealed record Folded(string Id, string Customer, string State, HashSet<string> Providers);

    /// <summary>Requests of two customers, most of them placed, some cancelled or unfulfilled, a few still waiting for an offer.</summary>
    private static (BrokerProjection Projection, List<Folded> Requests) Fold(int seed, int count)
    {
        var random = new Random(seed);
        var projection = new BrokerProjection();
        var requests = new List<Folded>();
        long position = 0;
        for (var i = 0; i < count; i++)
        {
            var id = new RequestId($"list-{i:D4}");
            var customer = random.Next(4) == 0 ? "anthropic" : "openai";
            var request = new CapacityRequest
            {
                Id = id,
                Customer = customer,
                WorkloadClass = "training",
                Accelerator = "H100",
                Gpus = new GpuCount(64),
                EarliestStart = T0.AddDays(10),
                DurationHours = 24,
                MaxPrice = PricePerGpuHour.Parse("12.00 USD"),
                NeededBy = T0.AddDays(5),
            };
            projection.Apply(++position, new RequestSubmitted(id, T0, request));
            var provider = random.Next(2) == 0 ? "azure" : "oracle";
            projection.Apply(++position, new OfferMade(id, T0, new OfferId($"list-{i:D4}-o1"), OfferKind.FirstRefusal, new ProviderId(provider),
                new GpuCount(64), PricePerGpuHour.Parse("10.00 USD"), true, T0.AddDays(1)));
            var roll = random.Next(20);
            var providers = new HashSet<string>(StringComparer.Ordinal);
            string state;
            if (roll < 2)
            {
                state = "awaiting-offer";
            }
            else if (roll < 4)
            {
                projection.Apply(++position, new RequestClosed(id, T0, RequestOutcome.Cancelled, new GpuCount(0), new GpuCount(64), "no longer needed"));
                state = "cancelled";
            }
            else if (roll < 5)
            {
                projection.Apply(++position, new RequestClosed(id, T0, RequestOutcome.Unfulfilled, new GpuCount(0), new GpuCount(64), "no capacity"));
                state = "unfulfilled";
            }
            else
            {
                projection.Apply(++position, new OfferAccepted(id, T0, new OfferId($"list-{i:D4}-o1"), new ProviderId(provider), new GpuCount(64)));
                projection.Apply(++position, new AllocationMade(id, T0, new ProviderId(provider), new GpuCount(64), PricePerGpuHour.Parse("10.00 USD"),
                    T0.AddDays(10), AllocationSource.Offer, null));
                projection.Apply(++position, new RequestClosed(id, T0, RequestOutcome.Placed, new GpuCount(64), new GpuCount(0), null));
                providers.Add(provider);
                state = "placed";
            }

            requests.Add(new Folded(id.Value, customer, state, providers));
        }

        return (projection, requests);
    }
}
