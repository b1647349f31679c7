using System.Net;
using System.Text;
using System.Text.Json;
using ComputeBroker.Server.Tests.Infrastructure;

namespace ComputeBroker.Server.Tests.Api;

/// <summary>
/// Who may call what, as one table: every endpoint against every role. <c>ok</c> is any 2xx; 401, 403 and 404 are
/// RFC 9457 problems with that status. A provider answers only its own offers, quotes and reservations (another
/// provider's are 404); a customer sees only its own requests and agreements (another customer's are 404); an auditor
/// reads everything and changes nothing (every write is 403); no key or a revoked key is 401. Each row runs against
/// resources made for it, so an allowed write really succeeds.
/// </summary>
public sealed class AuthorizationMatrixTests(ApiBroker broker) : IClassFixture<ApiBroker>
{
    private const string Columns = "admin customer:openai customer:other provider:azure provider:oracle auditor none revoked";

    private static readonly string[] Table =
    [
        // endpoint                                          admin openai other azure oracle auditor none revoked
        "GET /v1/whoami                                       ok    ok     ok    ok    ok     ok      401  401",
        "GET /v1/providers                                    ok    ok     ok    ok    ok     ok      401  401",
        "POST /v1/requests                                    ok    ok     ok    403   403    403     401  401",
        "GET /v1/requests                                     ok    ok     ok    403   403    ok      401  401",
        "GET /v1/requests/{openai's}                          ok    ok     404   403   403    ok      401  401",
        "POST /v1/requests/{openai's}/cancel                  ok    ok     404   403   403    403     401  401",
        "GET /v1/overview                                     ok    ok     ok    403   403    ok      401  401",
        "GET /v1/offers                                       ok    403    403   ok    ok     ok      401  401",
        "POST /v1/offers/{azure's}/accept                     403   403    403   ok    404    403     401  401",
        "POST /v1/offers/{azure's}/accept-part                403   403    403   ok    404    403     401  401",
        "POST /v1/offers/{azure's}/decline                    403   403    403   ok    404    403     401  401",
        "GET /v1/quote-requests                               ok    403    403   ok    ok     ok      401  401",
        "POST /v1/quote-requests/{oracle's}/quote             403   403    403   404   ok     403     401  401",
        "POST /v1/quote-requests/{oracle's}/decline           403   403    403   404   ok     403     401  401",
        "GET /v1/reservations                                 ok    403    403   ok    ok     ok      401  401",
        "POST /v1/reservations/{oracle's}/confirm             403   403    403   404   ok     403     401  401",
        "POST /v1/reservations/{oracle's}/fail                403   403    403   404   ok     403     401  401",
        "POST /v1/agreements                                  ok    403    403   403   403    403     401  401",
        "GET /v1/agreements                                   ok    ok     ok    403   403    ok      401  401",
        "GET /v1/agreements/{openai's}                        ok    ok     404   403   403    ok      401  401",
        "GET /v1/agreements/{openai's}/diff                   ok    ok     404   403   403    ok      401  401",
        "GET /v1/clauses/status                               ok    ok     ok    403   403    ok      401  401",
        "POST /v1/ledger/reports                              ok    ok     ok    403   403    403     401  401",
        "POST /v1/ledger/adjustments                          ok    ok     ok    403   403    403     401  401",
        "GET /v1/ledger/statement                             ok    ok     ok    403   403    ok      401  401",
        "GET /v1/ledger/statement.csv                         ok    ok     ok    403   403    ok      401  401",
        "GET /v1/ledger/commitments                           ok    ok     ok    403   403    ok      401  401",
        "GET /v1/ledger/events                                ok    ok     ok    403   403    ok      401  401",
        "POST /v1/audit/verify                                ok    403    403   403   403    ok      401  401",
        "GET /v1/audit/digest                                 ok    403    403   403   403    ok      401  401",
        "GET /v1/audit/last                                   ok    403    403   403   403    ok      401  401",
        "GET /v1/keys                                         ok    403    403   403   403    403     401  401",
        "POST /v1/keys                                        ok    403    403   403   403    403     401  401",
        "DELETE /v1/keys/{id}                                 ok    403    403   403   403    403     401  401",
        "GET /healthz                                         ok    ok     ok    ok    ok     ok      ok   ok",
        "GET /readyz                                          ok    ok     ok    ok    ok     ok      ok   ok",
        "GET /openapi/v1.json                                 ok    ok     ok    ok    ok     ok      ok   ok",
    ];

    private static int _period;

    public static TheoryData<string, string, string> Matrix
    {
        get
        {
            var roles = Columns.Split(' ');
            var data = new TheoryData<string, string, string>();
            foreach (var row in Table)
            {
                var cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal(2 + roles.Length, cells.Length);
                for (var i = 0; i < roles.Length; i++)
                {
                    data.Add($"{cells[0]} {cells[1]}", roles[i], cells[2 + i]);
                }
            }

            return data;
        }
    }

    [Fact]
    public void TheTable_CoversEveryEndpointItCanCall_AndEveryRole()
    {
        Assert.Equal(Table.Select(r => string.Join(' ', r.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(2))).Order(), Calls.Keys.Order());
        Assert.Equal(ApiBroker.Roles, Columns.Split(' '));
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Role_CallingEndpoint_GetsWhatTheTableSays(string endpoint, string role, string expected)
    {
        using var request = await Calls[endpoint](broker, role);
        var url = request.RequestUri;

        var response = await broker.As(role).SendAsync(request);

        if (expected == "ok")
        {
            Assert.True(response.IsSuccessStatusCode, $"{role} {endpoint} ({url}): expected 2xx, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        else
        {
            await response.ExpectProblemAsync((HttpStatusCode)int.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>How to call each endpoint of the table as a role, with a resource made for the call.</summary>
    private static readonly Dictionary<string, Func<ApiBroker, string, Task<HttpRequestMessage>>> Calls = new(StringComparer.Ordinal)
    {
        ["GET /v1/whoami"] = (_, _) => Get("/v1/whoami"),
        ["GET /v1/providers"] = (_, _) => Get("/v1/providers"),
        ["POST /v1/requests"] = (b, role) => Post("/v1/requests", RequestBodies.Capacity(b.Now, customer: role == "admin" ? "openai" : null)),
        ["GET /v1/requests"] = (_, _) => Get("/v1/requests"),
        ["GET /v1/requests/{openai's}"] = async (b, _) => await Get($"/v1/requests/{(await b.SubmitAsync()).Str("id")}"),
        ["POST /v1/requests/{openai's}/cancel"] = async (b, _) => await Post($"/v1/requests/{(await b.SubmitAsync()).Str("id")}/cancel", null),
        ["GET /v1/overview"] = (_, _) => Get("/v1/overview"),
        ["GET /v1/offers"] = (_, _) => Get("/v1/offers"),
        ["POST /v1/offers/{azure's}/accept"] = async (b, _) => await Post($"/v1/offers/{(await b.OpenOfferAsync()).Offer}/accept", new { }),
        ["POST /v1/offers/{azure's}/accept-part"] = async (b, _) => await Post($"/v1/offers/{(await b.OpenOfferAsync()).Offer}/accept", new { gpus = 100 }),
        ["POST /v1/offers/{azure's}/decline"] = async (b, _) => await Post($"/v1/offers/{(await b.OpenOfferAsync()).Offer}/decline", new { reason = "no" }),
        ["GET /v1/quote-requests"] = (_, _) => Get("/v1/quote-requests"),
        ["POST /v1/quote-requests/{oracle's}/quote"] = async (b, _) => await Post($"/v1/quote-requests/{await b.OpenQuoteRequestAsync()}/quote", new { gpus = 512, price = "10.00 USD" }),
        ["POST /v1/quote-requests/{oracle's}/decline"] = async (b, _) => await Post($"/v1/quote-requests/{await b.OpenQuoteRequestAsync()}/decline", new { reason = "no" }),
        ["GET /v1/reservations"] = (_, _) => Get("/v1/reservations"),
        ["POST /v1/reservations/{oracle's}/confirm"] = async (b, _) =>
        {
            var (request, award) = await b.OpenReservationAsync();
            return await Post($"/v1/reservations/{request}/{award}/confirm", new { });
        },
        ["POST /v1/reservations/{oracle's}/fail"] = async (b, _) =>
        {
            var (request, award) = await b.OpenReservationAsync();
            return await Post($"/v1/reservations/{request}/{award}/fail", new { reason = "gone" });
        },
        ["POST /v1/agreements"] = (_, _) =>
        {
            var customer = $"m{Guid.NewGuid():N}"[..9];
            return Task.FromResult(new HttpRequestMessage(HttpMethod.Post, "/v1/agreements")
            {
                Content = Http.Raw(Examples.JanuaryAgreement.Replace("openai", customer, StringComparison.Ordinal), "application/yaml"),
            });
        },
        ["GET /v1/agreements"] = (_, _) => Get("/v1/agreements"),
        ["GET /v1/agreements/{openai's}"] = (_, _) => Get("/v1/agreements/microsoft-openai"),
        ["GET /v1/agreements/{openai's}/diff"] = (_, _) => Get("/v1/agreements/microsoft-openai/diff"),
        ["GET /v1/clauses/status"] = (_, _) => Get("/v1/clauses/status"),
        ["POST /v1/ledger/reports"] = (_, role) =>
        {
            var (start, end) = NewPeriod();
            return Post("/v1/ledger/reports", Ledger(role, new { periodStart = start, periodEnd = end, revenue = "100.00 USD", profit = "10.00 USD" }));
        },
        ["POST /v1/ledger/adjustments"] = async (b, role) =>
        {
            var (start, end) = NewPeriod();
            var customer = role == "customer:other" ? "other" : "openai";
            await b.Admin.PostJsonAsync("/v1/ledger/reports", new { customer, periodStart = start, periodEnd = end, revenue = "100.00 USD", profit = "10.00 USD" }).ExpectAsync(HttpStatusCode.Created);
            return await Post("/v1/ledger/adjustments", Ledger(role, new { periodStart = start, revenueDelta = "1.00 USD", profitDelta = "0.00 USD", reason = "correction" }));
        },
        ["GET /v1/ledger/statement"] = (_, _) => Get("/v1/ledger/statement?payee=microsoft"),
        ["GET /v1/ledger/statement.csv"] = (_, _) => Get("/v1/ledger/statement?payee=microsoft&format=csv"),
        ["GET /v1/ledger/commitments"] = (_, _) => Get("/v1/ledger/commitments"),
        ["GET /v1/ledger/events"] = (_, _) => Get("/v1/ledger/events"),
        ["POST /v1/audit/verify"] = (_, _) => Post("/v1/audit/verify", null),
        ["GET /v1/audit/digest"] = (_, _) => Get("/v1/audit/digest"),
        ["GET /v1/audit/last"] = async (b, _) =>
        {
            await b.Admin.PostAsync("/v1/audit/verify", null).ExpectAsync(HttpStatusCode.OK);
            return await Get("/v1/audit/last");
        },
        ["GET /v1/keys"] = (_, _) => Get("/v1/keys"),
        ["POST /v1/keys"] = (_, _) => Post("/v1/keys", new { role = "auditor" }),
        ["DELETE /v1/keys/{id}"] = async (b, _) => new HttpRequestMessage(HttpMethod.Delete, $"/v1/keys/{(await b.Broker.CreateKeyAsync("auditor")).Id}"),
        ["GET /healthz"] = (_, _) => Get("/healthz"),
        ["GET /readyz"] = (_, _) => Get("/readyz"),
        ["GET /openapi/v1.json"] = (_, _) => Get("/openapi/v1.json"),
    };

    private static Task<HttpRequestMessage> Get(string url) => Task.FromResult(new HttpRequestMessage(HttpMethod.Get, url));

    private static Task<HttpRequestMessage> Post(string url, object? body) => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, url)
    {
        Content = body is null ? null : new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
    });

    /// <summary>A ledger body: admin names the customer (openai); a customer key names none and writes its own ledger.</summary>
    private static Dictionary<string, object?> Ledger(string role, object fields)
    {
        var body = JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(fields))!;
        if (role == "admin")
        {
            body["customer"] = "openai";
        }

        return body;
    }

    /// <summary>A one-day period no other row has used, so every report is a first report.</summary>
    private static (string Start, string End) NewPeriod()
    {
        var day = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(Interlocked.Increment(ref _period));
        return (day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), day.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
    }
}
