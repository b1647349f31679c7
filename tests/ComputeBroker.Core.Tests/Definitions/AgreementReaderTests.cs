using ComputeBroker.Contracts;
using ComputeBroker.Definitions;
using ComputeBroker.Domain;
using static ComputeBroker.Tests.Definitions.DefinitionAssert;

namespace ComputeBroker.Tests.Definitions;

public sealed class AgreementReaderTests
{
    private const string File = "agreements/microsoft.yaml";

    /// <summary>An agreement with one version whose clauses are the given YAML lines (each a flow mapping or a block at clause indentation).</summary>
    private static string Agreement(params string[] clauses) =>
        "kind: agreement\nid: microsoft-openai\ncustomer: openai\nparties: [openai, microsoft]\nversions:\n" +
        "  - version: 1\n    effective: 2025-01-21T00:00:00Z\n    clauses:\n" +
        string.Concat(clauses.Select(c => $"      - {c}\n"));

    private const string FirstRefusal = "{ id: fr, kind: first-refusal, holder: azure, response-window: P5D }";

    private static Parsed<Agreement> Read(params string[] clauses) => DefinitionReader.ReadAgreement(Agreement(clauses), File);

    [Fact]
    public void ReadAgreement_ResponseWindowNotIso8601_NamesPathAndFix()
    {
        var parsed = Read(
            "{ id: api, kind: exclusivity, provider: azure }",
            "{ id: ip, kind: ip-access, licensee: microsoft }",
            "{ id: fr, kind: first-refusal, holder: azure, response-window: 'five days' }");

        var error = ErrorAt(parsed, "versions[0].clauses[2].response-window", "'five days' is not an ISO 8601 duration (e.g. P5D");
        Assert.Equal("agreements/microsoft.yaml: versions[0].clauses[2].response-window: 'five days' is not an ISO 8601 duration (e.g. P5D, PT4H or P1DT12H)", error.ToString());
        Assert.Single(parsed.Errors);
    }

    [Fact]
    public void ReadAgreement_ResponseWindowInMonths_AsksForDays()
    {
        var parsed = Read("{ id: fr, kind: first-refusal, holder: azure, response-window: P1M }");

        ErrorAt(parsed, "versions[0].clauses[0].response-window", "write the duration in days");
    }

    [Fact]
    public void ReadAgreement_MisspeltKey_SuggestsTheKnownKeyAndReportsTheMissingOne()
    {
        var parsed = Read("{ id: fr, kind: first-refusal, holder: azure, respons-window: P5D }");

        var unknown = ErrorAt(parsed, "versions[0].clauses[0].respons-window", "unknown key 'respons-window'; did you mean 'response-window'?");
        Assert.Equal(9, unknown.Line);
        ErrorAt(parsed, "versions[0].clauses[0].response-window", "is missing; add the time the holder has to answer an offer");
        Assert.Equal(2, parsed.Errors.Count);
    }

    [Fact]
    public void ReadAgreement_KeyOfAnotherClauseKind_ListsTheKindsKeys()
    {
        var parsed = Read("{ id: ip, kind: ip-access, licensee: microsoft, scope: { regions: [eastus] } }");

        ErrorAt(parsed, "versions[0].clauses[0].scope", "unknown key 'scope'; an ip-access clause takes id, kind, from, until, licensee");
    }

    [Fact]
    public void ReadAgreement_MissingHolder_SaysWhatToAdd()
    {
        var parsed = Read("{ id: fr, kind: first-refusal, response-window: P5D }");

        ErrorAt(parsed, "versions[0].clauses[0].holder", "is missing; add the provider that holds the right, e.g. azure");
    }

    [Fact]
    public void ReadAgreement_MissingTopLevelKeys_ReportsEachOne()
    {
        var parsed = DefinitionReader.ReadAgreement("kind: agreement\nparties: [openai]\n", File);

        ErrorAt(parsed, "id", "is missing");
        ErrorAt(parsed, "customer", "is missing");
        ErrorAt(parsed, "versions", "is missing");
    }

    [Fact]
    public void ReadAgreement_UnknownClauseKind_SuggestsTheClosestKindAndSkipsItsKeys()
    {
        var parsed = Read("{ id: fr, kind: first-refual, holder: azure, response-window: P5D }");

        ErrorAt(parsed, "versions[0].clauses[0].kind", "unknown clause kind 'first-refual'; did you mean 'first-refusal'?");
        Assert.Single(parsed.Errors);
    }

    [Fact]
    public void ReadAgreement_DuplicateClauseId_PointsAtTheSecondAndNamesTheFirst()
    {
        var parsed = Read(FirstRefusal, "{ id: fr, kind: ip-access, licensee: microsoft }");

        ErrorAt(parsed, "versions[0].clauses[1].id", "duplicate clause id 'fr' (also versions[0].clauses[0])");
    }

    [Fact]
    public void ReadAgreement_MatchModeWithoutMatchWindow_RequiresIt()
    {
        var parsed = Read("{ id: fr, kind: first-refusal, holder: azure, response-window: P5D, mode: match }");

        ErrorAt(parsed, "versions[0].clauses[0].match-window", "is required when mode is match");
    }

    [Fact]
    public void ReadAgreement_MatchWindowInFirstOfferMode_IsRefused()
    {
        var parsed = Read("{ id: fr, kind: first-refusal, holder: azure, response-window: P5D, match-window: P2D }");

        ErrorAt(parsed, "versions[0].clauses[0].match-window", "applies only when mode is match");
    }

    [Fact]
    public void ReadAgreement_MatchModeWithWindow_MapsToFirstRefusalClause()
    {
        var agreement = Clean(Read("{ id: fr, kind: first-refusal, holder: azure, response-window: P1DT12H, partial: false, mode: match, match-window: PT36H, scope: { accelerators: [H100] } }"));

        var clause = Assert.IsType<FirstRefusalClause>(Assert.Single(agreement.Versions[0].Clauses));
        Assert.Equal(
            new FirstRefusalClause(new("fr"), null, null, new("azure"), clause.Scope, TimeSpan.FromHours(36), false, FirstRefusalMode.Match, TimeSpan.FromHours(36)),
            clause);
        Assert.Equal(["H100"], clause.Scope.Accelerators);
        Assert.Empty(clause.Scope.WorkloadClasses);
    }

    [Fact]
    public void ReadAgreement_TriggerTerminatesUnknownClause_SuggestsTheClauseMeant()
    {
        var parsed = Read(
            "{ id: ip, kind: ip-access, licensee: microsoft }",
            "{ id: agi, kind: trigger, metric: cumulative-profit, threshold: 100000000000 USD, terminates: [ip, ipx] }");

        ErrorAt(parsed, "versions[0].clauses[1].terminates[1]", "'ipx' names no clause of version 1; did you mean 'ip'?");
        Assert.Single(parsed.Errors);
    }

    [Fact]
    public void ReadAgreement_TriggerTerminatesClauseOfAnotherVersion_IsRefused()
    {
        var text = Agreement("{ id: ip, kind: ip-access, licensee: microsoft }") +
            "  - version: 2\n    effective: 2025-10-28T00:00:00Z\n    clauses:\n" +
            "      - { id: agi, kind: trigger, metric: cumulative-revenue, threshold: 5 USD, terminates: [ip] }\n";

        var parsed = DefinitionReader.ReadAgreement(text, File);

        ErrorAt(parsed, "versions[1].clauses[0].terminates[0]", "'ip' names no clause of version 2");
    }

    [Fact]
    public void ReadAgreement_WaiverGrantedByNonHolder_NamesTheHolder()
    {
        var parsed = Read(FirstRefusal, "{ id: w, kind: waiver, granted-by: aws, providers: [oracle], gpu-budget: 100 }");

        ErrorAt(parsed, "versions[0].clauses[1].granted-by", "'aws' holds no first-refusal clause in version 1; a waiver is granted by a first-refusal holder (azure)");
    }

    [Fact]
    public void ReadAgreement_WaiverWithoutAnyFirstRefusal_IsRefused()
    {
        var parsed = Read("{ id: w, kind: waiver, granted-by: azure, providers: [oracle], gpu-budget: 100 }");

        ErrorAt(parsed, "versions[0].clauses[0].granted-by", "version 1 has none");
    }

    [Fact]
    public void ReadAgreement_UntilNotAfterFrom_ExplainsTheExclusiveEnd()
    {
        var parsed = Read("{ id: ip, kind: ip-access, licensee: microsoft, from: 2030-12-31, until: 2025-01-01 }");

        ErrorAt(parsed, "versions[0].clauses[0].until", "2025-01-01 is not after from 2030-12-31; until is the exclusive end");
    }

    [Fact]
    public void ReadAgreement_RateAboveOne_AsksForAFraction()
    {
        var parsed = Read("{ id: rs, kind: revenue-share, payer: openai, payee: microsoft, rate: 20, basis: revenue }");

        ErrorAt(parsed, "versions[0].clauses[0].rate", "'20' is not a rate between 0 and 1; write it as a decimal (0.20) or a percentage (20%)");
    }

    [Fact]
    public void ReadAgreement_RevenueShareWithPercentAndCap_MapsExactly()
    {
        var agreement = Clean(Read("{ id: rs, kind: revenue-share, payer: openai, payee: microsoft, rate: 20%, basis: profit, cap: 92000000000 USD, until: 2030-12-31 }"));

        var clause = Assert.IsType<RevenueShareClause>(Assert.Single(agreement.Versions[0].Clauses));
        Assert.Equal(
            new RevenueShareClause(new("rs"), null, new DateTimeOffset(2030, 12, 31, 0, 0, 0, TimeSpan.Zero), "openai", "microsoft", 0.20m, RevenueShareBasis.Profit, Domain.Money.Usd(92_000_000_000m)),
            clause);
    }

    [Fact]
    public void ReadAgreement_NegativeThreshold_AsksForAPositiveAmount()
    {
        var parsed = Read("{ id: ip, kind: ip-access, licensee: microsoft }", "{ id: agi, kind: trigger, metric: cumulative-profit, threshold: -1 USD, terminates: [ip] }");

        ErrorAt(parsed, "versions[0].clauses[1].threshold", "'-1 USD' is not a positive amount");
    }

    [Fact]
    public void ReadAgreement_CapNotMoney_ShowsTheMoneyFormat()
    {
        var parsed = Read("{ id: rs, kind: revenue-share, payer: openai, payee: microsoft, rate: 0.2, basis: revenue, cap: 92 billion USD }");

        ErrorAt(parsed, "versions[0].clauses[0].cap", "is not an amount of money (write it as '12.29 USD')");
    }

    [Fact]
    public void ReadAgreement_UnknownBasis_ListsTheChoices()
    {
        var parsed = Read("{ id: rs, kind: revenue-share, payer: openai, payee: microsoft, rate: 0.2, basis: turnover }");

        ErrorAt(parsed, "versions[0].clauses[0].basis", "unknown basis 'turnover'; use one of revenue, profit");
    }

    [Fact]
    public void ReadAgreement_EffectiveWithoutOffset_AsksForZOrOffset()
    {
        var text = Agreement(FirstRefusal).Replace("2025-01-21T00:00:00Z", "2025-01-21T00:00:00", StringComparison.Ordinal);

        var parsed = DefinitionReader.ReadAgreement(text, File);

        ErrorAt(parsed, "versions[0].effective", "has no offset; add Z for UTC (2025-01-21T00:00:00Z)");
    }

    [Fact]
    public void ReadAgreement_AmendmentEffectiveBeforeTheVersionItAmends_IsRefused()
    {
        var text = Agreement(FirstRefusal) + "  - version: 2\n    effective: 2024-12-01\n    clauses: []\n";

        var parsed = DefinitionReader.ReadAgreement(text, File);

        ErrorAt(parsed, "versions[1].effective", "2024-12-01 is not after version 1's effective instant 2025-01-21");
    }

    [Fact]
    public void ReadAgreement_DuplicateVersionNumber_NamesTheOther()
    {
        var text = Agreement(FirstRefusal) + "  - version: 1\n    effective: 2025-10-28\n    clauses: []\n";

        var parsed = DefinitionReader.ReadAgreement(text, File);

        ErrorAt(parsed, "versions[1].version", "duplicate version number 1 (also versions[0])");
    }

    [Fact]
    public void ReadAgreement_CustomerNotAParty_IsRefused()
    {
        var text = Agreement(FirstRefusal).Replace("parties: [openai, microsoft]", "parties: [microsoft]", StringComparison.Ordinal);

        var parsed = DefinitionReader.ReadAgreement(text, File);

        ErrorAt(parsed, "customer", "'openai' is not one of the parties [microsoft]");
    }

    [Fact]
    public void ReadAgreement_IdLongerThanAStreamNameAllows_IsRefused()
    {
        var text = Agreement(FirstRefusal).Replace("id: microsoft-openai", "id: " + new string('a', Names.MaxLength + 1), StringComparison.Ordinal);

        var parsed = DefinitionReader.ReadAgreement(text, File);

        ErrorAt(parsed, "id", $"is {Names.MaxLength + 1} characters long; the limit is {Names.MaxLength}");
    }

    [Fact]
    public void ReadAgreement_CustomerWithASpace_IsRefused()
    {
        // The customer names its ledger's stream, whose id holds no whitespace.
        var text = Agreement(FirstRefusal).Replace("customer: openai", "customer: 'open ai'", StringComparison.Ordinal)
            .Replace("parties: [openai, microsoft]", "parties: ['open ai', microsoft]", StringComparison.Ordinal);

        var parsed = DefinitionReader.ReadAgreement(text, File);

        ErrorAt(parsed, "customer", "contains U+0020");
    }

    [Fact]
    public void ReadAgreement_SeveralMistakes_ReportsEveryOneInOneRun()
    {
        var parsed = Read(
            "{ id: fr, kind: first-refusal, holder: azure, response-window: 'five days', mode: match }",
            "{ id: fr, kind: exclusivity, provider: azure, scope: { workload-class: [api] } }",
            "{ id: c, kind: commitment, provider: azure, amount: 250 USD, deadline: someday }");

        Assert.Equal(
            [
                "versions[0].clauses[0].response-window",
                "versions[0].clauses[0].match-window",
                "versions[0].clauses[1].scope.workload-class",
                "versions[0].clauses[2].deadline",
                "versions[0].clauses[1].id",
            ],
            parsed.Errors.Select(e => e.Path));
        Assert.All(parsed.Errors, e => Assert.Equal(File, e.File));
    }

    [Fact]
    public void ReadAgreement_VersionWithoutClausesKey_AsksForAnEmptyListAtLeast()
    {
        var text = "kind: agreement\nid: a\ncustomer: openai\nparties: [openai]\nversions:\n  - { version: 1, effective: 2025-01-21 }\n";

        var parsed = DefinitionReader.ReadAgreement(text, File);

        ErrorAt(parsed, "versions[0].clauses", "is missing; add the clauses of this version (an empty list [] if it has none)");
    }

    [Fact]
    public void ReadAgreement_ScopeAsList_SaysItMustBeAMapping()
    {
        var parsed = Read("{ id: api, kind: exclusivity, provider: azure, scope: [api] }");

        ErrorAt(parsed, "versions[0].clauses[0].scope", "must be a mapping");
    }

    [Fact]
    public void ReadAgreement_JsonText_ReadsLikeYaml()
    {
        const string json = """
            {
              "kind": "agreement", "id": "a", "customer": "openai", "parties": ["openai", "microsoft"],
              "versions": [{ "version": 1, "effective": "2025-01-21T00:00:00Z", "clauses": [
                { "id": "w", "kind": "waiver", "granted-by": "azure", "providers": ["oracle"], "gpu-budget": 50000, "from": "2024-06-11" },
                { "id": "fr", "kind": "first-refusal", "holder": "azure", "response-window": "P5D", "partial": true }
              ] }]
            }
            """;

        var agreement = Clean(DefinitionReader.ReadAgreement(json, "a.json"));

        var waiver = Assert.IsType<WaiverClause>(agreement.Versions[0].Clauses[0]);
        Assert.Equal(50000, waiver.GpuBudget.Value);
        Assert.Equal(Scope.Everything, waiver.Scope);
    }
}
