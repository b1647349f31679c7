using System.Globalization;
using System.Text.RegularExpressions;

namespace ComputeBroker.Definitions;

/// <summary>
/// ISO 8601 durations in days and clock units (<c>P5D</c>, <c>PT4H</c>, <c>P1DT12H</c>, <c>P2W</c>).
/// Years and months are refused: their length varies, so a window written in them would mean
/// different spans on different dates (Catala treats such date arithmetic as an error; so do we).
/// </summary>
internal static partial class IsoDuration
{
    public const string Example = "e.g. P5D, PT4H or P1DT12H";

    public static bool TryParse(string text, out TimeSpan value, out string error)
    {
        value = default;
        error = string.Empty;
        var match = Pattern().Match(text);
        if (!IsWellFormed(match, text))
        {
            var upper = text.ToUpperInvariant();
            error = upper != text && IsWellFormed(Pattern().Match(upper), upper)
                ? $"'{text}' is not an ISO 8601 duration; write the letters in capitals: {upper}"
                : $"'{text}' is not an ISO 8601 duration ({Example})";
            return false;
        }

        if (match.Groups["y"].Success || match.Groups["mo"].Success)
        {
            error = $"'{text}' counts years or months, whose length varies; write the duration in days (e.g. P30D, P365D)";
            return false;
        }

        if (match.Groups["neg"].Success)
        {
            error = $"'{text}' is negative; a duration here must be zero or more";
            return false;
        }

        try
        {
            var days = Whole(match, "w") * 7 + Whole(match, "d");
            var seconds = match.Groups["s"].Success
                ? decimal.Parse(match.Groups["s"].Value.Replace(',', '.'), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture)
                : 0m;
            var total = checked((((days * 24m) + Whole(match, "h")) * 60m + Whole(match, "mi")) * 60m + seconds);
            if (total > (decimal)TimeSpan.MaxValue.TotalSeconds / 2)
            {
                error = $"'{text}' is too long to be a duration here";
                return false;
            }

            value = TimeSpan.FromTicks((long)(total * TimeSpan.TicksPerSecond));
            return true;
        }
        catch (OverflowException)
        {
            error = $"'{text}' is too long to be a duration here";
            return false;
        }
    }

    /// <summary>The shortest ISO 8601 form of a duration (<c>P1DT12H</c>), for messages.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "PT0S";
        }

        var text = "P" + (value.Days > 0 ? $"{value.Days.ToString(CultureInfo.InvariantCulture)}D" : string.Empty);
        var time = (value.Hours > 0 ? $"{value.Hours.ToString(CultureInfo.InvariantCulture)}H" : string.Empty)
            + (value.Minutes > 0 ? $"{value.Minutes.ToString(CultureInfo.InvariantCulture)}M" : string.Empty)
            + (value.Seconds > 0 ? $"{value.Seconds.ToString(CultureInfo.InvariantCulture)}S" : string.Empty);
        return time.Length > 0 ? $"{text}T{time}" : text;
    }

    /// <summary>The pattern makes every part optional; a duration still needs one part, and a T needs a time part after it.</summary>
    private static bool IsWellFormed(Match match, string text) =>
        match.Success
        && (match.Groups["y"].Success || match.Groups["mo"].Success || match.Groups["w"].Success || match.Groups["d"].Success || HasTime(match))
        && (!text.Contains('T', StringComparison.Ordinal) || HasTime(match));

    private static bool HasTime(Match match) => match.Groups["h"].Success || match.Groups["mi"].Success || match.Groups["s"].Success;

    private static decimal Whole(Match match, string group) =>
        match.Groups[group].Success ? decimal.Parse(match.Groups[group].Value, NumberStyles.None, CultureInfo.InvariantCulture) : 0m;

    [GeneratedRegex(@"^(?<neg>-)?P(?:(?<y>\d+)Y)?(?:(?<mo>\d+)M)?(?:(?<w>\d+)W)?(?:(?<d>\d+)D)?(?:T(?:(?<h>\d+)H)?(?:(?<mi>\d+)M)?(?:(?<s>\d+(?:[.,]\d+)?)S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>
/// ISO 8601 instants with an explicit offset or <c>Z</c>, or a plain date meaning midnight UTC.
/// A date-time without an offset is refused: it would mean a different instant on every machine.
/// Instants are returned in UTC so that reports print them the same way whatever offset was written.
/// </summary>
internal static partial class IsoInstant
{
    public const string Example = "e.g. 2025-01-21T00:00:00Z, or 2030-12-31 for midnight UTC";

    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mmzzz",
        "yyyy-MM-dd'T'HH:mm:sszzz",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz",
    ];

    public static bool TryParse(string text, out DateTimeOffset value, out string error)
    {
        value = default;
        error = string.Empty;
        var match = Pattern().Match(text);
        if (!match.Success)
        {
            error = $"'{text}' is not an ISO 8601 instant ({Example})";
            return false;
        }

        if (!match.Groups["time"].Success)
        {
            if (DateTimeOffset.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
            {
                value = date.ToUniversalTime();
                return true;
            }

            error = $"'{text}' is not a calendar date ({Example})";
            return false;
        }

        if (!match.Groups["zone"].Success)
        {
            error = $"'{text}' has no offset; add Z for UTC ({text}Z) or an offset such as +01:00";
            return false;
        }

        var zone = match.Groups["zone"].Value is "Z" or "z" ? "+00:00" : match.Groups["zone"].Value;
        var normalized = $"{match.Groups["date"].Value}T{match.Groups["time"].Value}{zone}";
        if (!DateTimeOffset.TryParseExact(normalized, Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant))
        {
            error = $"'{text}' is not a valid date and time ({Example})";
            return false;
        }

        value = instant.ToUniversalTime();
        return true;
    }

    /// <summary>An instant as written in files: a plain date at midnight UTC, else seconds precision with Z.</summary>
    public static string Format(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return utc.TimeOfDay == TimeSpan.Zero
            ? utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^(?<date>\d{4}-\d{2}-\d{2})(?:[Tt](?<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)(?<zone>[Zz]|[+-]\d{2}:\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>A fraction between 0 and 1, written as a decimal (<c>0.20</c>) or a percentage (<c>20%</c>).</summary>
internal static class Rate
{
    public static bool TryParse(string text, out decimal value, out string error)
    {
        value = default;
        error = string.Empty;
        var percent = text.EndsWith('%');
        var number = percent ? text[..^1].TrimEnd() : text;
        if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
        {
            error = $"'{text}' is not a rate; write a decimal between 0 and 1 (0.20) or a percentage (20%)";
            return false;
        }

        value = percent ? parsed / 100m : parsed;
        if (value is < 0m or > 1m)
        {
            error = $"'{text}' is not a rate between 0 and 1; write it as a decimal (0.20) or a percentage (20%)";
            return false;
        }

        return true;
    }
}

/// <summary>"Did you mean" suggestions by edit distance, for misspelt keys and names.</summary>
internal static class Spelling
{
    /// <summary>The closest candidate within a small edit distance, or null when none is close enough to be a likely typo.</summary>
    public static string? Closest(string input, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Distance(input.ToLowerInvariant(), candidate.ToLowerInvariant());
            var allowed = Math.Max(1, Math.Min(3, candidate.Length / 3));
            if (distance <= allowed && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>Levenshtein distance with two rows: names here are short, so no cleverness is needed.</summary>
    public static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>"; did you mean 'x'?" when a candidate is close, otherwise "; use one of a, b, c".</summary>
    public static string Hint(string input, IEnumerable<string> candidates, string useOneOf = "use one of") =>
        Closest(input, candidates) is { } close
            ? $"; did you mean '{close}'?"
            : $"; {useOneOf} {string.Join(", ", candidates)}";
}
