using ComputeBroker.Definitions;
using ComputeBroker.Domain;
using static ComputeBroker.Tests.Definitions.DefinitionAssert;

namespace ComputeBroker.Tests.Definitions;

public sealed class RequestsReaderTests
{
    private const string File = "requests.yaml";

    private const string Valid = """
          - id: r-001
            submit-at: 2025-02-01T09:00:00Z
            customer: openai
            workload-class: training
            accelerator: H100
            gpus: 16384
            earliest-start: 2025-03-01
            duration-hours: 720
            max-price: 12.29 USD
            needed-by: 2025-02-10
        """;

    /// <summary>A requests file of <paramref name="items"/> (block items at request indentation).</summary>
    private static Parsed<IReadOnlyList<ScheduledRequest>> Read(params string[] items) =>
        DefinitionReader.ReadRequests("kind: requests\nrequests:\n" + string.Join("\n", items) + "\n", File);

    /// <summary>The valid request with one key's value replaced.</summary>
    private static string With(string key, string value)
    {
        var line = Valid.Split('\n').Single(l => l.TrimStart(' ', '-').StartsWith(key + ":", StringComparison.Ordinal));
        return Valid.Replace(line, line[..(line.IndexOf(':', StringComparison.Ordinal) + 1)] + " " + value, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadRequests_ValidRequest_MapsEveryFieldAndDefaults()
    {
        var scheduled = Assert.Single(Clean(Read(Valid)));

        Assert.Equal(new DateTimeOffset(2025, 2, 1, 9, 0, 0, TimeSpan.Zero), scheduled.SubmitAt);
        var r = scheduled.Request;
        Assert.Equal(new RequestId("r-001"), r.Id);
        Assert.Equal(("openai", "training", "H100"), (r.Customer, r.WorkloadClass, r.Accelerator));
        Assert.Equal(new GpuCount(16384), r.Gpus);
        Assert.Equal(new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero), r.EarliestStart);
        Assert.Equal(720, r.DurationHours);
        Assert.Equal(PricePerGpuHour.Parse("12.29 USD"), r.MaxPrice);
        Assert.Equal(new DateTimeOffset(2025, 2, 10, 0, 0, 0, TimeSpan.Zero), r.NeededBy);
        Assert.Empty(r.Regions);
        Assert.False(r.AllOrNothing);
        Assert.Null(r.IdempotencyKey);
    }

    [Fact]
    public void ReadRequests_OptionalFields_AreRead()
    {
        var r = Clean(Read(Valid + "\n    regions: [eastus, westus3]\n    all-or-nothing: true\n    idempotency-key: k-1"))[0].Request;

        Assert.Equal(["eastus", "westus3"], r.Regions);
        Assert.True(r.AllOrNothing);
        Assert.Equal("k-1", r.IdempotencyKey);
    }

    [Fact]
    public void ReadRequests_IdLongerThanAStreamNameAllows_ReportsTheValidatorsFieldError()
    {
        var parsed = Read(With("id", new string('r', Names.MaxLength + 1)));

        ErrorAt(parsed, "requests[0].id", $"the limit is {Names.MaxLength}");
    }

    [Fact]
    public void ReadRequests_NeededByBeforeSubmitAt_ReportsTheValidatorsFieldError()
    {
        var parsed = Read(With("needed-by", "2025-01-31"));

        ErrorAt(parsed, "requests[0].needed-by", "is not after the submission instant");
    }

    [Fact]
    public void ReadRequests_NegativeGpus_SaysAtLeastOne()
    {
        var parsed = Read(With("gpus", "-5"));

        ErrorAt(parsed, "requests[0].gpus", "-5 is negative; give the number of GPUs (dies) wanted, at least 1");
    }

    [Fact]
    public void ReadRequests_ZeroGpus_SaysAtLeastOne()
    {
        var parsed = Read(With("gpus", "0"));

        ErrorAt(parsed, "requests[0].gpus", "0 is below 1; give the number of GPUs (dies) wanted, at least 1");
    }

    [Fact]
    public void ReadRequests_LowerCaseCurrency_AsksForACurrencyCode()
    {
        var parsed = Read(With("max-price", "12.29 usd"));

        ErrorAt(parsed, "requests[0].max-price", "'usd' in '12.29 usd' is not a currency code (three capital letters, e.g. USD)");
    }

    [Fact]
    public void ReadRequests_PriceWithoutCurrency_ShowsTheMoneyFormat()
    {
        var parsed = Read(With("max-price", "12.29"));

        ErrorAt(parsed, "requests[0].max-price", "'12.29' is not an amount of money (write it as '12.29 USD')");
    }

    [Fact]
    public void ReadRequests_ZeroMaxPrice_ReportsTheValidatorsRule()
    {
        var parsed = Read(With("max-price", "0 USD"));

        ErrorAt(parsed, "requests[0].max-price", "must be above zero");
    }

    [Fact]
    public void ReadRequests_MissingCustomer_SaysWhatToAddOnce()
    {
        var parsed = Read(Valid.Replace("    customer: openai\n", string.Empty, StringComparison.Ordinal));

        ErrorAt(parsed, "requests[0].customer", "is missing; add the customer submitting the request");
        Assert.Single(parsed.Errors);
    }

    [Fact]
    public void ReadRequests_DuplicateIdAndIdempotencyKey_NameTheFirst()
    {
        var keyed = Valid + "\n    idempotency-key: k-1";

        var parsed = Read(keyed, keyed);

        ErrorAt(parsed, "requests[1].id", "duplicate request id 'r-001' (also requests[0])");
        ErrorAt(parsed, "requests[1].idempotency-key", "duplicate idempotency key 'k-1' (also requests[0])");
    }

    [Fact]
    public void ReadRequests_MalformedFieldAndValidatorError_AreBothReported()
    {
        var text = With("needed-by", "2025-01-31").Replace("earliest-start: 2025-03-01", "earliest-start: March", StringComparison.Ordinal);

        var parsed = Read(text);

        ErrorAt(parsed, "requests[0].earliest-start", "'March' is not an ISO 8601 instant");
        ErrorAt(parsed, "requests[0].needed-by", "is not after the submission instant");
        Assert.Equal(2, parsed.Errors.Count);
    }

    [Fact]
    public void ReadRequests_NegativeDuration_ReportsTheValidatorsRule()
    {
        var parsed = Read(With("duration-hours", "-3"));

        ErrorAt(parsed, "requests[0].duration-hours", "must be a positive number of hours, not -3");
    }

    [Fact]
    public void ReadRequests_RegionsAsSingleValue_AsksForAList()
    {
        var parsed = Read(Valid + "\n    regions: eastus");

        ErrorAt(parsed, "requests[0].regions", "must be a list ([a, b]), not 'eastus'");
    }

    [Fact]
    public void ReadRequests_AllOrNothingNotBoolean_IsRefused()
    {
        var parsed = Read(Valid + "\n    all-or-nothing: yes");

        ErrorAt(parsed, "requests[0].all-or-nothing", "'yes' is not true or false");
    }

    [Fact]
    public void ReadRequests_MisspeltKey_SuggestsTheKnownKey()
    {
        var parsed = Read(Valid + "\n    neded-by: 2025-02-10");

        ErrorAt(parsed, "requests[0].neded-by", "unknown key 'neded-by'; did you mean 'needed-by'?");
    }

    [Fact]
    public void ReadRequests_IdAsList_IsReportedOnce()
    {
        var parsed = Read(With("id", "[r-001]"));

        ErrorAt(parsed, "requests[0].id", "must be a single value, not a list");
    }
}
