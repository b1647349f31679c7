using ComputeBroker.Definitions;

namespace ComputeBroker.Tests.Definitions;

public sealed class ScalarFormatTests
{
    [Theory]
    [InlineData("P5D", 5 * 24 * 60)]
    [InlineData("PT4H", 4 * 60)]
    [InlineData("P1DT12H", 36 * 60)]
    [InlineData("PT90M", 90)]
    [InlineData("P2W", 14 * 24 * 60)]
    [InlineData("PT0S", 0)]
    public void IsoDuration_DaysAndClockUnits_Parse(string text, int minutes)
    {
        Assert.True(IsoDuration.TryParse(text, out var value, out var error), error);
        Assert.Equal(TimeSpan.FromMinutes(minutes), value);
    }

    [Theory]
    [InlineData("P1M", "write the duration in days")]
    [InlineData("P1Y", "write the duration in days")]
    [InlineData("p5d", "write the letters in capitals: P5D")]
    [InlineData("-P5D", "is negative")]
    [InlineData("P", "is not an ISO 8601 duration")]
    [InlineData("PT", "is not an ISO 8601 duration")]
    [InlineData("P1DT", "is not an ISO 8601 duration")]
    [InlineData("5 days", "is not an ISO 8601 duration (e.g. P5D")]
    public void IsoDuration_AmbiguousOrMalformed_IsRefusedWithTheFix(string text, string phrase)
    {
        Assert.False(IsoDuration.TryParse(text, out _, out var error));
        Assert.Contains(phrase, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2030-12-31", "2030-12-31T00:00:00+00:00")]
    [InlineData("2025-01-21T00:00:00Z", "2025-01-21T00:00:00+00:00")]
    [InlineData("2025-01-21T09:30:00+01:00", "2025-01-21T08:30:00+00:00")]
    [InlineData("2025-01-21T09:30Z", "2025-01-21T09:30:00+00:00")]
    [InlineData("2025-01-21T09:30:00.5Z", "2025-01-21T09:30:00.5000000+00:00")]
    public void IsoInstant_DateOrDateTimeWithOffset_ParsesToUtc(string text, string expected)
    {
        Assert.True(IsoInstant.TryParse(text, out var value, out var error), error);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value);
        Assert.Equal(TimeSpan.Zero, value.Offset);
    }

    [Theory]
    [InlineData("2025-01-21T09:30:00", "has no offset")]
    [InlineData("2025-02-30", "is not a calendar date")]
    [InlineData("21/01/2025", "is not an ISO 8601 instant")]
    [InlineData("2025-01-21T25:00:00Z", "is not a valid date and time")]
    public void IsoInstant_Malformed_IsRefusedWithTheFix(string text, string phrase)
    {
        Assert.False(IsoInstant.TryParse(text, out _, out var error));
        Assert.Contains(phrase, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.20", "0.20")]
    [InlineData("20%", "0.20")]
    [InlineData("0", "0")]
    [InlineData("100%", "1")]
    public void Rate_DecimalOrPercent_Parses(string text, string expected)
    {
        Assert.True(Rate.TryParse(text, out var value, out var error), error);
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("1.2")]
    [InlineData("-0.1")]
    [InlineData("120%")]
    [InlineData("twenty")]
    public void Rate_OutsideZeroToOneOrMalformed_IsRefused(string text)
    {
        Assert.False(Rate.TryParse(text, out _, out var error));
        Assert.Contains("0.20", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("respons-window", "response-window")]
    [InlineData("holdr", "holder")]
    [InlineData("first-refual", "first-refusal")]
    [InlineData("zzz", null)]
    public void Spelling_Closest_SuggestsOnlyLikelyTypos(string input, string? expected)
    {
        Assert.Equal(expected, Spelling.Closest(input, ["response-window", "holder", "first-refusal", "id"]));
    }
}
