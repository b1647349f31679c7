using System.Net;
using System.Text.Json;
using ComputeBroker.Server.Tests.Infrastructure;

namespace ComputeBroker.Server.Tests.Api;

/// <summary>Idempotency keys on <c>POST /v1/requests</c>, Stripe semantics: same key and body, same answer; other body, an error.</summary>
public sealed class IdempotencyTests(ApiBroker broker) : IClassFixture<ApiBroker>
{
    [Fact]
    public async Task SameKeyAndBody_Twice_Is201BothTimes_WithTheSameRequest_AndTheReplayIsMarked()
    {
        var key = Guid.NewGuid().ToString();
        var body = JsonSerializer.Serialize(RequestBodies.Capacity(broker.Now));

        var first = await broker.OpenAi.PostRawAsync("/v1/requests", body, key);
        var second = await broker.OpenAi.PostRawAsync("/v1/requests", body, key);

        var a = await first.ExpectAsync(HttpStatusCode.Created);
        var b = await second.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal(a.Str("id"), b.Str("id"));
        Assert.Equal(a.Str("submittedAt"), b.Str("submittedAt"));
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(["true"], second.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(first.Headers.Location, second.Headers.Location);
    }

    [Fact]
    public async Task SameKey_WithAnotherBody_Is422Problem_AndCreatesNothing()
    {
        var key = Guid.NewGuid().ToString();
        var customer = Customer();
        await broker.Admin.PostJsonAsync("/v1/requests", RequestBodies.Capacity(broker.Now, customer: customer, gpus: 8), key).ExpectAsync(HttpStatusCode.Created);

        await broker.Admin.PostJsonAsync("/v1/requests", RequestBodies.Capacity(broker.Now, customer: customer, gpus: 16), key).ExpectProblemAsync(HttpStatusCode.UnprocessableEntity);

        Assert.Single(await RequestsOfAsync(customer));
    }

    [Fact]
    public async Task ConcurrentIdenticalSubmissions_WithOneKey_CreateExactlyOneRequest()
    {
        var key = Guid.NewGuid().ToString();
        var customer = Customer();
        var body = JsonSerializer.Serialize(RequestBodies.Capacity(broker.Now, customer: customer));

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(() => broker.Admin.PostRawAsync("/v1/requests", body, key))));

        var ids = new List<string>();
        foreach (var response in responses)
        {
            ids.Add((await response.ExpectAsync(HttpStatusCode.Created)).Str("id"));
        }

        Assert.Single(ids.Distinct());
        Assert.Equal(11, responses.Count(r => r.Headers.Contains("Idempotent-Replayed")));
        Assert.Equal(ids[0], Assert.Single(await RequestsOfAsync(customer)));
        var timeline = (await broker.ShowAsync(ids[0])).GetProperty("timeline");
        Assert.Single(timeline.EnumerateArray(), t => t.Str("type") == "request.submitted");
    }

    [Fact]
    public async Task SameKey_ForTwoCustomers_MakesTwoRequests()
    {
        var key = Guid.NewGuid().ToString();
        var body = JsonSerializer.Serialize(RequestBodies.Capacity(broker.Now));

        var mine = await broker.OpenAi.PostRawAsync("/v1/requests", body, key).ExpectAsync(HttpStatusCode.Created);
        var theirs = await broker.Other.PostRawAsync("/v1/requests", body, key).ExpectAsync(HttpStatusCode.Created);

        Assert.NotEqual(mine.Str("id"), theirs.Str("id"));
        Assert.Equal("other", theirs.Str("customer"));
    }

    [Fact]
    public async Task Replay_AfterTheRequestMovedOn_StillNamesTheSameRequest()
    {
        var key = Guid.NewGuid().ToString();
        var body = JsonSerializer.Serialize(RequestBodies.Capacity(broker.Now));
        var first = await broker.OpenAi.PostRawAsync("/v1/requests", body, key).ExpectAsync(HttpStatusCode.Created);
        await broker.OpenAi.PostAsync($"/v1/requests/{first.Str("id")}/cancel", null).ExpectAsync(HttpStatusCode.OK);

        var replay = await broker.OpenAi.PostRawAsync("/v1/requests", body, key);

        Assert.Equal(first.Str("id"), (await replay.ExpectAsync(HttpStatusCode.Created)).Str("id"));
        Assert.True(replay.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task RejectedSubmission_DoesNotUseUpTheKey()
    {
        var key = Guid.NewGuid().ToString();
        var customer = Customer();
        var bad = RequestBodies.Capacity(broker.Now, customer: customer);
        bad["neededBy"] = broker.Now.AddDays(-1).ToString("O");

        await broker.Admin.PostJsonAsync("/v1/requests", bad, key).ExpectProblemAsync(HttpStatusCode.BadRequest, "neededBy");
        await broker.Admin.PostJsonAsync("/v1/requests", RequestBodies.Capacity(broker.Now, customer: customer), key).ExpectAsync(HttpStatusCode.Created);

        Assert.Single(await RequestsOfAsync(customer));
    }

    [Theory]
    [InlineData(256)]
    [InlineData(10_000)]
    public async Task AnIdempotencyKeyOverTheLimit_Is400Problem_NamingTheHeader(int length)
    {
        var customer = Customer();

        await broker.Admin.PostJsonAsync("/v1/requests", RequestBodies.Capacity(broker.Now, customer: customer), new string('k', length))
            .ExpectProblemAsync(HttpStatusCode.BadRequest, "Idempotency-Key");

        Assert.Empty(await RequestsOfAsync(customer));
    }

    [Fact]
    public async Task AnIdempotencyKeyAtTheLimit_IsAccepted()
    {
        await broker.OpenAi.PostJsonAsync("/v1/requests", RequestBodies.Capacity(broker.Now), new string('k', 255)).ExpectAsync(HttpStatusCode.Created);
    }

    private static string Customer() => $"idem{Guid.NewGuid():N}"[..14];

    private async Task<List<string>> RequestsOfAsync(string customer)
    {
        var page = await broker.Admin.GetAsync($"/v1/requests?customer={customer}&limit=500").ExpectAsync(HttpStatusCode.OK);
        return page.Items().Select(r => r.Str("id")).ToList();
    }
}
