namespace ComputeBroker.Cli.Tests;

[Collection(SharedServerCollection.Name)]
public sealed class LedgerAndClauseVerbTests(SharedServer shared)
{
    private BrokerServer Server => shared.Server;

    [Fact]
    public async Task ReportAdjustStatement_AccrueTheRevenueShare_AndTheCsvIsWritten()
    {
        var report = await Server.RunAsync("ledger", "report", "--customer", "openai", "--from", "2025-01-01", "--to", "2025-02-01", "--revenue", "1000000 USD", "--profit", "250000 USD");
        var adjust = await Server.RunAsync("ledger", "adjust", "--customer", "openai", "--period-start", "2025-01-01", "--revenue-delta", "-310000 USD", "--profit-delta", "0 USD", "--reason", "restated after audit");
        var statement = await Server.RunAsync("ledger", "statement", "--payee", "microsoft", "--from", "2025-01-01", "--to", "2025-02-01", "--csv", "statement.csv");
        var json = (await Server.RunAsync("ledger", "statement", "--payee", "microsoft", "--json")).Json();

        Assert.Equal(0, report.ExitCode);
        Assert.Contains("report.recorded", report.Stdout, StringComparison.Ordinal);
        Assert.Contains("openai owes microsoft 70967.74 USD", report.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, adjust.ExitCode);
        Assert.Contains("report.adjusted", adjust.Stdout, StringComparison.Ordinal);
        Assert.Contains("restated after audit", adjust.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, statement.ExitCode);
        Assert.Contains("total USD: 48967.74 USD", statement.Stdout, StringComparison.Ordinal);
        Assert.Contains("wrote 1 line(s) to statement.csv", statement.Stdout, StringComparison.Ordinal);
        var csv = await File.ReadAllLinesAsync(Path.Combine(Server.Directory, "statement.csv"));
        Assert.StartsWith("payer,payee,agreement,clause,period_start", csv[0], StringComparison.Ordinal);
        Assert.StartsWith("openai,microsoft,microsoft-openai,revenue-share,2025-01-01,2025-02-01,11,", csv[1], StringComparison.Ordinal);
        Assert.Equal("48967.74 USD", json.GetProperty("totals").GetProperty("USD").GetString());
    }

    [Fact]
    public async Task Report_WithJson_PrintsTheLedgerEvents()
    {
        var json = (await Server.RunAsync("ledger", "report", "--customer", "openai", "--from", "2025-03-01", "--to", "2025-04-01", "--revenue", "3100000 USD", "--profit", "-5 USD", "--json")).Json();

        var types = json.EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToArray();
        Assert.Equal("report.recorded", types[0]);
        Assert.Contains("share.accrued", types);
    }

    [Fact]
    public async Task Report_SamePeriodTwice_ExitsOneWithTheServersProblem()
    {
        var args = new[] { "ledger", "report", "--customer", "openai", "--from", "2025-05-01", "--to", "2025-06-01", "--revenue", "1 USD", "--profit", "1 USD" };
        Assert.Equal(0, (await Server.RunAsync(args)).ExitCode);

        var again = await Server.RunAsync(args);

        Assert.Equal(1, again.ExitCode);
        Assert.Matches("^error: 4\\d\\d ", again.Stderr);
    }

    [Fact]
    public async Task Report_ForAnotherCustomer_ExitsOneListingTheFieldError()
    {
        var openai = await Server.CreateKeyAsync("customer:openai");

        var result = await Server.RunAsAsync(openai, "ledger", "report", "--customer", "acme", "--from", "2025-07-01", "--to", "2025-08-01", "--revenue", "1 USD", "--profit", "1 USD");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("400", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("  customer: a key for customer openai reports only its own figures", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commitments_AsOf_ShowsProgressTowardTheVersionInForce()
    {
        var table = await Server.RunAsync("ledger", "commitments", "--as-of", "2025-04-01");
        var json = (await Server.RunAsync("ledger", "commitments", "--as-of", "2025-02-15", "--json")).Json();

        Assert.Equal(0, table.ExitCode);
        Assert.Contains(table.Stdout.Split('\n'), l => l.Contains("coreweave-commitment", StringComparison.Ordinal) && l.Contains("2500000.00 USD", StringComparison.Ordinal) && l.Contains('%', StringComparison.Ordinal));
        var acme = json.EnumerateArray().Single(c => c.GetProperty("clause").GetString() == "coreweave-commitment");
        Assert.Equal("1000000.00 USD", acme.GetProperty("amount").GetString());
    }

    [Fact]
    public async Task ClausesStatus_ShowsStateTimeLeftAndTriggerProgress()
    {
        var result = await Server.RunAsync("clauses", "status", "--agreement", "microsoft-openai");

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("api-exclusivity", StringComparison.Ordinal) && l.Contains("in-force", StringComparison.Ordinal) && l.Contains("2030-12-31 00:00", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("agi-trigger", StringComparison.Ordinal) && l.Contains('░', StringComparison.Ordinal) && l.Contains('%', StringComparison.Ordinal));
        Assert.DoesNotContain("acme-coreweave", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("as of 2025-02-01 00:00 UTC", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClausesStatus_AsOfWithJson_ReportsExpiredAndTimeLeft()
    {
        var before = (await Server.RunAsync("clauses", "status", "--agreement", "acme-coreweave", "--as-of", "2025-02-20", "--json")).Json();
        var after = await Server.RunAsync("clauses", "status", "--agreement", "acme-coreweave", "--as-of", "2025-02-20T00:00:00Z");

        var exclusivity = before.EnumerateArray().Single(s => s.GetProperty("clause").GetString() == "coreweave-exclusivity");
        Assert.Equal("in-force", exclusivity.GetProperty("state").GetString());
        Assert.Equal("P101D", exclusivity.GetProperty("timeLeft").GetString());
        Assert.Contains("101d 0h", after.Stdout, StringComparison.Ordinal);
    }
}
