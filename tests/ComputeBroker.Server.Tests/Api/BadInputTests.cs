using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ComputeBroker.Server.Tests.Infrastructure;

namespace ComputeBroker.Server.Tests.Api;

/// <summary>
/// User mistakes get a 4xx RFC 9457 problem that names the field, never a 500, and change nothing: malformed JSON,
/// wrong types, unknown fields, bad query parameters, bad headers.
/// </summary>
public sealed class BadInputTests(ApiBroker broker) : IClassFixture<ApiBroker>
{
    public static TheoryData<string, string, string[]> BadSubmissions => new()
    {
        { "{", "(malformed JSON)", [] },
        { """{"gpus": 8,}""", "(trailing comma)", [] },
        { "[]", "(an array)", [] },
        { "\"a string\"", "(a string)", [] },
        { "null", "(null)", [] },
        { string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100), "(nested 100 deep)", [] },
        { "{}", "(empty object)", ["workloadClass", "accelerator", "gpus", "earliestStart", "durationHours", "maxPrice", "neededBy"] },
        { Body("gpus", "\"8\""), "gpus as a string", ["gpus"] },
        { Body("gpus", "0"), "gpus zero", ["gpus"] },
        { Body("gpus", "-5"), "gpus negative", ["gpus"] },
        { Body("gpus", "1.5"), "gpus fractional", ["gpus"] },
        { Body("gpus", "3000000000"), "gpus beyond int", ["gpus"] },
        { Body("gpus", "null"), "gpus null", ["gpus"] },
        { Body("durationHours", "0"), "durationHours zero", ["durationHours"] },
        { Body("durationHours", "\"a week\""), "durationHours as text", ["durationHours"] },
        { Body("earliestStart", "\"next month\""), "earliestStart not an instant", ["earliestStart"] },
        { Body("earliestStart", "20250701"), "earliestStart a number", ["earliestStart"] },
        { Body("neededBy", "\"2020-01-01T00:00:00Z\""), "neededBy in the past", ["neededBy"] },
        { Body("maxPrice", "\"12.50\""), "maxPrice without currency", ["maxPrice"] },
        { Body("maxPrice", "12.5"), "maxPrice a number", ["maxPrice"] },
        { Body("maxPrice", "\"-1.00 USD\""), "maxPrice negative", ["maxPrice"] },
        { Body("maxPrice", "\"0.00 USD\""), "maxPrice zero", ["maxPrice"] },
        { Body("regions", "\"eastus\""), "regions a string", ["regions"] },
        { Body("regions", "[1, 2]"), "regions of numbers", ["regions"] },
        { Body("allOrNothing", "\"yes\""), "allOrNothing as text", ["allOrNothing"] },
        { Body("id", "\"\""), "id empty", ["id"] },
        { Body("id", "42"), "id a number", ["id"] },
        { Body("id", "\"" + new string('r', 129) + "\""), "id longer than a stream id allows (a 500 before)", ["id"] },
        { Body("id", "\"r 1\""), "id with a space (a 500 before)", ["id"] },
        { Body("id", "\"r-\uD83D\uDE00\""), "id with an emoji (a 500 before)", ["id"] },
        { Body("workloadClass", "\"" + new string('w', 1001) + "\""), "a text longer than any the API takes", ["workloadClass"] },
        { Body("workloadClass", "\"\""), "workloadClass empty", ["workloadClass"] },
        { Body("accelerator", "[\"H100\"]"), "accelerator an array", ["accelerator"] },
        { Body("priority", "1"), "an unknown field", ["priority"] },
        { Body("WorkloadClass", "\"inference\""), "a field in the wrong case", ["WorkloadClass"] },
        { Body("customer", "\"other\""), "another customer's name", ["customer"] },
        { Body("earliestStart", "\"9999-12-31T00:00:00Z\""), "a request ending after the year 9999", ["durationHours"] },
        { Body("maxPrice", "\"10000000000000000000000000 USD\""), "a maximum total cost too large to compute", ["maxPrice"] },
    };

    [Theory]
    [MemberData(nameof(BadSubmissions))]
    public async Task Submit_WithABadBody_Is400Problem_NamingTheFields_AndStoresNothing(string body, string what, string[] fields)
    {
        var before = await broker.Broker.Service.Store.HeadAsync(CancellationToken.None);

        var problem = await broker.OpenAi.PostRawAsync("/v1/requests", body, Guid.NewGuid().ToString()).ExpectProblemAsync(HttpStatusCode.BadRequest, fields);

        Assert.False(string.IsNullOrWhiteSpace(what));
        Assert.Equal("/problems/invalid", problem.Str("type"));
        Assert.Equal(before.EventCount, (await broker.Broker.Service.Store.HeadAsync(CancellationToken.None)).EventCount);
    }

    [Fact]
    public async Task Submit_WithEveryFieldWrong_NamesEveryOneOfThem()
    {
        var body = """
            {"workloadClass": 1, "accelerator": 2, "gpus": "x", "earliestStart": "x", "durationHours": "x",
             "maxPrice": "x", "neededBy": "x", "regions": 3, "allOrNothing": 4, "colour": "red"}
            """;

        await broker.OpenAi.PostRawAsync("/v1/requests", body)
            .ExpectProblemAsync(HttpStatusCode.BadRequest, "workloadClass", "accelerator", "gpus", "earliestStart", "durationHours", "maxPrice", "neededBy", "regions", "allOrNothing", "colour");
    }

    public static TheoryData<string> BadAuthorizations => new()
    {
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer cbk_",
        "Bearer cbk_nonsense",
        "Bearer cbk_0123456789_wrongsecret",
        "Bearer " + new string('x', 4000),
        "Token cbk_0123456789_secret",
    };

    [Theory]
    [MemberData(nameof(BadAuthorizations))]
    public async Task AnAuthorizationThatIsNotAValidKey_Is401Problem(string authorization)
    {
        using var client = broker.Broker.Client(null);
        using var message = new HttpRequestMessage(HttpMethod.Get, "/v1/whoami");
        message.Headers.TryAddWithoutValidation("Authorization", authorization);

        await (await client.SendAsync(message)).ExpectProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AKnownKeyIdWithTheWrongSecret_Is401Problem()
    {
        var (key, _) = await broker.Broker.CreateKeyAsync("admin");
        var forged = key[..15] + new string('A', key.Length - 15);
        using var client = broker.Broker.Client(forged);

        await client.GetAsync("/v1/whoami").ExpectProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task TheKeyMayAlsoComeAsXApiKey()
    {
        var (key, _) = await broker.Broker.CreateKeyAsync("auditor");
        using var client = broker.Broker.Client(null);
        client.DefaultRequestHeaders.Add("X-Api-Key", key);

        Assert.Equal("auditor", (await client.GetAsync("/v1/whoami").ExpectAsync(HttpStatusCode.OK)).Str("role"));
        client.DefaultRequestHeaders.Remove("X-Api-Key");
        client.DefaultRequestHeaders.Add("X-Api-Key", "cbk_0000000000_nope");
        await client.GetAsync("/v1/whoami").ExpectProblemAsync(HttpStatusCode.Unauthorized);
    }

    /// <summary>Mistakes on every endpoint family: each must be a 4xx problem, never a 500.</summary>
    public static TheoryData<string, string, string?, int> Mistakes => new()
    {
        { "GET", "/v1/requests?limit=1&limit=2", null, 400 },
        { "GET", "/v1/requests?cursor=" + new string('A', 5000), null, 400 },
        { "GET", "/v1/requests/" + new string('x', 2000), null, 404 },
        { "POST", "/v1/requests/x/cancel", "{", 404 },
        { "POST", "/v1/offers/x/accept", "not json", 400 },
        { "POST", "/v1/offers/x/accept", "[]", 400 },
        { "POST", "/v1/offers/x/decline", """{"reason": 5}""", 400 },
        { "POST", "/v1/quote-requests/x/quote", "{", 400 },
        { "POST", "/v1/quote-requests/x/decline", """{"why": "no"}""", 400 },
        { "POST", "/v1/reservations/x/1/confirm", "{", 400 },
        { "POST", "/v1/reservations/x/1/fail", """{"reason": []}""", 400 },
        { "POST", "/v1/reservations/x/99999999999/confirm", "{}", 404 },
        { "POST", "/v1/keys", "{", 400 },
        { "POST", "/v1/ledger/reports", "{", 400 },
        { "POST", "/v1/ledger/adjustments", "[1]", 400 },
        { "POST", "/v1/ledger/reports", $$$"""{"customer": "{{{new string('c', 300)}}}", "periodStart": "2025-01-01", "periodEnd": "2025-02-01", "revenue": "1 USD", "profit": "1 USD"}""", 400 },
        { "POST", "/v1/ledger/reports", """{"customer": "open ai", "periodStart": "2025-01-01", "periodEnd": "2025-02-01", "revenue": "1 USD", "profit": "1 USD"}""", 400 },
        { "POST", "/v1/offers/x/decline", $$$"""{"reason": "{{{new string('x', 5000)}}}"}""", 400 },
        { "POST", "/v1/keys", $$$"""{"role": "auditor", "note": "{{{new string('n', 20000)}}}"}""", 400 },
        { "POST", "/v1/agreements", "\t- : :\n  - [", 400 },
        { "POST", "/v1/audit/verify", "{", 400 },
        { "GET", "/v1/agreements/microsoft-openai/diff?from=99999999999", null, 400 },
        { "GET", "/v1/ledger/commitments?asOf=" + new string('9', 300), null, 400 },
        { "GET", "/v1/no-such-endpoint", null, 404 },
        { "PUT", "/v1/requests", "{}", 404 },
        { "DELETE", "/v1/requests/x", null, 404 },
        { "PATCH", "/v1/keys/x", "{}", 404 },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task AMistake_IsA4xxProblem_NeverA500(string method, string url, string? body, int status)
    {
        using var message = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null)
        {
            message.Content = new StringContent(body, Encoding.UTF8, MediaTypeHeaderValue.Parse("application/json"));
        }

        var client = method == "POST" && (url.Contains("/offers/", StringComparison.Ordinal) || url.Contains("/quote-requests/", StringComparison.Ordinal) || url.Contains("/reservations/", StringComparison.Ordinal))
            ? broker.Oracle
            : broker.Admin;
        var response = await client.SendAsync(message);

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{method} {url} -> {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        await response.ExpectProblemAsync((HttpStatusCode)status);
    }

    [Fact]
    public async Task ABodyInAnotherContentType_IsReadAsJsonAnyway_OrRefusedWithAProblem()
    {
        var response = await broker.OpenAi.PostRawAsync("/v1/requests", System.Text.Json.JsonSerializer.Serialize(RequestBodies.Capacity(broker.Now)), contentType: "text/plain");

        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.UnsupportedMediaType, $"{response.StatusCode}");
    }

    private static string Body(string field, string json)
    {
        var body = RequestBodies.Capacity(ApiBroker.Start.AddDays(1));
        var text = System.Text.Json.JsonSerializer.Serialize(body);
        return body.ContainsKey(field)
            ? System.Text.RegularExpressions.Regex.Replace(text, $"\"{field}\":(\"[^\"]*\"|[^,}}]*)", $"\"{field}\":{json}")
            : text.TrimEnd('}') + $",\"{field}\":{json}}}";
    }
}
