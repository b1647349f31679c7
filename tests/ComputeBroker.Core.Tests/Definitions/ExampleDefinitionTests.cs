using ComputeBroker.Contracts;
using ComputeBroker.Definitions;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;
using static ComputeBroker.Tests.Definitions.DefinitionAssert;

namespace ComputeBroker.Tests.Definitions;

public sealed class ExampleDefinitionTests
{
    public static TheoryData<string> Examples => ExampleFiles.AllAsTheory();

    [Fact]
    public void Examples_AllFourShipped_AreFound()
    {
        Assert.Equal(
            ["examples/agreements/microsoft-openai-2025-01.yaml", "examples/agreements/microsoft-openai-2025-10.yaml", "examples/providers.yaml", "examples/requests.yaml"],
            ExampleFiles.All());
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Validate_ShippedExample_HasNoErrors(string file)
    {
        var errors = DefinitionReader.Validate(ExampleFiles.Read(file), file);

        Assert.True(errors.Count == 0, string.Join("\n", errors));
        Assert.NotNull(DefinitionReader.DetectKind(ExampleFiles.Read(file)));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Examples_StartWithTheSchemaModelineThatResolvesToAShippedSchema(string file)
    {
        var first = ExampleFiles.Read(file).Split('\n')[0].Trim();
        const string prefix = "# yaml-language-server: $schema=";

        Assert.StartsWith(prefix, first, StringComparison.Ordinal);
        var schema = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.Combine(ExampleFiles.Root, file))!, first[prefix.Length..]));
        Assert.True(File.Exists(schema), $"{file}: the modeline points at {schema}, which does not exist");
    }

    [Fact]
    public void ReadAgreement_January2025Example_MapsEveryClauseToItsCoreType()
    {
        var agreement = Clean(DefinitionReader.ReadAgreement(ExampleFiles.Read("examples/agreements/microsoft-openai-2025-01.yaml"), "jan.yaml"));

        Assert.Equal(new AgreementId("microsoft-openai"), agreement.Id);
        Assert.Equal("openai", agreement.Customer);
        Assert.Equal(["openai", "microsoft"], agreement.Parties);
        var version = Assert.Single(agreement.Versions);
        Assert.Equal(1, version.Number);
        Assert.Equal(new DateTimeOffset(2025, 1, 21, 0, 0, 0, TimeSpan.Zero), version.EffectiveFrom);

        var firstRefusal = Assert.IsType<FirstRefusalClause>(version.FindClause(new ClauseId("azure-first-refusal")));
        Assert.Equal(new ProviderId("azure"), firstRefusal.Holder);
        Assert.Equal(TimeSpan.FromDays(5), firstRefusal.ResponseWindow);
        Assert.True(firstRefusal.PartialAllowed);
        Assert.Equal(FirstRefusalMode.FirstOffer, firstRefusal.Mode);
        Assert.Null(firstRefusal.MatchWindow);
        Assert.Equal(["training", "research", "inference"], firstRefusal.Scope.WorkloadClasses);
        Assert.Empty(firstRefusal.Scope.Accelerators);

        var api = Assert.IsType<ExclusivityClause>(version.FindClause(new ClauseId("api-exclusivity")));
        Assert.Equal(new DateTimeOffset(2030, 12, 31, 0, 0, 0, TimeSpan.Zero), api.Until);
        Assert.Equal(["api"], api.Scope.WorkloadClasses);

        var share = Assert.IsType<RevenueShareClause>(version.FindClause(new ClauseId("revenue-share")));
        Assert.Equal(0.20m, share.Rate);
        Assert.Equal(RevenueShareBasis.Revenue, share.Basis);
        Assert.Null(share.Cap);

        var trigger = Assert.IsType<TriggerClause>(version.FindClause(new ClauseId("agi-trigger")));
        Assert.Equal(Money.Usd(100_000_000_000m), trigger.Threshold);
        Assert.Equal([new ClauseId("ip-access")], trigger.Terminates);

        var waiver = Assert.IsType<WaiverClause>(version.FindClause(new ClauseId("oracle-waiver")));
        Assert.Equal(new ProviderId("azure"), waiver.GrantedBy);
        Assert.Equal([new ProviderId("oracle")], waiver.Providers);
        Assert.Equal(new DateTimeOffset(2024, 6, 11, 0, 0, 0, TimeSpan.Zero), waiver.From);
        Assert.Equal(new GpuCount(50000), waiver.GpuBudget);
        Assert.IsType<IpAccessClause>(version.FindClause(new ClauseId("ip-access")));
    }

    [Fact]
    public void ReadAgreement_October2025Example_KeepsVersion1AndRemovesFirstRefusalInVersion2()
    {
        var agreement = Clean(DefinitionReader.ReadAgreement(ExampleFiles.Read("examples/agreements/microsoft-openai-2025-10.yaml"), "oct.yaml"));
        var january = Clean(DefinitionReader.ReadAgreement(ExampleFiles.Read("examples/agreements/microsoft-openai-2025-01.yaml"), "jan.yaml"));

        Assert.Equal(january.Id, agreement.Id);
        Assert.Equal([1, 2], agreement.Versions.Select(v => v.Number));
        Assert.Equal(january.Versions[0].EffectiveFrom, agreement.Versions[0].EffectiveFrom);
        Assert.Equal(
            january.Versions[0].Clauses.Select(c => (c.Id, c.Kind, c.From, c.Until)),
            agreement.Versions[0].Clauses.Select(c => (c.Id, c.Kind, c.From, c.Until)));
        var v2 = agreement.Version(2)!;
        Assert.Equal(new DateTimeOffset(2025, 10, 28, 0, 0, 0, TimeSpan.Zero), v2.EffectiveFrom);
        Assert.DoesNotContain(v2.Clauses, c => c is FirstRefusalClause or WaiverClause);
        var commitment = Assert.IsType<CommitmentClause>(Assert.Single(v2.Clauses, c => c is CommitmentClause));
        Assert.Equal(Money.Usd(250_000_000_000m), commitment.Amount);
        Assert.Equal(new ProviderId("azure"), commitment.Provider);
        Assert.Equal(new DateTimeOffset(2032, 12, 31, 0, 0, 0, TimeSpan.Zero), commitment.Deadline);
        Assert.Equal(new DateTimeOffset(2032, 12, 31, 0, 0, 0, TimeSpan.Zero), v2.Clauses.OfType<IpAccessClause>().Single().Until);
        Assert.Single(v2.Clauses.OfType<RevenueShareClause>());
        Assert.Equal(["api"], v2.Clauses.OfType<ExclusivityClause>().Single().Scope.WorkloadClasses);
        Assert.Same(v2, agreement.VersionAt(new DateTimeOffset(2025, 11, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void ReadProviders_Example_ReadsPolicyPricesCapacityAndAnswers()
    {
        var file = Clean(DefinitionReader.ReadProviders(ExampleFiles.Read("examples/providers.yaml"), "providers.yaml"));

        Assert.Equal(BrokerPolicy.Default, file.Policy);
        Assert.Equal(["azure", "oracle", "stargate", "coreweave"], file.Providers.Select(p => p.Id.Value));
        Assert.All(file.Providers, p => Assert.All(p.Prices, price => Assert.Equal(Currency.Usd, price.Price.Currency)));

        var azure = file.Providers[0];
        Assert.Equal("Microsoft Azure", azure.Name);
        Assert.Equal(ConnectorKind.Simulated, azure.Connector);
        Assert.Equal(PricePerGpuHour.Parse("12.29 USD"), azure.Prices.Single(p => p.Accelerator == "H100").Price);
        Assert.Equal(TimeSpan.FromHours(2), azure.Policy.MinLatency);
        Assert.Equal(TimeSpan.FromHours(20), azure.Policy.MaxLatency);

        var oracle = file.Providers[1];
        Assert.Equal(["10.00 USD", "12.25 USD", "16.00 USD"], oracle.Prices.Select(p => p.Price.PerHour.ToString()));

        var abilene = Assert.Single(file.Providers[2].Capacity);
        Assert.Equal(new CapacityChange("GB200", "abilene", new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero), 64000, new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero)), abilene);
        Assert.Equal(0.02, file.Providers[3].Policy.ReservationFailureRate);
    }

    [Fact]
    public void ReadRequests_Example_ReadsEightValidUsdRequestsInSubmissionOrder()
    {
        var requests = Clean(DefinitionReader.ReadRequests(ExampleFiles.Read("examples/requests.yaml"), "requests.yaml"));

        Assert.Equal(8, requests.Count);
        Assert.Equal(requests.OrderBy(r => r.SubmitAt).Select(r => r.Request.Id), requests.Select(r => r.Request.Id));
        Assert.All(requests, r => Assert.Equal(Currency.Usd, r.Request.MaxPrice.Currency));
        Assert.All(requests, r => Assert.Empty(CapacityRequestValidator.Validate(r.Request, r.SubmitAt)));
        Assert.Contains(requests, r => r.Request.AllOrNothing);
        Assert.Contains(requests, r => r.Request.WorkloadClass == "api");
        Assert.Contains(requests, r => r.Request.WorkloadClass == "inference");

        var first = requests[0];
        Assert.Equal(new DateTimeOffset(2025, 2, 3, 9, 0, 0, TimeSpan.Zero), first.SubmitAt);
        Assert.Equal(new GpuCount(65536), first.Request.Gpus);
        Assert.Equal(new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero), first.Request.EarliestStart);
        Assert.Empty(first.Request.Regions);
        Assert.Equal("2025-02-frontier-pretrain", first.Request.IdempotencyKey);
    }
}
