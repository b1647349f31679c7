using System.Globalization;
using ComputeBroker.Domain;
using ComputeBroker.Server.Webhooks;
using ComputeBroker.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using StandardWebhooks;

namespace ComputeBroker.Webhooks.Tests;

/// <summary>
/// The delivery worker against endpoints that fail in each way a real one does. Time is a fake clock the test
/// moves to each scheduled attempt, so the retry schedule is asserted exactly, without sleeping.
/// </summary>
public sealed class DeliveryFaultTests : IAsyncLifetime
{
    private const int Seed = 42;
    private static readonly WebhookRetryPolicy Policy = new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60), 5, TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(10));

    private readonly TempFile _file = TestSecrets.TempDatabase();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    private IEventStore _store = null!;
    private WebhookOutbox _outbox = null!;
    private TestEndpoint _endpoint = null!;
    private WebhookDelivery _delivery = null!;
    private int _requests;

    public async Task InitializeAsync()
    {
        _store = await EventStoreFactory.OpenAsync(_file.Path, CancellationToken.None);
        _outbox = await WebhookOutbox.OpenAsync(EventStoreLocation.Parse(_file.Path), Policy.MaxAttempts, CancellationToken.None);
        _endpoint = await TestEndpoint.StartAsync();
        _delivery = new WebhookDelivery(_outbox, [new WebhookEndpoint(new ProviderId("azure"), _endpoint.Url, [TestSecrets.Parse(TestSecrets.Current)])],
            new WebhookOptions { Clock = _clock, Seed = Seed, Retry = Policy, RunWorker = false });
    }

    public async Task DisposeAsync()
    {
        await _delivery.DisposeAsync();
        await _endpoint.DisposeAsync();
        await _outbox.DisposeAsync();
        await _store.DisposeAsync();
        _file.Dispose();
    }

    [Fact]
    public async Task Deliver_2xx_IsDeliveredOnceAndVerifiesWithTheStandardWebhooksPackage()
    {
        var id = await EnqueueAsync();

        Assert.Equal(1, await _delivery.RunOnceAsync(CancellationToken.None));

        var detail = await DetailAsync(id);
        Assert.Equal(DeliveryStates.Delivered, detail.Delivery.State);
        Assert.Equal(204, Assert.Single(detail.Attempts).Status);
        var received = Assert.Single(_endpoint.Received);
        new StandardWebhook(TestSecrets.Current).Verify(received.Text, Headers(received));
        Assert.Equal(detail.Delivery.WebhookId, received.Id);
        Assert.Equal(_clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), received.Timestamp);
        Assert.Equal(0, await _delivery.RunOnceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Deliver_500_RetriesOnTheExponentialFullJitterScheduleThenFails()
    {
        _endpoint.Behaviour = (_, http) => TestEndpoint.Status(http, 500);
        var id = await EnqueueAsync();
        var jitter = new Random(Seed);

        for (var attempt = 1; attempt <= Policy.MaxAttempts; attempt++)
        {
            Assert.Equal(1, await _delivery.RunOnceAsync(CancellationToken.None));
            var last = (await DetailAsync(id)).Attempts[^1];
            Assert.Equal(attempt, last.Attempt);
            Assert.Equal(500, last.Status);
            if (attempt == Policy.MaxAttempts)
            {
                Assert.Equal("failed", last.Outcome);
                Assert.Null(last.NextAttemptAt);
                break;
            }

            var expected = Policy.Backoff(attempt, jitter);
            Assert.Equal(last.AttemptedAt + expected, last.NextAttemptAt);
            Assert.True(expected < TimeSpan.FromSeconds(Math.Min(60, 10 * Math.Pow(2, attempt - 1))), "full jitter stays under the exponential ceiling");

            // Not a moment early.
            _clock.SetUtcNow(last.NextAttemptAt!.Value - TimeSpan.FromMilliseconds(1));
            Assert.Equal(0, await _delivery.RunOnceAsync(CancellationToken.None));
            _clock.SetUtcNow(last.NextAttemptAt!.Value);
        }

        var detail = await DetailAsync(id);
        Assert.Equal(DeliveryStates.Failed, detail.Delivery.State);
        Assert.Equal(Policy.MaxAttempts, _endpoint.Received.Count);
        Assert.Single(_endpoint.Received.Select(r => r.Id).Distinct());
        Assert.All(_endpoint.Received, r => new StandardWebhook(TestSecrets.Current).Verify(r.Text, Headers(r)));
    }

    [Fact]
    public async Task Deliver_429WithRetryAfter_WaitsExactlyWhatTheEndpointAsked()
    {
        _endpoint.Behaviour = (n, http) => n == 1 ? TestEndpoint.Status(http, 429, "120") : TestEndpoint.Status(http, 200);
        var id = await EnqueueAsync();

        await _delivery.RunOnceAsync(CancellationToken.None);
        var first = (await DetailAsync(id)).Attempts[0];
        _clock.Advance(TimeSpan.FromSeconds(119));
        var early = await _delivery.RunOnceAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var onTime = await _delivery.RunOnceAsync(CancellationToken.None);

        Assert.Equal(429, first.Status);
        Assert.Equal(first.AttemptedAt + TimeSpan.FromSeconds(120), first.NextAttemptAt);
        Assert.Equal(0, early);
        Assert.Equal(1, onTime);
        Assert.Equal(DeliveryStates.Delivered, (await DetailAsync(id)).Delivery.State);
    }

    [Fact]
    public async Task Deliver_410_DisablesTheEndpointAndKeepsItsWebhooksUntilEnabled()
    {
        _endpoint.Behaviour = (n, http) => n == 1 ? TestEndpoint.Status(http, 410) : TestEndpoint.Status(http, 200);
        var first = await EnqueueAsync();

        await _delivery.RunOnceAsync(CancellationToken.None);
        var second = await EnqueueAsync();
        _clock.Advance(TimeSpan.FromHours(1));
        var whileDisabled = await _delivery.RunOnceAsync(CancellationToken.None);
        var states = await _outbox.EndpointStatesAsync(CancellationToken.None);
        await _outbox.EnableEndpointAsync(new ProviderId("azure"), _clock.GetUtcNow(), CancellationToken.None);
        var afterEnable = await _delivery.RunOnceAsync(CancellationToken.None);

        Assert.Equal("endpoint-disabled", (await DetailAsync(first)).Attempts[0].Outcome);
        Assert.Equal(0, whileDisabled);
        Assert.False(Assert.Single(states).Enabled);
        Assert.Equal(2, afterEnable);
        Assert.Equal(DeliveryStates.Delivered, (await DetailAsync(first)).Delivery.State);
        Assert.Equal(DeliveryStates.Delivered, (await DetailAsync(second)).Delivery.State);
    }

    [Fact]
    public async Task Deliver_EndpointThatTimesOut_IsRecordedAndRetriedWithTheSameId()
    {
        _endpoint.Behaviour = (n, http) => n == 1 ? TestEndpoint.Hang(http) : TestEndpoint.Status(http, 202);
        var id = await EnqueueAsync();

        await _delivery.RunOnceAsync(CancellationToken.None);
        var timedOut = (await DetailAsync(id)).Attempts[0];
        _clock.SetUtcNow(timedOut.NextAttemptAt!.Value);
        await _delivery.RunOnceAsync(CancellationToken.None);

        Assert.Null(timedOut.Status);
        Assert.Contains("timed out", timedOut.Error, StringComparison.Ordinal);
        Assert.Equal("retry", timedOut.Outcome);
        Assert.Equal(DeliveryStates.Delivered, (await DetailAsync(id)).Delivery.State);
        Assert.Single(_endpoint.Received.Select(r => r.Id).Distinct());
    }

    [Fact]
    public async Task Deliver_EndpointThatDropsTheConnection_IsRecordedAndRetried()
    {
        _endpoint.Behaviour = (n, http) => n == 1 ? TestEndpoint.Drop(http) : TestEndpoint.Status(http, 200);
        var id = await EnqueueAsync();

        await _delivery.RunOnceAsync(CancellationToken.None);
        var dropped = (await DetailAsync(id)).Attempts[0];
        _clock.SetUtcNow(dropped.NextAttemptAt!.Value);
        await _delivery.RunOnceAsync(CancellationToken.None);

        Assert.Null(dropped.Status);
        Assert.False(string.IsNullOrEmpty(dropped.Error));
        Assert.Equal(DeliveryStates.Delivered, (await DetailAsync(id)).Delivery.State);
    }

    [Fact]
    public async Task Deliver_EndpointThatIsDown_IsRecordedAndRetried()
    {
        var down = new WebhookDelivery(_outbox, [new WebhookEndpoint(new ProviderId("azure"), new Uri("http://127.0.0.1:9/hooks"), [TestSecrets.Parse(TestSecrets.Current)])],
            new WebhookOptions { Clock = _clock, Seed = Seed, Retry = Policy, RunWorker = false });
        await using (down)
        {
            var id = await EnqueueAsync();

            await down.RunOnceAsync(CancellationToken.None);

            var attempt = Assert.Single((await DetailAsync(id)).Attempts);
            Assert.Null(attempt.Status);
            Assert.Equal("retry", attempt.Outcome);
            Assert.Equal(DeliveryStates.Pending, (await DetailAsync(id)).Delivery.State);
        }
    }

    [Fact]
    public async Task Redeliver_FailedWebhook_SendsItAgainWithAFreshRound()
    {
        _endpoint.Behaviour = (n, http) => TestEndpoint.Status(http, n <= Policy.MaxAttempts ? 503 : 200);
        var id = await EnqueueAsync();
        while ((await DetailAsync(id)).Delivery.State != DeliveryStates.Failed)
        {
            await _delivery.RunOnceAsync(CancellationToken.None);
            if ((await DetailAsync(id)).Delivery.NextAttemptAt is { } next)
            {
                _clock.SetUtcNow(next);
            }
        }

        Assert.True(await _outbox.RedeliverAsync(id, _clock.GetUtcNow(), CancellationToken.None));
        await _delivery.RunOnceAsync(CancellationToken.None);

        var detail = await DetailAsync(id);
        Assert.Equal(DeliveryStates.Delivered, detail.Delivery.State);
        Assert.Equal(Policy.MaxAttempts + 1, detail.Attempts.Count);
        Assert.Single(_endpoint.Received.Select(r => r.Id).Distinct());
    }

    private async Task<long> EnqueueAsync()
    {
        var n = Interlocked.Increment(ref _requests);
        var message = new OutboxMessage(new ProviderId("azure"), $"msg_test_{n}", WebhookEventTypes.OfferCreated, new RequestId($"r-{n}"),
            $$$"""{"type":"offer.created","timestamp":"2025-03-01T00:00:00+00:00","data":{"n":{{{n}}}}}""", _clock.GetUtcNow());
        await _store.AppendAsync([new StreamAppend(new StreamId($"request-r-{n}"), -1, [new EventData("test.event", "{}", _clock.GetUtcNow())])],
            (transaction, ct) => _outbox.InsertAsync(transaction, [message], ct), CancellationToken.None);
        return (await _outbox.ListAsync(null, null, null, 1, CancellationToken.None))[0].Id;
    }

    private async Task<DeliveryDetailView> DetailAsync(long id) => (await _outbox.FindAsync(id, CancellationToken.None))!;

    private static HeaderDictionary Headers(ReceivedWebhook r) => new()
    {
        ["webhook-id"] = r.Id,
        ["webhook-timestamp"] = r.Timestamp,
        ["webhook-signature"] = r.Signature,
    };
}
