using System.Net;
using ComputeBroker.Server.Tests.Infrastructure;

namespace ComputeBroker.Server.Tests.Api;

/// <summary>
/// <c>/v1/ledger</c> over real HTTP: reports, adjustments, statements (JSON and CSV), commitments, events. Each test
/// works on a customer of its own with the example agreement (20% revenue share to microsoft, the AGI trigger).
/// </summary>
public sealed class LedgerEndpointTests(ApiBroker broker) : IClassFixture<ApiBroker>
{
    [Fact]
    public async Task Report_ForAPeriod_Is201_AndAccruesTheRevenueShare()
    {
        var (customer, agreement) = await CustomerAsync();

        var events = await ReportAsync(customer, "2025-03-01", "2025-04-01", "1000.00 USD", "100.00 USD").ExpectAsync(HttpStatusCode.Created);

        Assert.Contains(events.Items(), e => e.Str("type") == "report.recorded");
        var accrued = events.Items().Single(e => e.Str("type") == "share.accrued");
        Assert.Equal(agreement, accrued.Str("agreement"));
        Assert.Equal("microsoft", accrued.Str("payee"));
        Assert.Equal("200.00 USD", accrued.Str("amount"));
        Assert.Equal(31, accrued.Int("daysInForce"));
    }

    [Fact]
    public async Task Report_ByACustomerKey_IsForItsOwnLedger()
    {
        var events = await broker.OpenAi.PostJsonAsync("/v1/ledger/reports", new { periodStart = "2026-02-01", periodEnd = "2026-03-01", revenue = "10.00 USD", profit = "1.00 USD" })
            .ExpectAsync(HttpStatusCode.Created);

        Assert.All(events.Items(), e => Assert.Equal("openai", e.Str("customer")));
    }

    [Fact]
    public async Task Report_SameOrOverlappingPeriod_Is409Problem_AndChangesNothing()
    {
        var (customer, _) = await CustomerAsync();
        await ReportAsync(customer, "2025-03-01", "2025-04-01", "1000.00 USD", "100.00 USD").ExpectAsync(HttpStatusCode.Created);
        var before = await broker.Broker.Service.Store.HeadAsync(CancellationToken.None);

        await ReportAsync(customer, "2025-03-01", "2025-04-01", "1000.00 USD", "100.00 USD").ExpectProblemAsync(HttpStatusCode.Conflict);
        await ReportAsync(customer, "2025-03-15", "2025-04-15", "1.00 USD", "1.00 USD").ExpectProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal(before.EventCount, (await broker.Broker.Service.Store.HeadAsync(CancellationToken.None)).EventCount);
    }

    [Theory]
    [InlineData("""{"periodStart": "2025-03-01", "periodEnd": "2025-04-01", "revenue": "lots", "profit": "1.00 USD"}""", "revenue")]
    [InlineData("""{"periodStart": "2025-03-01", "periodEnd": "2025-04-01", "revenue": "1.00 USD", "profit": "1.00 EUR"}""", "profit")]
    [InlineData("""{"periodStart": "2025-04-01", "periodEnd": "2025-03-01", "revenue": "1.00 USD", "profit": "1.00 USD"}""", "periodEnd")]
    [InlineData("""{"periodStart": "2025-03-01T12:00:00Z", "periodEnd": "2025-04-01", "revenue": "1.00 USD", "profit": "1.00 USD"}""", "periodStart")]
    [InlineData("""{"periodStart": "March", "periodEnd": "2025-04-01", "revenue": "1.00 USD", "profit": "1.00 USD"}""", "periodStart")]
    [InlineData("""{"periodEnd": "2025-04-01", "revenue": "1.00 USD", "profit": "1.00 USD"}""", "periodStart")]
    [InlineData("""{"periodStart": "2025-03-01", "periodEnd": "2025-04-01", "revenue": 1, "profit": "1.00 USD"}""", "revenue")]
    [InlineData("""{"periodStart": "2025-03-01", "periodEnd": "2025-04-01", "revenue": "1.00 USD", "profit": "1.00 USD", "ebitda": "1.00 USD"}""", "ebitda")]
    [InlineData("""{"customer": "other", "periodStart": "2025-03-01", "periodEnd": "2025-04-01", "revenue": "1.00 USD", "profit": "1.00 USD"}""", "customer")]
    public async Task Report_WithABadField_Is400Problem_NamingTheField(string body, string field)
    {
        await broker.OpenAi.PostRawAsync("/v1/ledger/reports", body).ExpectProblemAsync(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Report_ByAdminWithoutACustomer_Is400Problem_NamingCustomer()
    {
        await broker.Admin.PostJsonAsync("/v1/ledger/reports", new { periodStart = "2025-03-01", periodEnd = "2025-04-01", revenue = "1.00 USD", profit = "1.00 USD" })
            .ExpectProblemAsync(HttpStatusCode.BadRequest, "customer");
    }

    [Fact]
    public async Task Report_ReachingTheTriggerThreshold_FiresIt_AndTerminatesIpAccess()
    {
        var (customer, agreement) = await CustomerAsync();

        var events = await ReportAsync(customer, "2026-01-01", "2026-02-01", "200000000000.00 USD", "150000000000.00 USD").ExpectAsync(HttpStatusCode.Created);

        var fired = events.Items().Single(e => e.Str("type") == "trigger.fired");
        Assert.Equal("agi-trigger", fired.Str("trigger"));
        var status = await broker.Admin.GetAsync($"/v1/clauses/status?agreement={agreement}&asOf=2026-03-01").ExpectAsync(HttpStatusCode.OK);
        var ipAccess = status.Items().Single(s => s.Str("clause") == "ip-access");
        Assert.Equal("terminated", ipAccess.Str("state"));
        Assert.Equal("agi-trigger", ipAccess.Str("terminatedBy"));
    }

    [Theory]
    [InlineData("79228162514264337593543950335 USD", "1.00 USD", "revenue")]
    [InlineData("1.00 USD", "-1000000000000000001 USD", "profit")]
    public async Task Report_WithAnAmountTooLargeToAddUp_Is400Problem_AndChangesNothing(string revenue, string profit, string field)
    {
        var (customer, _) = await CustomerAsync();
        var before = await broker.Broker.Service.Store.HeadAsync(CancellationToken.None);

        await ReportAsync(customer, "2025-04-01", "2025-05-01", revenue, profit).ExpectProblemAsync(HttpStatusCode.BadRequest, field);

        Assert.Equal(before.EventCount, (await broker.Broker.Service.Store.HeadAsync(CancellationToken.None)).EventCount);
    }

    [Fact]
    public async Task Adjust_RecordedPeriod_Is201_AndAccruesTheDifference()
    {
        var (customer, _) = await CustomerAsync();
        await ReportAsync(customer, "2025-03-01", "2025-04-01", "1000.00 USD", "100.00 USD").ExpectAsync(HttpStatusCode.Created);

        var events = await broker.Admin.PostJsonAsync("/v1/ledger/adjustments", new { customer, periodStart = "2025-03-01", revenueDelta = "500.00 USD", profitDelta = "0.00 USD", reason = "late invoices" })
            .ExpectAsync(HttpStatusCode.Created);

        Assert.Contains(events.Items(), e => e.Str("type") == "report.adjusted");
        Assert.Equal("100.00 USD", events.Items().Single(e => e.Str("type") == "share.accrued").Str("amount"));
    }

    [Fact]
    public async Task Adjust_AnUnrecordedPeriod_Is404Problem()
    {
        var (customer, _) = await CustomerAsync();

        await broker.Admin.PostJsonAsync("/v1/ledger/adjustments", new { customer, periodStart = "2024-01-01", revenueDelta = "1.00 USD", profitDelta = "0.00 USD", reason = "x" })
            .ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"periodStart": "2025-03-01", "revenueDelta": "1.00 USD", "profitDelta": "0.00 USD"}""", "reason")]
    [InlineData("""{"periodStart": "2025-03-01", "revenueDelta": "1.00 USD", "profitDelta": "0.00 USD", "reason": ""}""", "reason")]
    [InlineData("""{"periodStart": "2025-03-01", "revenueDelta": "+1", "profitDelta": "0.00 USD", "reason": "x"}""", "revenueDelta")]
    [InlineData("""{"periodStart": "2025-03-01", "revenueDelta": "1.00 EUR", "profitDelta": "0.00 USD", "reason": "x"}""", "revenueDelta")]
    [InlineData("""{"periodStart": "2025-03-01", "revenueDelta": "1.00 USD", "profitDelta": "5000000000000000000 USD", "reason": "x"}""", "profitDelta")]
    public async Task Adjust_WithABadField_Is400Problem_NamingTheField(string body, string field)
    {
        var (customer, _) = await CustomerAsync();
        await ReportAsync(customer, "2025-03-01", "2025-04-01", "1000.00 USD", "100.00 USD").ExpectAsync(HttpStatusCode.Created);

        await broker.Admin.PostRawAsync("/v1/ledger/adjustments", body.Replace("{\"periodStart", $"{{\"customer\": \"{customer}\", \"periodStart", StringComparison.Ordinal))
            .ExpectProblemAsync(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Statement_AsJsonAndCsv_ListsThePayeesAccruals()
    {
        var (customer, agreement) = await CustomerAsync();
        await ReportAsync(customer, "2025-05-01", "2025-06-01", "1000.00 USD", "100.00 USD").ExpectAsync(HttpStatusCode.Created);

        var statement = await broker.Admin.GetAsync("/v1/ledger/statement?payee=microsoft&from=2025-05-01&to=2025-06-01").ExpectAsync(HttpStatusCode.OK);
        var csv = await broker.Admin.GetAsync("/v1/ledger/statement?payee=microsoft&from=2025-05-01&to=2025-06-01&format=csv");

        var line = statement.GetProperty("lines").EnumerateArray().Single(l => l.Str("agreement") == agreement);
        Assert.Equal("200.00 USD", line.Str("accrued"));
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var rows = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("payer,payee,agreement,clause,period_start", rows[0], StringComparison.Ordinal);
        Assert.Contains(rows, r => r.StartsWith($"{customer},microsoft,{agreement},revenue-share,2025-05-01,2025-06-01,31,", StringComparison.Ordinal) && r.EndsWith(",USD", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Statement_ForACustomerKey_HoldsOnlyItsOwnAccruals()
    {
        var (customer, _) = await CustomerAsync();
        await ReportAsync(customer, "2025-05-01", "2025-06-01", "1000.00 USD", "100.00 USD").ExpectAsync(HttpStatusCode.Created);

        var statement = await broker.Other.GetAsync("/v1/ledger/statement?payee=microsoft").ExpectAsync(HttpStatusCode.OK);

        Assert.Empty(statement.GetProperty("lines").EnumerateArray());
    }

    [Theory]
    [InlineData("", "payee")]
    [InlineData("payee=", "payee")]
    [InlineData("payee=microsoft&from=last-year", "from")]
    [InlineData("payee=microsoft&to=2025-02-30", "to")]
    [InlineData("payee=microsoft&format=xml", "format")]
    public async Task Statement_WithABadQuery_Is400Problem_NamingTheParameter(string query, string field)
    {
        await broker.Admin.GetAsync($"/v1/ledger/statement?{query}").ExpectProblemAsync(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Commitments_ShowProgressOfTheVersionInForce()
    {
        var customer = $"c{Guid.NewGuid():N}"[..9];
        await broker.Admin.PostRawAsync("/v1/agreements", Examples.OctoberAgreement.Replace("openai", customer, StringComparison.Ordinal), contentType: "application/yaml")
            .ExpectAsync(HttpStatusCode.Created);

        var commitments = await broker.Admin.GetAsync("/v1/ledger/commitments?asOf=2026-01-01T00:00:00Z").ExpectAsync(HttpStatusCode.OK);

        var mine = commitments.Items().Single(c => c.Str("agreement") == $"microsoft-{customer}");
        Assert.Equal("azure-commitment", mine.Str("clause"));
        Assert.Equal("250000000000.00 USD", mine.Str("amount"));
    }

    [Fact]
    public async Task Commitments_OfAnotherCustomersAgreement_AreInvisibleToACustomerKey()
    {
        var customer = $"c{Guid.NewGuid():N}"[..9];
        await broker.Admin.PostRawAsync("/v1/agreements", Examples.OctoberAgreement.Replace("openai", customer, StringComparison.Ordinal), contentType: "application/yaml")
            .ExpectAsync(HttpStatusCode.Created);

        var forOther = await broker.Other.GetAsync("/v1/ledger/commitments?asOf=2026-01-01T00:00:00Z").ExpectAsync(HttpStatusCode.OK);
        var forAuditor = await broker.Auditor.GetAsync("/v1/ledger/commitments?asOf=2026-01-01T00:00:00Z").ExpectAsync(HttpStatusCode.OK);

        Assert.Empty(forOther.Items());
        Assert.Contains(forAuditor.Items(), c => c.Str("agreement") == $"microsoft-{customer}");
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("2026-01-01T25:00:00Z")]
    public async Task Commitments_WithABadAsOf_Is400Problem_NamingAsOf(string asOf)
    {
        await broker.Admin.GetAsync($"/v1/ledger/commitments?asOf={asOf}").ExpectProblemAsync(HttpStatusCode.BadRequest, "asOf");
    }

    [Fact]
    public async Task Events_ForACustomer_AreOnlyThatCustomers()
    {
        var (customer, _) = await CustomerAsync();
        await ReportAsync(customer, "2025-03-01", "2025-04-01", "1000.00 USD", "100.00 USD").ExpectAsync(HttpStatusCode.Created);

        var mine = await broker.Admin.GetAsync($"/v1/ledger/events?customer={customer}").ExpectAsync(HttpStatusCode.OK);
        var forOther = await broker.Other.GetAsync($"/v1/ledger/events?customer={customer}").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(["report.recorded", "share.accrued"], mine.Items().Select(e => e.Str("type")));
        Assert.DoesNotContain(forOther.Items(), e => e.Str("customer") != "other");
    }

    private Task<HttpResponseMessage> ReportAsync(string customer, string start, string end, string revenue, string profit) =>
        broker.Admin.PostJsonAsync("/v1/ledger/reports", new { customer, periodStart = start, periodEnd = end, revenue, profit });

    /// <summary>A customer of this test's own with the January example agreement: (customer, agreement id).</summary>
    private async Task<(string Customer, string Agreement)> CustomerAsync()
    {
        var customer = $"c{Guid.NewGuid():N}"[..9];
        await broker.Admin.PostRawAsync("/v1/agreements", Examples.JanuaryAgreement.Replace("openai", customer, StringComparison.Ordinal), contentType: "application/yaml")
            .ExpectAsync(HttpStatusCode.Created);
        return (customer, $"microsoft-{customer}");
    }
}
