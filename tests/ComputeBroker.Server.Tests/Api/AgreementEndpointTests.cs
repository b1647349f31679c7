using System.Net;
using ComputeBroker.Server.Tests.Infrastructure;

namespace ComputeBroker.Server.Tests.Api;

/// <summary>
/// <c>/v1/agreements</c> and <c>/v1/clauses/status</c> over real HTTP. Each test applies the example documents under a
/// customer of its own (the text's "openai" renamed), so the tests share the broker but never each other's agreements.
/// </summary>
public sealed class AgreementEndpointTests(ApiBroker broker) : IClassFixture<ApiBroker>
{
    [Fact]
    public async Task Apply_NewAgreement_Is201_ListedAndShownWithItsClauses()
    {
        var (id, _, january, _) = Documents();

        var response = await ApplyAsync(january);

        await response.ExpectAsync(HttpStatusCode.Created);
        Assert.Equal($"/v1/agreements/{id}", response.Headers.Location?.OriginalString);
        var list = await broker.Admin.GetAsync("/v1/agreements").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(list.Items(), a => a.Str("id") == id);
        var shown = await broker.Admin.GetAsync($"/v1/agreements/{id}").ExpectAsync(HttpStatusCode.OK);
        var clauses = shown.GetProperty("versions")[0].GetProperty("clauses").EnumerateArray().ToArray();
        Assert.Equal(6, clauses.Length);
        Assert.Contains(clauses, c => c.Str("id") == "azure-first-refusal" && c.Str("holder") == "azure" && c.Str("responseWindow") == "P5D");
    }

    [Fact]
    public async Task Apply_TheSameDocumentAgain_WritesNothing()
    {
        var (id, _, january, _) = Documents();
        await ApplyAsync(january).ExpectAsync(HttpStatusCode.Created);
        var before = await broker.Broker.Service.Store.HeadAsync(CancellationToken.None);

        var again = await ApplyAsync(january);

        Assert.True(again.IsSuccessStatusCode, $"{again.StatusCode}: {await again.Content.ReadAsStringAsync()}");
        Assert.Equal(before.EventCount, (await broker.Broker.Service.Store.HeadAsync(CancellationToken.None)).EventCount);
        var shown = await broker.Admin.GetAsync($"/v1/agreements/{id}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, shown.GetProperty("versions").GetArrayLength());
    }

    [Fact]
    public async Task Amend_WithANewVersion_AddsIt_AndDiffShowsClauseChanges()
    {
        var (id, _, january, october) = Documents();
        await ApplyAsync(january).ExpectAsync(HttpStatusCode.Created);

        await ApplyAsync(october).ExpectAsync(HttpStatusCode.Created);

        var shown = await broker.Admin.GetAsync($"/v1/agreements/{id}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([1, 2], shown.GetProperty("versions").EnumerateArray().Select(v => v.Int("number")));
        var diff = await broker.Admin.GetAsync($"/v1/agreements/{id}/diff").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, diff.Int("from"));
        Assert.Equal(2, diff.Int("to"));
        var changes = diff.GetProperty("clauses").EnumerateArray().ToDictionary(c => c.Str("clause"), c => c.Str("change"));
        Assert.Equal("removed", changes["azure-first-refusal"]);
        Assert.Equal("added", changes["azure-commitment"]);
        Assert.Equal("changed", changes["ip-access"]);
        var explicitRange = await broker.Admin.GetAsync($"/v1/agreements/{id}/diff?from=2&to=1").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("added", explicitRange.GetProperty("clauses").EnumerateArray().Single(c => c.Str("clause") == "azure-first-refusal").Str("change"));
    }

    [Fact]
    public async Task Amend_ChangingAnAppliedVersion_Is409_AndHistoryIsNotRewritten()
    {
        var (id, _, january, _) = Documents();
        await ApplyAsync(january).ExpectAsync(HttpStatusCode.Created);
        var before = await broker.Broker.Service.Store.HeadAsync(CancellationToken.None);

        await ApplyAsync(january.Replace("response-window: P5D", "response-window: P7D", StringComparison.Ordinal)).ExpectProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal(before.EventCount, (await broker.Broker.Service.Store.HeadAsync(CancellationToken.None)).EventCount);
        var shown = await broker.Admin.GetAsync($"/v1/agreements/{id}").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(shown.GetProperty("versions")[0].GetProperty("clauses").EnumerateArray(), c => c.Str("id") == "azure-first-refusal" && c.Str("responseWindow") == "P5D");
    }

    [Fact]
    public async Task Amend_LeavingOutAnAppliedVersion_Is409()
    {
        var (_, _, january, october) = Documents();
        await ApplyAsync(october).ExpectAsync(HttpStatusCode.Created);

        await ApplyAsync(january).ExpectProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Amend_TakingEffectBeforeNow_Is409()
    {
        var (_, _, january, october) = Documents();
        await ApplyAsync(january).ExpectAsync(HttpStatusCode.Created);

        var backdated = october.Replace("effective: 2025-10-28T00:00:00Z", "effective: 2025-05-01T00:00:00Z", StringComparison.Ordinal);

        await ApplyAsync(backdated).ExpectProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Apply_ChangingTheCustomer_Is409()
    {
        var (_, customer, january, _) = Documents();
        await ApplyAsync(january).ExpectAsync(HttpStatusCode.Created);

        await ApplyAsync(january.Replace($"customer: {customer}", "customer: other", StringComparison.Ordinal).Replace($"[{customer}, microsoft]", "[other, microsoft]", StringComparison.Ordinal))
            .ExpectProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Apply_InvalidDocument_Is400Problem_NamingThePathInTheDocument()
    {
        var (_, _, january, _) = Documents();

        var problem = await ApplyAsync(january.Replace("response-window: P5D", "response-window: five days", StringComparison.Ordinal))
            .ExpectProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.GetProperty("errors").EnumerateObject(), e => e.Name.EndsWith("response-window", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{{{ not yaml")]
    [InlineData("kind: providers\nproviders: []")]
    [InlineData("[1, 2, 3]")]
    public async Task Apply_NotAnAgreement_Is400Problem(string body)
    {
        await broker.Admin.PostRawAsync("/v1/agreements", body, contentType: "application/yaml").ExpectProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Apply_AsJson_IsAccepted()
    {
        var customer = $"j{Guid.NewGuid():N}"[..9];
        var json = $$$"""
            {"kind": "agreement", "id": "json-{{{customer}}}", "customer": "{{{customer}}}", "parties": ["{{{customer}}}", "oracle"],
             "versions": [{"version": 1, "effective": "2025-01-01T00:00:00Z",
               "clauses": [{"id": "oracle-exclusive", "kind": "exclusivity", "provider": "oracle", "scope": {"workload-classes": ["research"]}}]}]}
            """;

        await broker.Admin.PostRawAsync("/v1/agreements", json).ExpectAsync(HttpStatusCode.Created);

        await broker.Admin.GetAsync($"/v1/agreements/json-{customer}").ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Show_And_Diff_OfAnUnknownAgreement_Are404Problems()
    {
        await broker.Admin.GetAsync("/v1/agreements/no-such-agreement").ExpectProblemAsync(HttpStatusCode.NotFound);
        await broker.Admin.GetAsync("/v1/agreements/no-such-agreement/diff").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("from=9", "from")]
    [InlineData("from=one", "from")]
    [InlineData("to=0", "to")]
    [InlineData("from=1&to=1.5", "to")]
    public async Task Diff_WithAVersionThatDoesNotExist_Is400Problem_NamingIt(string query, string field)
    {
        await broker.Admin.GetAsync($"/v1/agreements/microsoft-openai/diff?{query}").ExpectProblemAsync(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task ClauseStatus_AsOfAnyInstant_SaysNotYetInForceExpired()
    {
        var (id, _, january, _) = Documents();
        await ApplyAsync(january).ExpectAsync(HttpStatusCode.Created);

        var before = await StatusAsync(id, "2025-01-01T00:00:00Z");
        var during = await StatusAsync(id, "2026-01-01T00:00:00Z");
        var after = await StatusAsync(id, "2031-06-01T00:00:00Z");

        Assert.All(before.Values, s => Assert.Equal("not-yet", s));
        Assert.Equal("in-force", during["azure-first-refusal"]);
        Assert.Equal("in-force", during["ip-access"]);
        Assert.Equal("expired", after["ip-access"]);
        Assert.Equal("expired", after["api-exclusivity"]);
        Assert.Equal("in-force", after["azure-first-refusal"]);
    }

    [Fact]
    public async Task ClauseStatus_ReportsTriggerProgress()
    {
        var status = await broker.Admin.GetAsync("/v1/clauses/status?agreement=microsoft-openai&asOf=2026-01-01").ExpectAsync(HttpStatusCode.OK);

        var trigger = status.Items().Single(s => s.Str("clause") == "agi-trigger").GetProperty("trigger");
        Assert.Equal("100000000000.00 USD", trigger.Str("threshold"));
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2025-13-01T00:00:00Z")]
    [InlineData("")]
    public async Task ClauseStatus_WithABadAsOf_Is400Problem_NamingAsOf(string asOf)
    {
        await broker.Admin.GetAsync($"/v1/clauses/status?asOf={Uri.EscapeDataString(asOf)}").ExpectProblemAsync(HttpStatusCode.BadRequest, "asOf");
    }

    [Fact]
    public async Task Agreements_OfAnotherCustomer_AreInvisibleToACustomerKey()
    {
        var list = await broker.Other.GetAsync("/v1/agreements").ExpectAsync(HttpStatusCode.OK);
        var status = await broker.Other.GetAsync("/v1/clauses/status").ExpectAsync(HttpStatusCode.OK);

        Assert.DoesNotContain(list.Items(), a => a.Str("customer") != "other");
        Assert.DoesNotContain(status.Items(), s => s.Str("agreement") == "microsoft-openai");
        await broker.Other.GetAsync("/v1/agreements/microsoft-openai").ExpectProblemAsync(HttpStatusCode.NotFound);
        await broker.Other.GetAsync("/v1/agreements/microsoft-openai/diff").ExpectProblemAsync(HttpStatusCode.NotFound);
        await broker.Other.GetAsync("/v1/clauses/status?agreement=microsoft-openai").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ClauseStatus_OfAnAgreementThatDoesNotExist_Is404Problem()
    {
        // It used to be an empty list, as if the agreement had no clauses.
        var problem = await broker.Admin.GetAsync("/v1/clauses/status?agreement=no-such-agreement").ExpectProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains("no-such-agreement", problem.Str("detail"), StringComparison.Ordinal);
    }

    private Task<HttpResponseMessage> ApplyAsync(string yaml) => broker.Admin.PostRawAsync("/v1/agreements", yaml, contentType: "application/yaml");

    private async Task<Dictionary<string, string>> StatusAsync(string agreement, string asOf)
    {
        var status = await broker.Admin.GetAsync($"/v1/clauses/status?agreement={agreement}&asOf={asOf}").ExpectAsync(HttpStatusCode.OK);
        return status.Items().ToDictionary(s => s.Str("clause"), s => s.Str("state"));
    }

    /// <summary>The two example documents with "openai" renamed to a customer of this test's own.</summary>
    private static (string Id, string Customer, string January, string October) Documents()
    {
        var customer = $"c{Guid.NewGuid():N}"[..9];
        return ($"microsoft-{customer}", customer, Examples.JanuaryAgreement.Replace("openai", customer, StringComparison.Ordinal), Examples.OctoberAgreement.Replace("openai", customer, StringComparison.Ordinal));
    }
}
