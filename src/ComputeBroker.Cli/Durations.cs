using System.Globalization;

namespace ComputeBroker.Cli;

/// <summary>Short human forms of elapsed time: <c>0m</c>, <c>2h 10m</c>, <c>3d 4h</c>.</summary>
public static class Durations
{
    public static string Humanize(TimeSpan? span)
    {
        if (span is not { } s)
        {
            return "n/a";
        }

        if (s < TimeSpan.Zero)
        {
            return "-" + Humanize(-s);
        }

        return s.TotalDays >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)s.TotalDays}d {s.Hours}h")
            : s.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)s.TotalHours}h {s.Minutes}m")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)s.TotalMinutes}m");
    }
}

/// <summary>JSON for people reading the CLI's <c>--json</c> output: the log's JSON, indented.</summary>
public static class CliJson
{
    public static System.Text.Json.JsonSerializerOptions Indented { get; } = new(ComputeBroker.Serialization.BrokerJson.Options) { WriteIndented = true };
}
