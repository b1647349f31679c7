namespace ComputeBroker.Cli.Tests;

[Collection(SharedServerCollection.Name)]
public sealed class AgreementVerbTests(SharedServer shared)
{
    private BrokerServer Server => shared.Server;

    [Fact]
    public async Task Providers_PrintsEachProviderWithItsListPrices()
    {
        var result = await Server.RunAsync("providers");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Microsoft Azure", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("H100: 3.00 USD", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("webhook", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Providers_WithJson_PrintsTheServersArray()
    {
        var json = (await Server.RunAsync("providers", "--json")).Json();

        Assert.Equal(new[] { "azure", "coreweave" }, json.EnumerateArray().Select(p => p.GetProperty("id").GetString()!).ToArray());
        Assert.Equal("12.29 USD", json[0].GetProperty("prices")[0].GetProperty("price").GetString());
    }

    [Fact]
    public async Task AgreementsList_PrintsEachAgreementWithItsVersions()
    {
        var result = await Server.RunAsync("agreements", "list");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("microsoft-openai", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("acme-coreweave", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("v1, v2", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgreementsList_WithJson_PrintsTheServersArray()
    {
        var json = (await Server.RunAsync("agreements", "list", "--json")).Json();

        var acme = json.EnumerateArray().Single(a => a.GetProperty("id").GetString() == "acme-coreweave");
        Assert.Equal("acme", acme.GetProperty("customer").GetString());
        Assert.Equal(2, acme.GetProperty("versions").GetArrayLength());
    }

    [Fact]
    public async Task AgreementsShow_PrintsEveryVersionAndClauseWithItsTerms()
    {
        var result = await Server.RunAsync("agreements", "show", "microsoft-openai");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("azure-first-refusal", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("responseWindow: P5D", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("January 2025 terms", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgreementsShow_WithJson_PrintsEachClauseAsItsOwnKind()
    {
        var json = (await Server.RunAsync("agreements", "show", "microsoft-openai", "--json")).Json();

        var clauses = json.GetProperty("versions")[0].GetProperty("clauses").EnumerateArray().ToArray();
        Assert.Contains(clauses, c => c.GetProperty("kind").GetString() == "trigger" && c.GetProperty("threshold").GetString() == "100000000000.00 USD");
    }

    [Fact]
    public async Task AgreementsShow_UnknownId_ExitsOneWithTheServersDetail()
    {
        var result = await Server.RunAsync("agreements", "show", "no-such-agreement");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("404", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("agreement no-such-agreement not found", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgreementsDiff_ShowsAddedRemovedAndChangedClausesWithBeforeAndAfter()
    {
        var result = await Server.RunAsync("agreements", "diff", "acme-coreweave");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("v1 (2025-01-01 00:00) → v2 (2025-03-01 00:00)", result.Stdout, StringComparison.Ordinal);
        var lines = result.Stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("coreweave-share", StringComparison.Ordinal) && l.Contains("added", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("coreweave-exclusivity", StringComparison.Ordinal) && l.Contains("removed", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("coreweave-commitment", StringComparison.Ordinal) && l.Contains("changed", StringComparison.Ordinal)
            && l.Contains("amount", StringComparison.Ordinal) && l.Contains("\"1000000.00 USD\" → \"2500000.00 USD\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AgreementsDiff_WithVersionsAndJson_PrintsTheServersDiff()
    {
        var json = (await Server.RunAsync("agreements", "diff", "acme-coreweave", "1", "2", "--json")).Json();

        Assert.Equal(1, json.GetProperty("from").GetInt32());
        Assert.Equal(2, json.GetProperty("to").GetInt32());
        var changes = json.GetProperty("clauses").EnumerateArray().ToDictionary(c => c.GetProperty("clause").GetString()!, c => c.GetProperty("change").GetString());
        Assert.Equal("changed", changes["coreweave-commitment"]);
        Assert.Equal("removed", changes["coreweave-exclusivity"]);
        Assert.Equal("added", changes["coreweave-share"]);
    }

    [Fact]
    public async Task AgreementsDiff_VersionThatDoesNotExist_ExitsOneWithTheFieldError()
    {
        var result = await Server.RunAsync("agreements", "diff", "acme-coreweave", "1", "7");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("400", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("to: must name an existing version", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgreementsApply_Amendment_AddsAVersionThatDiffCompares()
    {
        var applied = await Server.RunAsync("agreements", "apply", Repo.Path("examples/agreements/microsoft-openai-2025-10.yaml"));

        Assert.Equal(0, applied.ExitCode);
        Assert.Contains("applied agreement microsoft-openai: 2 version(s), latest v2", applied.Stdout, StringComparison.Ordinal);
        var diff = await Server.RunAsync("agreements", "diff", "microsoft-openai");
        Assert.Equal(0, diff.ExitCode);
        var lines = diff.Stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("azure-first-refusal", StringComparison.Ordinal) && l.Contains("removed", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("azure-commitment", StringComparison.Ordinal) && l.Contains("added", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AgreementsApply_BrokenFile_ExitsOneNamingThePathInTheFile()
    {
        var file = Server.WriteFile("broken-agreement.yaml", "kind: agreement\nid: broken\ncustomer: acme\nparties: [acme]\nversions:\n  - version: 1\n    effective: soon\n    clauses: []\n");

        var result = await Server.RunAsync("agreements", "apply", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("broken-agreement.yaml", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("effective", result.Stderr, StringComparison.Ordinal);
    }
}
