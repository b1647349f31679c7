using System.Net;
using System.Text.Json;
using ComputeBroker.Server.Service;
using ComputeBroker.Server.Tests.Infrastructure;

namespace ComputeBroker.Server.Tests.Api;

/// <summary><c>/v1/requests</c> over real HTTP: submit, list with filters and pages, show with its timeline, cancel.</summary>
public sealed class RequestEndpointTests(ApiBroker broker) : IClassFixture<ApiBroker>
{
    [Fact]
    public async Task Submit_ValidRequest_Is201_WithLocation_AndStartsTheFirstRefusal()
    {
        var id = RequestBodies.NewId("submit");
        var response = await broker.OpenAi.PostJsonAsync("/v1/requests", RequestBodies.Capacity(broker.Now, id, gpus: 512));

        var created = await response.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal($"/v1/requests/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(id, created.Str("id"));
        Assert.Equal("openai", created.Str("customer"));
        Assert.Equal("awaiting-offer", created.Str("state"));
        Assert.Equal("first-refusal", created.Str("route"));
        Assert.Equal("azure", created.Str("holder"));
        Assert.Equal(512, created.Int("gpus"));
        Assert.Equal("12.50 USD", created.Str("maxPrice"));
    }

    [Fact]
    public async Task Submit_ABodyInUtf8WithAByteOrderMark_SentInSmallPieces_IsReadAsTheSameRequest()
    {
        // As some editors and clients save it: the mark, then the JSON. Sent seven bytes at a time, so that the server
        // reads it in several pieces.
        var id = RequestBodies.NewId("bom");
        var json = JsonSerializer.Serialize(RequestBodies.Capacity(broker.Now, id, gpus: 512));
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(json)];
        using var content = new StreamContent(new ChunkedStream(bytes, chunk: 7));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        var created = await broker.OpenAi.PostAsync("/v1/requests", content).ExpectAsync(HttpStatusCode.Created);

        Assert.Equal(id, created.Str("id"));
        Assert.Equal(512, created.Int("gpus"));
    }

    [Fact]
    public async Task Submit_WithoutId_GetsAnIdFromTheServer()
    {
        var body = RequestBodies.Capacity(broker.Now);

        var created = await broker.OpenAi.PostJsonAsync("/v1/requests", body).ExpectAsync(HttpStatusCode.Created);

        Assert.StartsWith("r-", created.Str("id"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_ExistingId_Is409Problem_AndChangesNothing()
    {
        var id = RequestBodies.NewId("dup");
        await broker.OpenAi.PostJsonAsync("/v1/requests", RequestBodies.Capacity(broker.Now, id)).ExpectAsync(HttpStatusCode.Created);
        var before = await broker.ShowAsync(id);

        await broker.OpenAi.PostJsonAsync("/v1/requests", RequestBodies.Capacity(broker.Now, id, gpus: 8)).ExpectProblemAsync(HttpStatusCode.Conflict);

        var after = await broker.ShowAsync(id);
        Assert.Equal(before.GetProperty("timeline").GetArrayLength(), after.GetProperty("timeline").GetArrayLength());
        Assert.Equal(1024, after.GetProperty("request").Int("gpus"));
    }

    [Fact]
    public async Task Submit_ApiWorkload_GoesOnlyToTheExclusiveProvider()
    {
        var created = await broker.SubmitAsync(workloadClass: "api");

        Assert.Equal("exclusive", created.Str("route"));
        var offers = await broker.Azure.GetAsync("/v1/offers").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("exclusive", offers.Items().Single(o => o.Str("requestId") == created.Str("id")).Str("kind"));
    }

    [Fact]
    public async Task Show_ReturnsTheRequestWithItsTimeline_InVersionOrder()
    {
        var id = (await broker.SubmitAsync()).Str("id");

        var shown = await broker.ShowAsync(id);

        Assert.Equal(id, shown.GetProperty("request").Str("id"));
        var timeline = shown.GetProperty("timeline").EnumerateArray().ToArray();
        Assert.Equal(["request.submitted", "clauses.resolved", "offer.made"], timeline.Select(t => t.Str("type")));
        Assert.Equal([0, 1, 2], timeline.Select(t => t.Int("version")));
        Assert.All(timeline, t => Assert.False(string.IsNullOrEmpty(t.Str("what"))));
        Assert.Equal("azure", timeline[2].GetProperty("event").Str("provider"));
    }

    [Fact]
    public async Task Show_UnknownRequest_Is404Problem()
    {
        await broker.Admin.GetAsync("/v1/requests/no-such-request").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task List_FiltersByCustomerAndState_NewestFirst()
    {
        var customer = $"list{Guid.NewGuid():N}"[..14];
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await broker.SubmitAsync(customer: customer)).Str("id"));
        }

        var page = await broker.Admin.GetAsync($"/v1/requests?customer={customer}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(ids.AsEnumerable().Reverse(), page.Items().Select(r => r.Str("id")));
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);

        // No agreement for this customer: the open market is asked for quotes at once.
        var quoting = await broker.Admin.GetAsync($"/v1/requests?customer={customer}&state=awaiting-quotes").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(3, quoting.Items().Count());
        var offering = await broker.Admin.GetAsync($"/v1/requests?customer={customer}&state=awaiting-offer").ExpectAsync(HttpStatusCode.OK);
        Assert.Empty(offering.Items());
    }

    [Fact]
    public async Task List_FiltersByAllocatedProvider()
    {
        var (request, award) = await broker.OpenReservationAsync();
        await broker.Oracle.PostJsonAsync($"/v1/reservations/{request}/{award}/confirm", new { }).ExpectAsync(HttpStatusCode.OK);

        var all = new List<string>();
        string? cursor = null;
        do
        {
            var page = await broker.Admin.GetAsync($"/v1/requests?provider=oracle&limit=500{(cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor))}").ExpectAsync(HttpStatusCode.OK);
            all.AddRange(page.Items().Select(r => r.Str("id")));
            Assert.All(page.Items(), r => Assert.Contains(r.GetProperty("allocations").EnumerateArray(), a => a.Str("provider") == "oracle"));
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.String ? page.Str("nextCursor") : null;
        }
        while (cursor is not null);

        Assert.Contains(request, all);
    }

    [Fact]
    public async Task List_PagesWithCursor_WithoutGapsOrRepeats()
    {
        var customer = $"page{Guid.NewGuid():N}"[..14];
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await broker.SubmitAsync(customer: customer)).Str("id"));
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = $"/v1/requests?customer={customer}&limit=2" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await broker.Admin.GetAsync(url).ExpectAsync(HttpStatusCode.OK);
            Assert.True(page.Items().Count() <= 2);
            seen.AddRange(page.Items().Select(r => r.Str("id")));
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.String ? page.Str("nextCursor") : null;
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Null(cursor);
        Assert.Equal(ids.AsEnumerable().Reverse(), seen);
    }

    [Fact]
    public async Task List_ForOneCustomer_PagesItsOwnRequestsAmongOthers_AndItsCursorsHoldForTheWholeList()
    {
        var (a, b) = ($"ca{Guid.NewGuid():N}"[..14], $"cb{Guid.NewGuid():N}"[..14]);
        var ids = new List<(string Customer, string Id)>();
        foreach (var customer in new[] { a, b, a, b, a, b })
        {
            ids.Add((customer, (await broker.SubmitAsync(customer: customer)).Str("id")));
        }

        var first = await broker.Admin.GetAsync($"/v1/requests?customer={a}&limit=2").ExpectAsync(HttpStatusCode.OK);
        var cursor = first.Str("nextCursor");
        var second = await broker.Admin.GetAsync($"/v1/requests?customer={a}&limit=2&cursor={Uri.EscapeDataString(cursor)}").ExpectAsync(HttpStatusCode.OK);
        var everyone = await broker.Admin.GetAsync($"/v1/requests?limit=2&cursor={Uri.EscapeDataString(cursor)}").ExpectAsync(HttpStatusCode.OK);

        var ofA = ids.Where(i => i.Customer == a).Select(i => i.Id).Reverse().ToArray();
        Assert.Equal(ofA[..2], first.Items().Select(r => r.Str("id")));
        Assert.Equal(ofA[2..], second.Items().Select(r => r.Str("id")));
        // The cursor after a's second newest request: the whole list goes on from there, b's request included.
        Assert.Equal([ids[1].Id, ids[0].Id], everyone.Items().Select(r => r.Str("id")));
    }

    [Theory]
    [InlineData("not-a-cursor!")]
    [InlineData("AAAA")]
    [InlineData("%00%01")]
    public async Task List_WithACursorTheServerDidNotGive_Is400Problem_NamingCursor(string cursor)
    {
        await broker.Admin.GetAsync($"/v1/requests?cursor={cursor}").ExpectProblemAsync(HttpStatusCode.BadRequest, "cursor");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("501")]
    [InlineData("-1")]
    [InlineData("ten")]
    [InlineData("1e2")]
    [InlineData("99999999999999999999")]
    public async Task List_WithABadLimit_Is400Problem_NamingLimit(string limit)
    {
        await broker.Admin.GetAsync($"/v1/requests?limit={limit}").ExpectProblemAsync(HttpStatusCode.BadRequest, "limit");
    }

    [Theory]
    [InlineData("done")]
    [InlineData("open")]
    [InlineData("Placed")]
    public async Task List_WithAStateNoRequestCanBeIn_Is400Problem_NamingState(string state)
    {
        // An unknown state used to give an empty list, as if no request were in it.
        var problem = await broker.Admin.GetAsync($"/v1/requests?state={state}").ExpectProblemAsync(HttpStatusCode.BadRequest, "state");

        Assert.Contains("awaiting-offer", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_TakesEveryStateARequestCanBeIn()
    {
        foreach (var state in RequestView.States)
        {
            await broker.Admin.GetAsync($"/v1/requests?state={state}").ExpectAsync(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task List_ForACustomerKey_ShowsOnlyItsOwnRequests_WhateverTheFilterSays()
    {
        var mine = (await broker.SubmitAsync(broker.OpenAi)).Str("id");
        var theirs = (await broker.SubmitAsync(broker.Other)).Str("id");

        var page = await broker.OpenAi.GetAsync("/v1/requests?customer=other&limit=500").ExpectAsync(HttpStatusCode.OK);

        Assert.All(page.Items(), r => Assert.Equal("openai", r.Str("customer")));
        Assert.Contains(mine, page.Items().Select(r => r.Str("id")));
        Assert.DoesNotContain(theirs, page.Items().Select(r => r.Str("id")));
    }

    [Fact]
    public async Task Cancel_OpenRequest_ClosesItOnce_AndWithdrawsItsOffer()
    {
        var (request, offer) = await broker.OpenOfferAsync();

        var cancelled = await broker.OpenAi.PostAsync($"/v1/requests/{request}/cancel", null).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("cancelled", cancelled.Str("state"));
        var shown = await broker.ShowAsync(request);
        Assert.Single(shown.GetProperty("timeline").EnumerateArray(), t => t.Str("type") == "request.closed");
        var offers = await broker.Azure.GetAsync("/v1/offers?state=all").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("withdrawn", offers.Items().Single(o => o.Str("id") == offer).Str("state"));
        await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/accept", new { }).ExpectProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Cancel_ClosedRequest_Is409Problem()
    {
        var request = (await broker.SubmitAsync()).Str("id");
        await broker.Admin.PostAsync($"/v1/requests/{request}/cancel", null).ExpectAsync(HttpStatusCode.OK);

        await broker.Admin.PostAsync($"/v1/requests/{request}/cancel", null).ExpectProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Cancel_UnknownRequest_Is404Problem()
    {
        await broker.Admin.PostAsync("/v1/requests/no-such-request/cancel", null).ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Cancel_PlacedRequest_Is409_AndKeepsItsAllocation()
    {
        var (request, offer) = await broker.OpenOfferAsync();
        await broker.Azure.PostJsonAsync($"/v1/offers/{offer}/accept", new { }).ExpectAsync(HttpStatusCode.OK);

        await broker.OpenAi.PostAsync($"/v1/requests/{request}/cancel", null).ExpectProblemAsync(HttpStatusCode.Conflict);

        var shown = (await broker.ShowAsync(request)).GetProperty("request");
        Assert.Equal("placed", shown.Str("state"));
        Assert.Equal(1024, shown.Int("allocated"));
    }

    [Fact]
    public async Task Overview_CountsRequestsByState()
    {
        await broker.SubmitAsync();

        var overview = await broker.Admin.GetAsync("/v1/overview").ExpectAsync(HttpStatusCode.OK);

        Assert.True(overview.GetProperty("requestsByState").GetProperty("awaiting-offer").GetInt32() >= 1);
    }

    [Fact]
    public async Task Cancel_InTheQuoteWindow_WithdrawsTheOpenQuoteRequests_AndTheOverviewCountsAgreeWithTheLists()
    {
        var quoting = await broker.OpenQuoteRequestAsync();
        var kept = await broker.OpenQuoteRequestAsync();
        var (offered, _) = await broker.OpenOfferAsync();

        await broker.OpenAi.PostAsync($"/v1/requests/{quoting}/cancel", null).ExpectAsync(HttpStatusCode.OK);

        var quotes = (await broker.Admin.GetAsync("/v1/quote-requests?state=all").ExpectAsync(HttpStatusCode.OK)).Items().ToArray();
        Assert.All(quotes.Where(q => q.Str("requestId") == quoting), q => Assert.Equal("withdrawn", q.Str("state")));
        Assert.All(quotes.Where(q => q.Str("requestId") == kept), q => Assert.Equal("open", q.Str("state")));
        var offers = (await broker.Admin.GetAsync("/v1/offers?state=all").ExpectAsync(HttpStatusCode.OK)).Items().ToArray();
        var requests = (await broker.Admin.GetAsync("/v1/requests?limit=500").ExpectAsync(HttpStatusCode.OK)).Items().ToArray();
        var overview = await broker.Admin.GetAsync("/v1/overview").ExpectAsync(HttpStatusCode.OK);

        // The overview's counts are kept as events arrive; they must equal a count over the lists.
        Assert.Equal(offers.Count(o => o.Str("state") == "open"), overview.Int("openOffers"));
        Assert.Equal(quotes.Count(q => q.Str("state") == "open"), overview.Int("openQuoteRequests"));
        var byState = overview.GetProperty("requestsByState").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.Equal(requests.GroupBy(r => r.Str("state")).ToDictionary(g => g.Key, g => g.Count()), byState);
        Assert.Contains(requests, r => r.Str("id") == offered && r.Str("state") == "awaiting-offer");
    }
}

/// <summary>A body that gives at most <c>chunk</c> bytes per read, so that the request reaches the server in pieces.</summary>
internal sealed class ChunkedStream(byte[] bytes, int chunk) : MemoryStream(bytes)
{
    public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        base.ReadAsync(buffer, offset, Math.Min(count, chunk), cancellationToken);
}
