using ComputeBroker.Contracts;
using static ComputeBroker.Tests.Ledger.LedgerFixture;

namespace ComputeBroker.Tests.Ledger;

/// <summary>
/// Issue 5, point 5: <c>broker agreements diff ID V1 V2</c> shows what changed, clause by clause, on the
/// shipped example: the October 2025 amendment of the January 2025 agreement.
/// </summary>
public sealed class AgreementDiffTests
{
    private static readonly Agreement October = Example("microsoft-openai-2025-10.yaml");

    private static AgreementDiff V1ToV2 => AgreementDiffer.Diff(October, October.Version(1)!, October.Version(2)!);

    [Fact]
    public void Diff_V1ToV2_ListsEveryClauseOfBothVersionsInOrder()
    {
        var diff = V1ToV2;

        Assert.Equal(("microsoft-openai", 1, 2), (diff.Agreement, diff.From, diff.To));
        Assert.Equal((Day(2025, 1, 21), Day(2025, 10, 28)), (diff.FromEffective, diff.ToEffective));
        Assert.Equal(
            [
                ("azure-first-refusal", ClauseChangeKind.Removed),
                ("api-exclusivity", ClauseChangeKind.Changed),
                ("ip-access", ClauseChangeKind.Changed),
                ("revenue-share", ClauseChangeKind.Changed),
                ("agi-trigger", ClauseChangeKind.Changed),
                ("oracle-waiver", ClauseChangeKind.Removed),
                ("azure-commitment", ClauseChangeKind.Added),
            ],
            diff.Clauses.Select(c => (c.Clause, c.Change)));
    }

    [Fact]
    public void Diff_V1ToV2_RemovesTheFirstRefusalAndItsWaiver()
    {
        var removed = V1ToV2.Clauses.Where(c => c.Change == ClauseChangeKind.Removed).ToArray();

        Assert.Equal([("azure-first-refusal", "first-refusal"), ("oracle-waiver", "waiver")], removed.Select(c => (c.Clause, c.Kind)));
        Assert.All(removed, c => Assert.Empty(c.Fields));
    }

    [Fact]
    public void Diff_V1ToV2_AddsTheAzureCommitment()
    {
        var added = Assert.Single(V1ToV2.Clauses, c => c.Change == ClauseChangeKind.Added);

        Assert.Equal(("azure-commitment", "commitment"), (added.Clause, added.Kind));
    }

    // Regression (issue 5): values were written with the default encoder, '+' as \u002B.
    [Fact]
    public void Diff_V1ToV2_IpAccessRunsTwoYearsLonger()
    {
        var ip = Clause("ip-access");

        Assert.Equal("ip-access", ip.Kind);
        Assert.Equal([new FieldChange("until", "\"2030-12-31T00:00:00+00:00\"", "\"2032-12-31T00:00:00+00:00\"")], ip.Fields);
    }

    [Fact]
    public void Diff_V1ToV2_RevenueShareAndApiExclusivityLoseTheirEndDate()
    {
        Assert.Equal([new FieldChange("until", "\"2030-12-31T00:00:00+00:00\"", null)], Clause("revenue-share").Fields);
        Assert.Equal([new FieldChange("until", "\"2030-12-31T00:00:00+00:00\"", null)], Clause("api-exclusivity").Fields);
    }

    [Fact]
    public void Diff_V1ToV2_TheTriggerNowTerminatesTheRevenueShare()
    {
        Assert.Equal([new FieldChange("terminates", "[\"ip-access\"]", "[\"revenue-share\"]")], Clause("agi-trigger").Fields);
    }

    [Fact]
    public void Diff_V2ToV1_IsTheMirrorImage()
    {
        var diff = AgreementDiffer.Diff(October, October.Version(2)!, October.Version(1)!);

        Assert.Equal(["azure-first-refusal", "oracle-waiver"], diff.Clauses.Where(c => c.Change == ClauseChangeKind.Added).Select(c => c.Clause));
        Assert.Equal(["azure-commitment"], diff.Clauses.Where(c => c.Change == ClauseChangeKind.Removed).Select(c => c.Clause));
        Assert.Equal(
            [new FieldChange("until", "\"2032-12-31T00:00:00+00:00\"", "\"2030-12-31T00:00:00+00:00\"")],
            diff.Clauses.Single(c => c.Clause == "ip-access").Fields);
    }

    [Fact]
    public void Diff_VersionWithItself_ReportsEveryClauseUnchanged()
    {
        var v1 = October.Version(1)!;

        var diff = AgreementDiffer.Diff(October, v1, v1);

        Assert.Equal(6, diff.Clauses.Count);
        Assert.All(diff.Clauses, c => Assert.Equal(ClauseChangeKind.Unchanged, c.Change));
        Assert.All(diff.Clauses, c => Assert.Empty(c.Fields));
    }

    [Fact]
    public void Diff_RateChanged_ShowsTheFieldBeforeAndAfter()
    {
        var agreement = Agreement(Version(1, Day(2025, 1, 1), Share(rate: 0.20m)), Version(2, Day(2026, 1, 1), Share(rate: 0.15m, cap: Usd(10_000_000.00m))));

        var share = Assert.Single(AgreementDiffer.Diff(agreement, agreement.Version(1)!, agreement.Version(2)!).Clauses);

        Assert.Equal(ClauseChangeKind.Changed, share.Change);
        Assert.Equal([new FieldChange("rate", "0.20", "0.15"), new FieldChange("cap", null, "\"10000000.00 USD\"")], share.Fields);
    }

    private static ClauseChange Clause(string id) => V1ToV2.Clauses.Single(c => c.Clause == id);
}
