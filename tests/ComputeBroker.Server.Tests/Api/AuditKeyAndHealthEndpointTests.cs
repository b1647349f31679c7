using System.Net;
using System.Text.Json;
using ComputeBroker.Server.Tests.Infrastructure;

namespace ComputeBroker.Server.Tests.Api;

/// <summary>Audit, keys, whoami, health, readiness and the OpenAPI document, over real HTTP.</summary>
public sealed class AuditKeyAndHealthEndpointTests(ApiBroker broker) : IClassFixture<ApiBroker>
{
    [Fact]
    public async Task Healthz_And_Readyz_Answer200_WithoutAKey()
    {
        var health = await broker.Anonymous.GetAsync("/healthz").ExpectAsync(HttpStatusCode.OK);
        var ready = await broker.Anonymous.GetAsync("/readyz").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("ok", health.Str("status"));
        Assert.Equal("ready", ready.Str("status"));
    }

    [Fact]
    public async Task OpenApiDocument_DescribesEveryV1Endpoint()
    {
        var document = await broker.Anonymous.GetAsync("/openapi/v1.json").ExpectAsync(HttpStatusCode.OK);

        Assert.StartsWith("3.", document.Str("openapi"), StringComparison.Ordinal);
        Assert.Equal("ComputeBroker API", document.GetProperty("info").Str("title"));
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        string[] expected =
        [
            "/v1/requests", "/v1/requests/{id}", "/v1/requests/{id}/cancel", "/v1/overview", "/v1/providers", "/v1/offers",
            "/v1/offers/{id}/accept", "/v1/offers/{id}/decline", "/v1/quote-requests", "/v1/quote-requests/{requestId}/quote",
            "/v1/quote-requests/{requestId}/decline", "/v1/reservations", "/v1/reservations/{requestId}/{award}/confirm",
            "/v1/reservations/{requestId}/{award}/fail", "/v1/agreements", "/v1/agreements/{id}", "/v1/agreements/{id}/diff",
            "/v1/clauses/status", "/v1/ledger/reports", "/v1/ledger/adjustments", "/v1/ledger/statement", "/v1/ledger/commitments",
            "/v1/ledger/events", "/v1/audit/verify", "/v1/audit/last", "/v1/audit/digest", "/v1/keys", "/v1/keys/{id}", "/v1/whoami",
        ];
        Assert.Equal([], expected.Except(paths));
    }

    [Fact]
    public async Task ApiReferencePage_IsServed()
    {
        var response = await broker.Anonymous.GetAsync("/docs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("customer:openai")]
    [InlineData("provider:azure")]
    [InlineData("auditor")]
    public async Task WhoAmI_NamesTheKeysRole(string role)
    {
        var me = await broker.As(role).GetAsync("/v1/whoami").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(role, me.Str("role"));
        Assert.Equal(10, me.Str("keyId").Length);
    }

    [Fact]
    public async Task Keys_Created_WorkAtOnce_AreListedWithoutSecrets_AndStopWorkingWhenRevoked()
    {
        var created = await broker.Admin.PostJsonAsync("/v1/keys", new { role = "provider:coreweave", note = "ops" }).ExpectAsync(HttpStatusCode.Created);
        var key = created.Str("key");
        var id = created.Str("id");
        using var client = broker.Broker.Client(key);

        Assert.Equal("provider:coreweave", (await client.GetAsync("/v1/whoami").ExpectAsync(HttpStatusCode.OK)).Str("role"));
        var listing = await broker.Admin.GetAsync("/v1/keys");
        var text = await listing.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        Assert.Contains(id, text, StringComparison.Ordinal);
        Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        Assert.DoesNotContain(key[(key.LastIndexOf('_') + 1)..], text, StringComparison.Ordinal);
        Assert.DoesNotContain("hash", text, StringComparison.OrdinalIgnoreCase);

        var revoked = await broker.Admin.DeleteAsync($"/v1/keys/{id}");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await client.GetAsync("/v1/whoami").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        var listed = (await broker.Admin.GetAsync("/v1/keys").ExpectAsync(HttpStatusCode.OK)).Items().Single(k => k.Str("id") == id);
        Assert.NotEqual(JsonValueKind.Null, listed.GetProperty("revokedAt").ValueKind);
    }

    [Fact]
    public async Task Keys_RevokingAnUnknownOrRevokedKey_Is404Problem()
    {
        await broker.Admin.DeleteAsync("/v1/keys/0000000000").ExpectProblemAsync(HttpStatusCode.NotFound);
        await broker.Admin.DeleteAsync($"/v1/keys/{broker.RevokedKeyId}").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"role": "superuser"}""", "role")]
    [InlineData("""{"role": "provider:"}""", "role")]
    [InlineData("""{"role": "customer"}""", "role")]
    [InlineData("""{"role": "customer:open ai"}""", "role")]
    [InlineData("""{"role": 7}""", "role")]
    [InlineData("""{"note": "no role"}""", "role")]
    [InlineData("""{"role": "auditor", "expires": "never"}""", "expires")]
    public async Task Keys_CreateWithABadBody_Is400Problem_NamingTheField(string body, string field)
    {
        await broker.Admin.PostRawAsync("/v1/keys", body).ExpectProblemAsync(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task AuditVerify_OnAnUntouchedLog_Passes()
    {
        await broker.SubmitAsync();

        var audit = await broker.Auditor.PostAsync("/v1/audit/verify", null).ExpectAsync(HttpStatusCode.OK);

        Assert.True(audit.GetProperty("passed").GetBoolean(), audit.ToString());
        Assert.Empty(audit.GetProperty("integrity").GetProperty("findings").EnumerateArray());
        Assert.Empty(audit.GetProperty("violations").EnumerateArray());
        Assert.True(audit.GetProperty("eventsChecked").GetInt64() > 0);
    }

    [Fact]
    public async Task AuditVerify_AgainstADigestTakenEarlier_PassesAndSaysItChecked()
    {
        var digest = await broker.Auditor.GetAsync("/v1/audit/digest").ExpectAsync(HttpStatusCode.OK);
        Assert.Matches("^[0-9a-f]{64}$", digest.Str("root"));
        await broker.SubmitAsync();

        var audit = await broker.Auditor.PostRawAsync("/v1/audit/verify", digest.GetRawText()).ExpectAsync(HttpStatusCode.OK);

        Assert.True(audit.GetProperty("passed").GetBoolean(), audit.ToString());
        Assert.True(audit.GetProperty("integrity").GetProperty("digestChecked").GetBoolean());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("""{"format": "computebroker-digest/1", "algorithm": "sha256-rfc6962-merkle-over-stream-heads", "root": "xyz", "streamCount": 1, "eventCount": 1, "globalPosition": 1, "createdAt": "2025-01-01T00:00:00Z"}""")]
    [InlineData("[]")]
    public async Task AuditVerify_WithSomethingThatIsNotADigest_Is400Problem_NamingDigest(string body)
    {
        await broker.Auditor.PostRawAsync("/v1/audit/verify", body).ExpectProblemAsync(HttpStatusCode.BadRequest, "digest");
    }
}

/// <summary>The last audit result, on a broker of its own so that no other test has audited first.</summary>
public sealed class AuditLastEndpointTests(ApiBroker broker) : IClassFixture<ApiBroker>
{
    [Fact]
    public async Task AuditLast_IsA404ProblemBeforeAnyAudit_ThenTheLastResult()
    {
        await broker.Auditor.GetAsync("/v1/audit/last").ExpectProblemAsync(HttpStatusCode.NotFound);

        var audit = await broker.Admin.PostAsync("/v1/audit/verify", null).ExpectAsync(HttpStatusCode.OK);
        var last = await broker.Auditor.GetAsync("/v1/audit/last").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(audit.Str("checkedAt"), last.Str("checkedAt"));
        Assert.True(last.GetProperty("passed").GetBoolean());
    }
}
