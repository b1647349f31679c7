using ComputeBroker.Contracts;
using ComputeBroker.Domain;

namespace ComputeBroker.Engine.Tests;

public sealed class ClauseResolverTests
{
    private static ClauseResolution Resolve(ContractBook book, CapacityRequest? request = null, DateTimeOffset? at = null, Func<AgreementId, ClauseId, int>? waiverUsed = null)
    {
        var (resolution, conflict) = ClauseResolver.Resolve(book, request ?? A.Request(), at ?? A.T0, waiverUsed ?? A.NoWaiverUse);
        Assert.Null(conflict);
        return Assert.IsType<ClauseResolution>(resolution);
    }

    private static ClauseConflict Conflict(ContractBook book, CapacityRequest? request = null)
    {
        var (resolution, conflict) = ClauseResolver.Resolve(book, request ?? A.Request(), A.T0, A.NoWaiverUse);
        Assert.Null(resolution);
        return Assert.IsType<ClauseConflict>(conflict);
    }

    // Scope

    [Theory]
    [InlineData("training", SourcingRoute.FirstRefusal)]
    [InlineData("inference", SourcingRoute.Open)]
    public void Resolve_FirstRefusalLimitedToTraining_AppliesOnlyToTrainingRequests(string workloadClass, SourcingRoute expected)
    {
        var book = A.Book(A.FirstRefusal() with { Scope = A.Scope(classes: ["training"]) });

        var resolution = Resolve(book, A.Request() with { WorkloadClass = workloadClass });

        Assert.Equal(expected, resolution.Route);
        Assert.Equal(expected == SourcingRoute.FirstRefusal, resolution.FirstRefusal is not null);
    }

    [Theory]
    [InlineData("H100", SourcingRoute.Exclusive)]
    [InlineData("GB200", SourcingRoute.Open)]
    public void Resolve_ExclusivityLimitedToAnAccelerator_AppliesOnlyToThatAccelerator(string accelerator, SourcingRoute expected)
    {
        var book = A.Book(A.Exclusivity() with { Scope = A.Scope(accelerators: ["H100", "H200"]) });

        var resolution = Resolve(book, A.Request() with { Accelerator = accelerator });

        Assert.Equal(expected, resolution.Route);
    }

    [Theory]
    [InlineData(new[] { "eastus" }, SourcingRoute.FirstRefusal)]
    [InlineData(new[] { "westeurope", "eastus" }, SourcingRoute.FirstRefusal)]
    [InlineData(new[] { "westeurope" }, SourcingRoute.Open)]
    public void Resolve_RegionLimitedClause_AppliesWhenTheRequestAllowsOneOfItsRegions(string[] requestRegions, SourcingRoute expected)
    {
        var book = A.Book(A.FirstRefusal() with { Scope = A.Scope(regions: ["eastus", "westus"]) });

        var resolution = Resolve(book, A.Request() with { Regions = requestRegions });

        Assert.Equal(expected, resolution.Route);
    }

    [Fact]
    public void Resolve_RequestNamingNoRegion_IsInScopeOfARegionLimitedClause()
    {
        // Documented rule: a request that names no region could be placed in one of the clause's regions.
        var book = A.Book(A.Exclusivity() with { Scope = A.Scope(regions: ["eastus"]) });

        var resolution = Resolve(book, A.Request() with { Regions = [] });

        Assert.Equal(SourcingRoute.Exclusive, resolution.Route);
        Assert.Equal(A.Clause("ex"), resolution.Exclusivity!.Clause.Id);
    }

    [Fact]
    public void Resolve_WaiverOutOfItsScope_DoesNotCoverTheRequest()
    {
        var book = A.Book(A.FirstRefusal(), A.Waiver() with { Scope = A.Scope(classes: ["research"]) });

        var resolution = Resolve(book, A.Request() with { WorkloadClass = "training" });

        Assert.Equal(SourcingRoute.FirstRefusal, resolution.Route);
        Assert.Null(resolution.Waiver);
    }

    // Term, termination, version

    [Theory]
    [InlineData(23.99, SourcingRoute.Open)]
    [InlineData(24, SourcingRoute.FirstRefusal)] // from is inclusive
    [InlineData(47.99, SourcingRoute.FirstRefusal)]
    [InlineData(48, SourcingRoute.Open)] // until is exclusive
    public void Resolve_ClauseWithATerm_AppliesFromInclusiveUntilExclusive(double hours, SourcingRoute expected)
    {
        var book = A.Book(A.FirstRefusal() with { From = A.At(24), Until = A.At(48) });

        var resolution = Resolve(book, at: A.At(hours));

        Assert.Equal(expected, resolution.Route);
    }

    [Fact]
    public void Resolve_AfterTermination_ClauseNoLongerApplies()
    {
        var book = A.Book(A.FirstRefusal()).WithTermination(new ClauseTermination(A.AgreementId, A.Clause("fr"), A.At(10), A.Clause("agi")));

        Assert.Equal(SourcingRoute.FirstRefusal, Resolve(book, at: A.At(9.99)).Route);
        Assert.Equal(SourcingRoute.Open, Resolve(book, at: A.At(10)).Route);
        Assert.Equal(SourcingRoute.Open, Resolve(book, at: A.At(100)).Route);
    }

    [Fact]
    public void WithTermination_SecondTerminationOfTheSameClause_KeepsTheFirst()
    {
        var book = A.Book(A.FirstRefusal())
            .WithTermination(new ClauseTermination(A.AgreementId, A.Clause("fr"), A.At(10), A.Clause("agi")))
            .WithTermination(new ClauseTermination(A.AgreementId, A.Clause("fr"), A.At(5), A.Clause("other")));

        Assert.Equal(A.At(10), book.TerminationOf(A.AgreementId, A.Clause("fr"))!.At);
        Assert.Equal(SourcingRoute.FirstRefusal, Resolve(book, at: A.At(7)).Route);
    }

    [Fact]
    public void Resolve_TerminationOfAnotherAgreementsClause_DoesNotAffectThisOne()
    {
        var book = A.Book(A.FirstRefusal()).WithTermination(new ClauseTermination(new AgreementId("other"), A.Clause("fr"), A.At(-100), A.Clause("agi")));

        Assert.Equal(SourcingRoute.FirstRefusal, Resolve(book).Route);
    }

    [Fact]
    public void Resolve_AmendmentEffectiveInstant_SwitchesTheVersionInForce()
    {
        var agreement = A.Agreement(A.FirstRefusal()).Amend(A.Version(2, A.At(10), A.IpAccess()));
        var book = A.Book(agreement);

        var before = Resolve(book, at: A.At(9.99));
        var from = Resolve(book, at: A.At(10));

        Assert.Equal(SourcingRoute.FirstRefusal, before.Route);
        Assert.Equal([A.V(1)], before.Versions);
        Assert.Equal(A.V(1), before.FirstRefusal!.Version);
        Assert.Equal(SourcingRoute.Open, from.Route);
        Assert.Equal([A.V(2)], from.Versions);
    }

    [Fact]
    public void Resolve_BeforeTheFirstVersionTakesEffect_IsOpenWithNoVersions()
    {
        var book = A.Book(A.Agreement() with { Versions = [A.Version(1, A.At(10), A.FirstRefusal())] });

        var resolution = Resolve(book, at: A.At(9));

        Assert.Equal(SourcingRoute.Open, resolution.Route);
        Assert.Empty(resolution.Versions);
    }

    [Fact]
    public void Resolve_AgreementOfAnotherCustomer_IsIgnored()
    {
        var book = A.Book(A.Agreement(A.Exclusivity()) with { Customer = "anthropic" });

        var resolution = Resolve(book);

        Assert.Equal(SourcingRoute.Open, resolution.Route);
        Assert.Empty(resolution.Versions);
        Assert.Null(resolution.Exclusivity);
    }

    // Precedence and conflicts

    [Fact]
    public void Resolve_ExclusivityAndFirstRefusalBothApply_ExclusivityWins()
    {
        var book = A.Book(A.FirstRefusal(), A.Exclusivity());

        var resolution = Resolve(book);

        Assert.Equal(SourcingRoute.Exclusive, resolution.Route);
        Assert.Equal(A.Stargate, resolution.Exclusivity!.Clause.Provider);
        Assert.Null(resolution.FirstRefusal);
        Assert.Null(resolution.Waiver);
    }

    [Fact]
    public void Resolve_TwoExclusivityClausesNamingDifferentProviders_IsAConflictNamingBoth()
    {
        var book = A.Book(A.Exclusivity("ex-stargate", A.Stargate), A.Exclusivity("ex-oracle", A.Oracle));

        var conflict = Conflict(book);

        Assert.Contains("'ex-stargate'", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("'ex-oracle'", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("r1", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_TwoExclusivityClausesInDifferentAgreements_IsAConflictNamingBoth()
    {
        var other = new Agreement(new AgreementId("oracle-openai"), A.Customer, ["openai", "oracle"], [A.Version(1, null, A.Exclusivity("ex-oracle", A.Oracle))]);
        var book = A.Book(A.Agreement(A.Exclusivity("ex-stargate", A.Stargate)), other);

        var conflict = Conflict(book);

        Assert.Contains("'ex-stargate' (microsoft-openai@v1)", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("'ex-oracle' (oracle-openai@v1)", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_TwoExclusivityClausesNamingTheSameProvider_UsesTheFirst()
    {
        var book = A.Book(A.Exclusivity("ex-1", A.Stargate), A.Exclusivity("ex-2", A.Stargate));

        var resolution = Resolve(book);

        Assert.Equal(A.Clause("ex-1"), resolution.Exclusivity!.Clause.Id);
    }

    [Fact]
    public void Resolve_ExclusivityClausesWithDisjointScopes_DoNotConflict()
    {
        var book = A.Book(
            A.Exclusivity("ex-stargate", A.Stargate) with { Scope = A.Scope(classes: ["training"]) },
            A.Exclusivity("ex-oracle", A.Oracle) with { Scope = A.Scope(classes: ["inference"]) });

        var resolution = Resolve(book, A.Request() with { WorkloadClass = "inference" });

        Assert.Equal(A.Oracle, resolution.Exclusivity!.Clause.Provider);
    }

    [Fact]
    public void Resolve_TwoFirstRefusalHolders_IsAConflictNamingBoth()
    {
        var book = A.Book(A.FirstRefusal("fr-azure", A.Azure), A.FirstRefusal("fr-oracle", A.Oracle));

        var conflict = Conflict(book);

        Assert.Contains("first-refusal", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("'fr-azure'", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("'fr-oracle'", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ConflictingClauseOutsideItsTerm_IsNoConflict()
    {
        var book = A.Book(A.FirstRefusal("fr-azure", A.Azure), A.FirstRefusal("fr-oracle", A.Oracle) with { Until = A.At(-1) });

        var resolution = Resolve(book);

        Assert.Equal(A.Azure, resolution.FirstRefusal!.Clause.Holder);
    }

    // Waivers

    [Fact]
    public void Resolve_WaiverGrantedByTheHolderInScopeAndBudget_CoversTheRequest()
    {
        var book = A.Book(A.FirstRefusal(), A.Waiver(budget: 8));

        var resolution = Resolve(book);

        Assert.Equal(SourcingRoute.Waived, resolution.Route);
        Assert.Equal(A.Clause("waiver"), resolution.Waiver!.Clause.Id);
        Assert.Equal(A.Clause("fr"), resolution.FirstRefusal!.Clause.Id);
    }

    [Fact]
    public void Resolve_WaiverGrantedByAnotherProvider_DoesNotCoverTheRequest()
    {
        var book = A.Book(A.FirstRefusal(), A.Waiver(grantedBy: A.Oracle, providers: A.CoreWeave));

        var resolution = Resolve(book);

        Assert.Equal(SourcingRoute.FirstRefusal, resolution.Route);
        Assert.Null(resolution.Waiver);
    }

    [Fact]
    public void Resolve_WaiverOutsideItsTerm_DoesNotCoverTheRequest()
    {
        var book = A.Book(A.FirstRefusal(), A.Waiver() with { Until = A.T0 });

        Assert.Equal(SourcingRoute.FirstRefusal, Resolve(book).Route);
        Assert.Equal(SourcingRoute.Waived, Resolve(book, at: A.At(-1)).Route);
    }

    [Theory]
    [InlineData(12, SourcingRoute.Waived)] // 20 - 12 = 8 left: holds the whole request
    [InlineData(13, SourcingRoute.FirstRefusal)] // 7 left: a waiver never covers part of a request
    public void Resolve_WaiverBudget_MustHoldTheWholeRequest(int used, SourcingRoute expected)
    {
        var book = A.Book(A.FirstRefusal(), A.Waiver(budget: 20));

        var resolution = Resolve(book, waiverUsed: (agreement, clause) => agreement == A.AgreementId && clause == A.Clause("waiver") ? used : 0);

        Assert.Equal(expected, resolution.Route);
    }

    [Fact]
    public void Resolve_TwoCoveringWaivers_UsesTheFirstInAgreementOrder()
    {
        var book = A.Book(A.FirstRefusal(), A.Waiver("waiver-a", providers: A.Oracle), A.Waiver("waiver-b", providers: A.CoreWeave));

        var resolution = Resolve(book);

        Assert.Equal(A.Clause("waiver-a"), resolution.Waiver!.Clause.Id);
    }

    [Fact]
    public void Resolve_FirstWaiverExhausted_UsesTheNextThatHoldsTheRequest()
    {
        var book = A.Book(A.FirstRefusal(), A.Waiver("waiver-a", budget: 10), A.Waiver("waiver-b", budget: 10));

        var resolution = Resolve(book, waiverUsed: (_, clause) => clause == A.Clause("waiver-a") ? 5 : 0);

        Assert.Equal(A.Clause("waiver-b"), resolution.Waiver!.Clause.Id);
    }

    [Fact]
    public void Resolve_WaiverWithoutAFirstRefusalClause_IsOpen()
    {
        var book = A.Book(A.Waiver());

        var resolution = Resolve(book);

        Assert.Equal(SourcingRoute.Open, resolution.Route);
        Assert.Null(resolution.Waiver);
    }

    [Fact]
    public void Resolve_WaiverUnderExclusivity_IsIgnored()
    {
        var book = A.Book(A.Exclusivity(), A.FirstRefusal(), A.Waiver());

        var resolution = Resolve(book);

        Assert.Equal(SourcingRoute.Exclusive, resolution.Route);
        Assert.Null(resolution.Waiver);
    }

    // Non-placement clauses

    [Fact]
    public void Resolve_OnlyNonPlacementClauses_IsOpenAndRecordsTheVersion()
    {
        var book = A.Book(A.IpAccess(), A.RevenueShare(), A.Commitment(), A.Trigger("agi", "ip"));

        var resolution = Resolve(book);

        Assert.Equal(SourcingRoute.Open, resolution.Route);
        Assert.Equal([A.V(1)], resolution.Versions);
        Assert.Null(resolution.FirstRefusal);
        Assert.Null(resolution.Exclusivity);
    }

    [Fact]
    public void Resolve_NonPlacementClausesBesideFirstRefusal_DoNotChangeTheRoute()
    {
        var plain = Resolve(A.Book(A.FirstRefusal()));
        var mixed = Resolve(A.Book(A.IpAccess(), A.RevenueShare(), A.FirstRefusal(), A.Commitment(), A.Trigger("agi", "fr")));

        Assert.Equal(SourcingRoute.FirstRefusal, mixed.Route);
        Assert.Equal(plain.FirstRefusal, mixed.FirstRefusal);
    }

    [Fact]
    public void Resolve_NoAgreements_IsOpen()
    {
        var resolution = Resolve(ContractBook.Empty);

        Assert.Same(ClauseResolution.Open, resolution);
    }
}
