using System.Net;
using System.Text.Json;
using ComputeBroker.Server.Hosting;

namespace ComputeBroker.Server.Tests.Infrastructure;

/// <summary>
/// A broker on a fresh SQLite file for one test class, with the January agreement, providers answered by the
/// tests (webhook connectors nobody else answers), a clock that starts on 2025-06-01 and runs at real speed, and
/// one client per role: admin, customer:openai, customer:other, provider:azure, provider:oracle, provider:coreweave,
/// auditor, no key, and a revoked key.
/// </summary>
public sealed class ApiBroker : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly string[] Roles = ["admin", "customer:openai", "customer:other", "provider:azure", "provider:oracle", "auditor", "none", "revoked"];

    private readonly Dictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);
    private TempDirectory? _directory;
    private TestBroker? _broker;

    public TestBroker Broker => _broker ?? throw new InvalidOperationException("not started");

    public DateTimeOffset Now => Broker.Service.Clock.GetUtcNow();

    public HttpClient Admin => As("admin");

    public HttpClient OpenAi => As("customer:openai");

    public HttpClient Other => As("customer:other");

    public HttpClient Azure => As("provider:azure");

    public HttpClient Oracle => As("provider:oracle");

    public HttpClient CoreWeave => As("provider:coreweave");

    public HttpClient Auditor => As("auditor");

    public HttpClient Anonymous => As("none");

    public HttpClient Revoked => As("revoked");

    public string RevokedKeyId { get; private set; } = string.Empty;

    public HttpClient As(string role) => _clients[role];

    public async Task InitializeAsync()
    {
        _directory = new TempDirectory("api");
        _broker = await TestBroker.StartAsync(new BrokerSetup(_directory.File("broker.db"), Examples.ProvidersAnsweredByTests, new ScaledTimeProvider(Start, 1)));
        foreach (var role in (string[])["admin", "customer:openai", "customer:other", "provider:azure", "provider:oracle", "provider:coreweave", "auditor"])
        {
            _clients[role] = _broker.Client((await _broker.CreateKeyAsync(role)).Key);
        }

        _clients["none"] = _broker.Client(null);
        var (revoked, id) = await _broker.CreateKeyAsync("customer:openai");
        await Admin.DeleteAsync($"/v1/keys/{id}").ExpectAsync(HttpStatusCode.NoContent);
        RevokedKeyId = id;
        _clients["revoked"] = _broker.Client(revoked);
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        _directory?.Dispose();
    }

    // ---- scenarios: each makes new requests, so tests never depend on each other's --------------------------------

    /// <summary>An openai request submitted by <paramref name="client"/> (admin names the customer); returns the request view.</summary>
    public async Task<JsonElement> SubmitAsync(HttpClient? client = null, string? customer = "openai", string workloadClass = "inference", int gpus = 1024, bool allOrNothing = false)
    {
        client ??= Admin;
        var body = RequestBodies.Capacity(Now, RequestBodies.NewId("r"), customer: client == Admin ? customer : null, workloadClass: workloadClass, gpus: gpus, allOrNothing: allOrNothing);
        return await client.PostJsonAsync("/v1/requests", body).ExpectAsync(HttpStatusCode.Created);
    }

    /// <summary>A new openai request whose first-refusal offer to azure is open: (request id, offer id).</summary>
    public async Task<(string Request, string Offer)> OpenOfferAsync(int gpus = 1024)
    {
        var request = (await SubmitAsync(gpus: gpus)).Str("id");
        var offers = await Azure.GetAsync("/v1/offers").ExpectAsync(HttpStatusCode.OK);
        var offer = offers.Items().Single(o => o.Str("requestId") == request);
        return (request, offer.Str("id"));
    }

    /// <summary>A new openai request that azure declined, so oracle and coreweave are asked to quote: the request id.</summary>
    public async Task<string> OpenQuoteRequestAsync()
    {
        var (request, offer) = await OpenOfferAsync();
        await Azure.PostJsonAsync($"/v1/offers/{offer}/decline", new { reason = "no capacity" }).ExpectAsync(HttpStatusCode.OK);
        return request;
    }

    /// <summary>A new openai request whose market award to oracle waits for oracle's reservation: (request id, award number).</summary>
    public async Task<(string Request, int Award)> OpenReservationAsync()
    {
        var request = await OpenQuoteRequestAsync();
        await Oracle.PostJsonAsync($"/v1/quote-requests/{request}/quote", new { gpus = 1024, price = "10.00 USD" }).ExpectAsync(HttpStatusCode.OK);
        await CoreWeave.PostJsonAsync($"/v1/quote-requests/{request}/decline", new { reason = "sold out" }).ExpectAsync(HttpStatusCode.OK);
        var reservations = await Oracle.GetAsync("/v1/reservations").ExpectAsync(HttpStatusCode.OK);
        var award = reservations.Items().Single(r => r.Str("requestId") == request);
        return (request, award.Int("award"));
    }

    /// <summary>The request with its timeline, read as admin.</summary>
    public Task<JsonElement> ShowAsync(string request) =>
        Admin.GetAsync($"/v1/requests/{Uri.EscapeDataString(request)}").ExpectAsync(HttpStatusCode.OK);
}
