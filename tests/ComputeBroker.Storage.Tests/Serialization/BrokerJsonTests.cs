using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Serialization;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Storage.Tests.Serialization;

/// <summary>The stored JSON of every domain event: round trip, canonical bytes, and the documented value formats.</summary>
public sealed class BrokerJsonTests
{
    private static readonly DateTimeOffset At = new(2025, 3, 1, 9, 30, 0, TimeSpan.Zero);
    private static readonly RequestId R = new("r-001");
    private static readonly ProviderId Azure = new("azure");
    private static readonly ProviderId CoreWeave = new("coreweave");

    private static PricePerGpuHour Price(string text) => PricePerGpuHour.Parse(text);

    private static ClauseRef Clause(string agreement, int version, string clause) =>
        new(new AgreementVersionRef(new AgreementId(agreement), version), new ClauseId(clause));

    /// <summary>One or more samples of every event type; <see cref="EverySourcingEventType_HasASample"/> keeps it complete.</summary>
    public static TheoryData<SourcingEvent> Samples => new(AllSamples);

    private static IReadOnlyList<SourcingEvent> AllSamples =>
    [
        new RequestSubmitted(R, At, new CapacityRequest
        {
            Id = R,
            Customer = "openai",
            WorkloadClass = "training",
            Accelerator = "H100",
            Gpus = new GpuCount(512),
            EarliestStart = At.AddDays(7),
            DurationHours = 720,
            Regions = ["eastus", "westus3"],
            MaxPrice = Price("2.85 USD"),
            NeededBy = At.AddDays(2),
            AllOrNothing = true,
            IdempotencyKey = "key-1",
        }),
        new ClausesResolved(R, At, SourcingRoute.Open, [], null, null, null, FirstRefusalMode.FirstOffer, false, null, null, GpuCount.None, [Azure, CoreWeave]),
        new ClausesResolved(
            R,
            At,
            SourcingRoute.Waived,
            [new AgreementVersionRef(new AgreementId("microsoft-openai"), 3), new AgreementVersionRef(new AgreementId("oracle-openai"), 1)],
            Exclusivity: null,
            FirstRefusal: Clause("microsoft-openai", 3, "rofr-training"),
            Holder: Azure,
            Mode: FirstRefusalMode.Match,
            HolderMayAcceptPart: true,
            MatchWindow: TimeSpan.FromHours(36),
            Waiver: Clause("microsoft-openai", 3, "waiver-stargate"),
            WaiverGpus: new GpuCount(1024),
            Market: [CoreWeave]),
        new ClausesResolved(R, At, SourcingRoute.Exclusive, [new AgreementVersionRef(new AgreementId("microsoft-openai"), 1)],
            Clause("microsoft-openai", 1, "exclusive-api"), null, Azure, FirstRefusalMode.FirstOffer, false, null, null, GpuCount.None, []),
        new OfferMade(R, At, new OfferId("r-001/1"), OfferKind.FirstRefusal, Azure, new GpuCount(512), Price("2.85 USD"), true, At.AddDays(2)),
        new OfferAccepted(R, At.AddHours(1), new OfferId("r-001/1"), Azure, new GpuCount(256)),
        new OfferDeclined(R, At.AddHours(1), new OfferId("r-001/1"), Azure, "no capacity in eastus"),
        new OfferExpired(R, At.AddDays(2), new OfferId("r-001/1"), Azure),
        new QuotesRequested(R, At, [CoreWeave, new ProviderId("oracle")], new GpuCount(256), Price("2.85 USD"), At.AddHours(4)),
        new QuoteReceived(R, At.AddHours(2), CoreWeave, new GpuCount(256), Price("2.4999 USD"), At.AddDays(7), At.AddDays(1)),
        new QuoteDeclined(R, At.AddHours(2), new ProviderId("oracle"), "sold out"),
        new QuoteWindowClosed(R, At.AddHours(4), [new ProviderId("lambda")]),
        new AwardMade(R, At.AddHours(4), 1, CoreWeave, new GpuCount(256), Price("2.4999 USD"), At.AddDays(7), At.AddHours(8)),
        new ReservationFailed(R, At.AddHours(8), 1, CoreWeave, "expired"),
        new AllocationMade(R, At.AddHours(5), CoreWeave, new GpuCount(256), Price("2.4999 USD"), At.AddDays(7), AllocationSource.Market, 1),
        new AllocationMade(R, At.AddHours(1), Azure, new GpuCount(256), Price("2.85 USD"), At.AddDays(7), AllocationSource.Offer, null),
        new AllocationReleased(R, At.AddHours(9), Azure, new GpuCount(256)),
        new RequestClosed(R, At.AddHours(9), RequestOutcome.PartiallyPlaced, new GpuCount(256), new GpuCount(256), "no quotes left"),
        new RequestClosed(R, At.AddHours(9), RequestOutcome.Placed, new GpuCount(512), GpuCount.None, null),
    ];

    [Fact]
    public void EverySourcingEventType_HasASample()
    {
        var declared = typeof(SourcingEvent).GetCustomAttributes<JsonDerivedTypeAttribute>().Select(a => a.DerivedType).ToHashSet();
        var sampled = AllSamples.Select(e => e.GetType()).ToHashSet();

        Assert.Empty(declared.Except(sampled));
    }

    [Theory]
    [MemberData(nameof(Samples), DisableDiscoveryEnumeration = true)]
    public void Event_RoundTrips_ToAnEquivalentEvent_AndTheSameBytes(SourcingEvent original)
    {
        var json = BrokerJson.Serialize(original);
        var back = BrokerJson.Deserialize<SourcingEvent>(json);

        Assert.IsType(original.GetType(), back);
        Assert.Equivalent(original, back, strict: true);
        Assert.Equal(json, BrokerJson.Serialize(back));
        Assert.StartsWith($$"""{"type":"{{original.Type}}",""", json, StringComparison.Ordinal);
        Assert.Single(JsonDocument.Parse(json).RootElement.EnumerateObject(), p => p.Name == "type");
    }

    [Fact]
    public void ClausesResolved_WithNulls_IsWrittenInTheDocumentedShape()
    {
        SourcingEvent e = new ClausesResolved(R, At, SourcingRoute.Open, [], null, null, null, FirstRefusalMode.FirstOffer, false, null, null, GpuCount.None, [Azure, CoreWeave]);

        Assert.Equal(
            """{"type":"clauses.resolved","route":"open","versions":[],"exclusivity":null,"firstRefusal":null,"holder":null,"mode":"first-offer","holderMayAcceptPart":false,"matchWindow":null,"waiver":null,"waiverGpus":0,"market":["azure","coreweave"],"requestId":"r-001","at":"2025-03-01T09:30:00+00:00"}""",
            BrokerJson.Serialize(e));
    }

    [Fact]
    public void ClausesResolved_WithClauses_WritesVersionRefsHolderAndIsoDuration()
    {
        SourcingEvent e = AllSamples.OfType<ClausesResolved>().Single(c => c.Route == SourcingRoute.Waived);

        var json = BrokerJson.Serialize(e);

        Assert.Contains("""
            "versions":[{"agreement":"microsoft-openai","version":3},{"agreement":"oracle-openai","version":1}]
            """, json, StringComparison.Ordinal);
        Assert.Contains("""
            "firstRefusal":{"version":{"agreement":"microsoft-openai","version":3},"clause":"rofr-training"},"holder":"azure","mode":"match"
            """, json, StringComparison.Ordinal);
        Assert.Contains("\"matchWindow\":\"P1DT12H\"", json, StringComparison.Ordinal);
        Assert.Contains("\"waiverGpus\":1024", json, StringComparison.Ordinal);
    }

    [Fact]
    public void OfferMade_WritesMoneyAsAmountAndCurrency_AndEnumsInKebabCase()
    {
        SourcingEvent e = new OfferMade(R, At, new OfferId("r-001/1"), OfferKind.FirstRefusal, Azure, new GpuCount(64), Price("12.29 USD"), false, At.AddDays(5));

        Assert.Equal(
            """{"type":"offer.made","offer":"r-001/1","kind":"first-refusal","provider":"azure","gpus":64,"price":"12.29 USD","partialAllowed":false,"respondBy":"2025-03-06T09:30:00+00:00","requestId":"r-001","at":"2025-03-01T09:30:00+00:00"}""",
            BrokerJson.Serialize(e));
    }

    [Fact]
    public void Serialization_IsCanonical_EqualValuesGiveTheSameBytes()
    {
        SourcingEvent a = new QuoteReceived(R, At, Azure, new GpuCount(8), new PricePerGpuHour(new Money(12.290m, Currency.Usd)), At, At.AddHours(1));
        SourcingEvent b = new QuoteReceived(new RequestId("r-001"), At, new ProviderId("azure"), new GpuCount(8), Price("12.29 USD"), At, At.AddHours(1));

        Assert.Equal(BrokerJson.Serialize(a), BrokerJson.Serialize(a));
        Assert.Equal(BrokerJson.Serialize(a), BrokerJson.Serialize(b));
    }

    [Theory]
    [InlineData("12.29", "USD", "\"12.29 USD\"")]
    [InlineData("12", "USD", "\"12.00 USD\"")]
    [InlineData("12.290", "EUR", "\"12.29 EUR\"")]
    [InlineData("0.123456789", "USD", "\"0.123456789 USD\"")]
    [InlineData("-3.5", "USD", "\"-3.50 USD\"")]
    [InlineData("79228162514264337593543950335", "USD", "\"79228162514264337593543950335.00 USD\"")]
    public void Money_IsWrittenAsCanonicalAmountAndCurrency_AndReadsBackExactly(string amount, string currency, string expected)
    {
        var money = new Money(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), new Currency(currency));

        var json = JsonSerializer.Serialize(money, BrokerJson.Options);

        Assert.Equal(expected, json);
        Assert.Equal(money, JsonSerializer.Deserialize<Money>(json, BrokerJson.Options));
    }

    [Theory]
    [InlineData(0, 15, 0, "\"PT15M\"")]
    [InlineData(5 * 24, 0, 0, "\"P5D\"")]
    [InlineData(1, 30, 0, "\"PT1H30M\"")]
    [InlineData(0, 0, 0, "\"PT0S\"")]
    public void Durations_AreWrittenInIso8601(int hours, int minutes, int seconds, string expected)
    {
        var duration = new TimeSpan(hours, minutes, seconds);

        var json = JsonSerializer.Serialize(duration, BrokerJson.Options);

        Assert.Equal(expected, json);
        Assert.Equal(duration, JsonSerializer.Deserialize<TimeSpan>(json, BrokerJson.Options));
    }

    [Fact]
    public void IdsCurrencyAndGpuCount_AreWrittenAsPlainValues()
    {
        Assert.Equal("\"azure\"", JsonSerializer.Serialize(Azure, BrokerJson.Options));
        Assert.Equal("\"microsoft-openai\"", JsonSerializer.Serialize(new AgreementId("microsoft-openai"), BrokerJson.Options));
        Assert.Equal("\"rofr\"", JsonSerializer.Serialize(new ClauseId("rofr"), BrokerJson.Options));
        Assert.Equal("\"r-001/2\"", JsonSerializer.Serialize(new OfferId("r-001/2"), BrokerJson.Options));
        Assert.Equal("\"USD\"", JsonSerializer.Serialize(Currency.Usd, BrokerJson.Options));
        Assert.Equal("8", JsonSerializer.Serialize(new GpuCount(8), BrokerJson.Options));
        Assert.Equal("\"12.29 USD\"", JsonSerializer.Serialize(Price("12.29 USD"), BrokerJson.Options));
        Assert.Equal(Price("12.29 USD"), JsonSerializer.Deserialize<PricePerGpuHour>("\"12.29 USD/GPU-h\"", BrokerJson.Options));
    }

    [Theory]
    [InlineData("\"12,29 USD\"", typeof(Money), "is not a decimal number")]
    [InlineData("\"12.29\"", typeof(Money), "write it as '12.29 USD'")]
    [InlineData("\"five days\"", typeof(TimeSpan), "is not an ISO 8601 duration (e.g. P5D or PT15M)")]
    [InlineData("-1", typeof(GpuCount), "cannot be negative")]
    [InlineData("\"usd\"", typeof(Currency), "is not a currency code")]
    [InlineData("0", typeof(OfferKind), "")]
    [InlineData("\"first_refusal\"", typeof(OfferKind), "")]
    public void MalformedValues_AreRejectedWithAJsonException_NamingTheProblem(string json, Type type, string message)
    {
        var error = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(json, type, BrokerJson.Options));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_AreReadOnly_SoNoCallerCanChangeTheStoredFormat()
    {
        Assert.True(BrokerJson.Options.IsReadOnly);
        Assert.Throws<InvalidOperationException>(() => BrokerJson.Options.WriteIndented = true);
    }
}
