using System.Net;
using ComputeBroker.Server.Service;
using ComputeBroker.Server.Tests.Infrastructure;

namespace ComputeBroker.Server.Tests.Api;

/// <summary>
/// What providers see and answer over real HTTP: <c>/v1/providers</c>, <c>/v1/offers</c>, <c>/v1/quote-requests</c>,
/// <c>/v1/reservations</c>. The providers are webhook providers nobody else answers, so every answer here is the test's.
/// </summary>
public sealed class ProviderEndpointTests(ApiBroker broker) : IClassFixture<ApiBroker>
{
    [Fact]
    public async Task Providers_ListsTheCatalogWithPrices()
    {
        var providers = await broker.Admin.GetAsync("/v1/providers").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(["azure", "coreweave", "oracle"], providers.Items().Select(p => p.Str("id")));
        Assert.Equal("webhook", providers.Items().First().Str("connector"));
        Assert.Equal("12.29 USD", providers.Items().First().GetProperty("prices")[0].Str("price"));
    }

    [Fact]
    public async Task Offers_OpenOfferToTheHolder_IsListedWithRespondBy()
    {
        var (request, offer) = await broker.OpenOfferAsync();

        var offers = await broker.Azure.GetAsync("/v1/offers").ExpectAsync(HttpStatusCode.OK);

        var listed = offers.Items().Single(o => o.Str("id") == offer);
        Assert.Equal(request, listed.Str("requestId"));
        Assert.Equal("first-refusal", listed.Str("kind"));
        Assert.Equal("open", listed.Str("state"));
        Assert.Equal("12.29 USD", listed.Str("price"));
        // The agreement's response window (P5D) from the submission instant.
        Assert.Equal(listed.GetProperty("offeredAt").GetDateTimeOffset().AddDays(5), listed.GetProperty("respondBy").GetDateTimeOffset());
    }

    [Fact]
    public async Task Offers_AcceptedWhole_PlacesTheRequestWithTheHolder()
    {
        var (request, offer) = await broker.OpenOfferAsync();

        var accepted = await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/accept", new { }).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("accepted", accepted.Str("state"));
        Assert.Equal(1024, accepted.Int("acceptedGpus"));
        var shown = (await broker.ShowAsync(request)).GetProperty("request");
        Assert.Equal("placed", shown.Str("state"));
        Assert.Equal("azure", shown.GetProperty("allocations")[0].Str("provider"));
        Assert.Equal("offer", shown.GetProperty("allocations")[0].Str("source"));
    }

    [Fact]
    public async Task Offers_AcceptedInPart_SendsTheRestToTheMarket()
    {
        var (request, offer) = await broker.OpenOfferAsync();

        var accepted = await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/accept", new { gpus = 256 }).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(256, accepted.Int("acceptedGpus"));
        var shown = (await broker.ShowAsync(request)).GetProperty("request");
        Assert.Equal("awaiting-quotes", shown.Str("state"));
        Assert.Equal(256, shown.Int("allocated"));
        var quotes = await broker.Oracle.GetAsync("/v1/quote-requests").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(768, quotes.Items().Single(q => q.Str("requestId") == request).Int("gpus"));
    }

    [Fact]
    public async Task Offers_Declined_RecordsTheReason_AndAsksTheMarketBelowTheHolderPrice()
    {
        var (request, offer) = await broker.OpenOfferAsync();

        var declined = await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/decline", new { reason = "maintenance" }).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("declined", declined.Str("state"));
        Assert.Equal("maintenance", declined.Str("reason"));
        var quotes = await broker.Admin.GetAsync("/v1/quote-requests").ExpectAsync(HttpStatusCode.OK);
        var asked = quotes.Items().Where(q => q.Str("requestId") == request).ToArray();
        Assert.Equal(["coreweave", "oracle"], asked.Select(q => q.Str("provider")).Order());
        Assert.All(asked, q => Assert.Equal("12.29 USD", q.Str("ceiling")));
    }

    [Fact]
    public async Task Offers_AcceptMoreThanOffered_Is400Problem_NamingGpus()
    {
        var (_, offer) = await broker.OpenOfferAsync(gpus: 64);

        await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/accept", new { gpus = 65 }).ExpectProblemAsync(HttpStatusCode.BadRequest, "gpus");
    }

    [Theory]
    [InlineData("""{"gpus": 0}""")]
    [InlineData("""{"gpus": "all"}""")]
    [InlineData("""{"gpus": 1.5}""")]
    public async Task Offers_AcceptWithBadGpus_Is400Problem_NamingGpus(string body)
    {
        var (_, offer) = await broker.OpenOfferAsync();

        await broker.Azure.PostRawAsync($"/v1/offers/{offer}/accept", body).ExpectProblemAsync(HttpStatusCode.BadRequest, "gpus");
    }

    [Fact]
    public async Task Offers_AcceptPartOfAnAllOrNothingRequest_Is400Problem_NamingGpus()
    {
        var request = (await broker.SubmitAsync(allOrNothing: true)).Str("id");
        var offer = (await broker.Azure.GetAsync("/v1/offers").ExpectAsync(HttpStatusCode.OK)).Items().Single(o => o.Str("requestId") == request).Str("id");

        await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/accept", new { gpus = 10 }).ExpectProblemAsync(HttpStatusCode.BadRequest, "gpus");
    }

    [Fact]
    public async Task Offers_AnsweredTwice_SecondAnswerIs409Problem()
    {
        var (_, offer) = await broker.OpenOfferAsync();
        await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/decline", new { }).ExpectAsync(HttpStatusCode.OK);

        await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/accept", new { }).ExpectProblemAsync(HttpStatusCode.Conflict);
        await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/decline", new { }).ExpectProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Offers_UnknownOffer_Is404Problem()
    {
        await broker.Azure.PostJsonAsync("/v1/offers/no-such-offer/accept", new { }).ExpectProblemAsync(HttpStatusCode.NotFound);
        await broker.Azure.PostJsonAsync("/v1/offers/no-such-offer/decline", new { }).ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Offers_Answered_AreTheLastMadeFirst_CutToTheLimit_WithoutTheOpenOnes()
    {
        var (_, first) = await broker.OpenOfferAsync();
        var (_, second) = await broker.OpenOfferAsync();
        var (_, third) = await broker.OpenOfferAsync();
        var (_, stillOpen) = await broker.OpenOfferAsync();
        foreach (var offer in new[] { third, first, second })
        {
            await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/decline", new { reason = "full" }).ExpectAsync(HttpStatusCode.OK);
        }

        var answered = await broker.Azure.GetAsync("/v1/offers?state=answered&limit=2").ExpectAsync(HttpStatusCode.OK);
        var open = await broker.Azure.GetAsync("/v1/offers").ExpectAsync(HttpStatusCode.OK);
        var openCut = await broker.Azure.GetAsync("/v1/offers?limit=1").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal([third, second], answered.Items().Select(o => o.Str("id")));
        Assert.All(answered.Items(), o => Assert.Equal("declined", o.Str("state")));
        Assert.Contains(open.Items(), o => o.Str("id") == stillOpen);
        Assert.DoesNotContain(open.Items(), o => o.Str("id") == first || o.Str("id") == second || o.Str("id") == third);
        Assert.Equal([open.Items().First().Str("id")], openCut.Items().Select(o => o.Str("id")));
    }

    [Theory]
    [InlineData("/v1/offers?limit=0")]
    [InlineData("/v1/offers?state=answered&limit=1001")]
    [InlineData("/v1/quote-requests?limit=ten")]
    [InlineData("/v1/reservations?limit=-1")]
    [InlineData("/v1/reservations?limit=2.5")]
    public async Task Lists_WithABadLimit_Are400Problem_NamingLimit(string path)
    {
        await broker.Azure.GetAsync(path).ExpectProblemAsync(HttpStatusCode.BadRequest, "limit");
    }

    [Theory]
    [InlineData("/v1/offers?state=done")]
    [InlineData("/v1/offers?state=Open")]
    [InlineData("/v1/quote-requests?state=answered")]
    [InlineData("/v1/quote-requests?state=confirmed")]
    [InlineData("/v1/reservations?state=quoted")]
    public async Task Lists_WithAStateNoItemCanBeIn_Are400Problem_NamingState(string path)
    {
        // An unknown state used to give an empty list, as if nothing were in it.
        var problem = await broker.Azure.GetAsync(path).ExpectProblemAsync(HttpStatusCode.BadRequest, "state");

        Assert.Contains("all", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lists_TakeEveryStateTheirItemsCanBeIn_AndAll()
    {
        // One of each kind of item, at least, whatever ran before.
        await broker.OpenOfferAsync();
        await broker.OpenQuoteRequestAsync();
        await broker.OpenReservationAsync();
        foreach (var (path, states) in new[] { ("/v1/offers", ItemStates.Offer.Append("answered")), ("/v1/quote-requests", ItemStates.QuoteRequest), ("/v1/reservations", ItemStates.Reservation) })
        {
            foreach (var state in states.Append("all"))
            {
                await broker.Azure.GetAsync($"{path}?state={state}").ExpectAsync(HttpStatusCode.OK);
            }

            // And every item listed is in one of them.
            var all = await broker.Admin.GetAsync($"{path}?state=all").ExpectAsync(HttpStatusCode.OK);
            Assert.NotEmpty(all.Items());
            Assert.All(all.Items(), item => Assert.Contains(item.Str("state"), states));
        }
    }

    [Fact]
    public async Task Offers_ListedByAProvider_AreOnlyItsOwn_WhateverTheFilterSays()
    {
        await broker.OpenOfferAsync();

        var forOracle = await broker.Oracle.GetAsync("/v1/offers?provider=azure&state=all").ExpectAsync(HttpStatusCode.OK);
        var forAuditor = await broker.Auditor.GetAsync("/v1/offers?state=all").ExpectAsync(HttpStatusCode.OK);

        Assert.Empty(forOracle.Items());
        Assert.Contains(forAuditor.Items(), o => o.Str("provider") == "azure");
    }

    [Fact]
    public async Task Quote_FromAnAskedProvider_IsRecorded_AndASecondAnswerIs409()
    {
        var request = await broker.OpenQuoteRequestAsync();

        var quoted = await broker.Oracle.PostJsonAsync($"/v1/quote-requests/{request}/quote", new { gpus = 512, price = "10.00 USD" }).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("quoted", quoted.Str("state"));
        await broker.Oracle.PostJsonAsync($"/v1/quote-requests/{request}/quote", new { gpus = 512, price = "9.00 USD" }).ExpectProblemAsync(HttpStatusCode.Conflict);
        await broker.Oracle.PostJsonAsync($"/v1/quote-requests/{request}/decline", new { }).ExpectProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Quote_Declined_IsRecordedWithItsState()
    {
        var request = await broker.OpenQuoteRequestAsync();

        var declined = await broker.CoreWeave.PostJsonAsync($"/v1/quote-requests/{request}/decline", new { reason = "sold out" }).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("declined", declined.Str("state"));
    }

    [Fact]
    public async Task Quote_ForARequestTheProviderWasNotAskedAbout_Is404Problem()
    {
        var (request, _) = await broker.OpenOfferAsync();

        await broker.Oracle.PostJsonAsync($"/v1/quote-requests/{request}/quote", new { gpus = 8, price = "10.00 USD" }).ExpectProblemAsync(HttpStatusCode.NotFound);
        await broker.Oracle.PostJsonAsync("/v1/quote-requests/no-such-request/quote", new { gpus = 8, price = "10.00 USD" }).ExpectProblemAsync(HttpStatusCode.NotFound);
        await broker.Oracle.PostJsonAsync("/v1/quote-requests/no-such-request/decline", new { }).ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"gpus": 8, "price": "10.00 EUR"}""", "price")]
    [InlineData("""{"gpus": 8, "price": "ten dollars"}""", "price")]
    [InlineData("""{"gpus": 8, "price": 10}""", "price")]
    [InlineData("""{"gpus": 8, "price": "0.00 USD"}""", "price")]
    [InlineData("""{"price": "10.00 USD"}""", "gpus")]
    [InlineData("""{"gpus": -3, "price": "10.00 USD"}""", "gpus")]
    [InlineData("""{"gpus": 8, "price": "10.00 USD", "start": "soon"}""", "start")]
    [InlineData("""{"gpus": 8, "price": "10.00 USD", "validUntil": "2020-01-01T00:00:00Z"}""", "validUntil")]
    [InlineData("""{"gpus": 8, "price": "10.00 USD", "discount": "5%"}""", "discount")]
    public async Task Quote_WithABadField_Is400Problem_NamingTheField(string body, string field)
    {
        var request = await broker.OpenQuoteRequestAsync();

        await broker.Oracle.PostRawAsync($"/v1/quote-requests/{request}/quote", body).ExpectProblemAsync(HttpStatusCode.BadRequest, field);

        var quotes = await broker.Oracle.GetAsync("/v1/quote-requests").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("open", quotes.Items().Single(q => q.Str("requestId") == request).Str("state"));
    }

    [Fact]
    public async Task QuoteRequests_ListedByAProvider_AreOnlyItsOwn()
    {
        var request = await broker.OpenQuoteRequestAsync();

        var forOracle = await broker.Oracle.GetAsync("/v1/quote-requests?state=all&provider=coreweave").ExpectAsync(HttpStatusCode.OK);
        var forAzure = await broker.Azure.GetAsync("/v1/quote-requests?state=all").ExpectAsync(HttpStatusCode.OK);

        Assert.All(forOracle.Items(), q => Assert.Equal("oracle", q.Str("provider")));
        Assert.Contains(forOracle.Items(), q => q.Str("requestId") == request);
        Assert.DoesNotContain(forAzure.Items(), q => q.Str("requestId") == request);
    }

    [Fact]
    public async Task Reservation_Confirmed_AllocatesTheAward_AndPlacesTheRequest()
    {
        var (request, award) = await broker.OpenReservationAsync();

        var confirmed = await broker.Oracle.PostJsonAsync($"/v1/reservations/{request}/{award}/confirm", new { }).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("confirmed", confirmed.Str("state"));
        var shown = (await broker.ShowAsync(request)).GetProperty("request");
        Assert.Equal("placed", shown.Str("state"));
        Assert.Equal("market", shown.GetProperty("allocations")[0].Str("source"));
        Assert.Equal("10.00 USD", shown.GetProperty("allocations")[0].Str("price"));
    }

    [Fact]
    public async Task Reservation_Failed_WithNoOtherQuote_LeavesTheRequestUnfulfilled()
    {
        var (request, award) = await broker.OpenReservationAsync();

        var failed = await broker.Oracle.PostJsonAsync($"/v1/reservations/{request}/{award}/fail", new { reason = "capacity gone" }).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("failed", failed.Str("state"));
        var shown = (await broker.ShowAsync(request)).GetProperty("request");
        Assert.Equal("unfulfilled", shown.Str("state"));
        Assert.Equal(1024, shown.Int("unfulfilled"));
    }

    [Fact]
    public async Task Reservation_AnsweredAfterTheRequestClosed_Is409_AndAnUnknownAwardIs404()
    {
        var (request, award) = await broker.OpenReservationAsync();
        await broker.Oracle.PostJsonAsync($"/v1/reservations/{request}/{award}/confirm", new { }).ExpectAsync(HttpStatusCode.OK);

        await broker.Oracle.PostJsonAsync($"/v1/reservations/{request}/{award}/confirm", new { }).ExpectProblemAsync(HttpStatusCode.Conflict);
        var (other, _) = await broker.OpenReservationAsync();
        await broker.Oracle.PostJsonAsync($"/v1/reservations/{other}/99/confirm", new { }).ExpectProblemAsync(HttpStatusCode.NotFound);
        await broker.Oracle.PostJsonAsync($"/v1/reservations/{other}/not-a-number/confirm", new { }).ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Reservations_ListedByAProvider_AreOnlyItsOwn()
    {
        var (request, award) = await broker.OpenReservationAsync();

        var forOracle = await broker.Oracle.GetAsync("/v1/reservations").ExpectAsync(HttpStatusCode.OK);
        var forAzure = await broker.Azure.GetAsync("/v1/reservations?state=all").ExpectAsync(HttpStatusCode.OK);

        Assert.Contains(forOracle.Items(), r => r.Str("requestId") == request && r.Int("award") == award && r.Str("state") == "open");
        Assert.All(forOracle.Items(), r => Assert.Equal("oracle", r.Str("provider")));
        Assert.Empty(forAzure.Items());
    }

    [Fact]
    public async Task OpenLists_ReadFromTheOpenRequests_ListExactlyTheOpenItemsOfTheWholeHistory()
    {
        // Some of every kind open, some answered, some withdrawn by a cancel; the open lists (read from the open requests)
        // must be the whole history's open items, in the same order.
        var (confirmedRequest, confirmedAward) = await broker.OpenReservationAsync();
        await broker.Oracle.PostJsonAsync($"/v1/reservations/{confirmedRequest}/{confirmedAward}/confirm", new { }).ExpectAsync(HttpStatusCode.OK);
        await broker.OpenReservationAsync();
        var (cancelled, _) = await broker.OpenOfferAsync();
        await broker.Admin.PostAsync($"/v1/requests/{cancelled}/cancel", null).ExpectAsync(HttpStatusCode.OK);
        var (_, declined) = await broker.OpenOfferAsync();
        await broker.Azure.PostJsonAsync($"/v1/offers/{declined}/decline", new { }).ExpectAsync(HttpStatusCode.OK);
        await broker.OpenOfferAsync();

        foreach (var list in new[] { "/v1/offers", "/v1/quote-requests", "/v1/reservations" })
        {
            var open = await broker.Admin.GetAsync(list).ExpectAsync(HttpStatusCode.OK);
            var all = await broker.Admin.GetAsync($"{list}?state=all").ExpectAsync(HttpStatusCode.OK);

            var expected = all.Items().Where(i => i.Str("state") == "open").Select(i => i.GetRawText()).ToArray();
            Assert.NotEmpty(expected);
            Assert.Equal(expected, open.Items().Select(i => i.GetRawText()));
            Assert.Contains(all.Items(), i => i.Str("state") != "open");
        }
    }

    [Fact]
    public async Task PlacementStats_FollowEveryAllocationAndCancellation_BetweenTwoReads()
    {
        // The series is built once per change and served as built until the next: each read must still see every change.
        async Task<long> AzureGpus()
        {
            var stats = await broker.Admin.GetAsync("/v1/stats/placements?bucket=day").ExpectAsync(HttpStatusCode.OK);
            return stats.GetProperty("totals").TryGetProperty("azure", out var gpus) ? gpus.GetInt64() : 0;
        }

        var before = await AzureGpus();
        Assert.Equal(before, await AzureGpus());
        var (request, offer) = await broker.OpenOfferAsync();
        await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/accept", new { gpus = 256 }).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(before + 256, await AzureGpus());
        Assert.Equal(before + 256, await AzureGpus());

        await broker.Admin.PostAsync($"/v1/requests/{request}/cancel", null).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(before, await AzureGpus());
    }
}
