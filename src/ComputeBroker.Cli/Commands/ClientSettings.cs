using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using ComputeBroker.Domain;
using ComputeBroker.Storage;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeBroker.Cli.Commands;

/// <summary>
/// The options every verb that talks to a running broker shares: where the broker is, and JSON instead of
/// tables. Subclasses check their own arguments in <see cref="ValidateArguments"/>, so a bad argument is
/// refused (exit 1) before any call is made.
/// </summary>
public abstract class ClientSettings : CommandSettings
{
    [CommandOption("--server <URL>")]
    [Description("The broker's URL. Default: BROKER_SERVER, else http://127.0.0.1:5080. The API key comes from BROKER_API_KEY.")]
    public string? Server { get; init; }

    [CommandOption("--json")]
    [Description("Print the server's JSON (indented) instead of tables.")]
    public bool Json { get; init; }

    public sealed override ValidationResult Validate()
    {
        if (Server is not null && (!Uri.TryCreate(Server, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            return ValidationResult.Error($"--server: '{Server}' is not an http(s) URL; give the broker's address, e.g. --server {BrokerClient.DefaultServer}");
        }

        return ValidateArguments();
    }

    /// <summary>The verb's own argument checks; each error names the option and the fix.</summary>
    protected virtual ValidationResult ValidateArguments() => ValidationResult.Success();
}

/// <summary>Argument checks shared by the verbs: one clear line naming the option and how to write it.</summary>
public static class Arguments
{
    public const string InstantExample = "2025-03-01 or 2025-03-01T09:00:00Z";

    /// <summary>The first failure of <paramref name="results"/>, or success.</summary>
    public static ValidationResult All(params ValidationResult[] results) =>
        results.FirstOrDefault(r => !r.Successful) ?? ValidationResult.Success();

    public static ValidationResult Required(string option, string? value, string example) =>
        string.IsNullOrWhiteSpace(value) ? ValidationResult.Error($"{option} is required, e.g. {option} {example}") : ValidationResult.Success();

    public static ValidationResult Money(string option, string? text, bool required, string example = "\"3.10 USD\"")
    {
        if (text is null)
        {
            return required ? ValidationResult.Error($"{option} is required: give an amount and a currency, e.g. {option} {example}") : ValidationResult.Success();
        }

        if (Domain.Money.TryParse(text, out _, out var error))
        {
            return ValidationResult.Success();
        }

        return ValidationResult.Error(error.Contains("write it as", StringComparison.Ordinal) ? $"{option}: {error}" : $"{option}: {error}; e.g. {option} {example}");
    }

    public static ValidationResult Instant(string option, string? text, bool required = false)
    {
        if (text is null)
        {
            return required ? ValidationResult.Error($"{option} is required: give an ISO 8601 date or instant, e.g. {option} {InstantExample}") : ValidationResult.Success();
        }

        return TryParseInstant(text, out _)
            ? ValidationResult.Success()
            : ValidationResult.Error($"{option}: '{text}' is not an ISO 8601 date or instant; write it as {InstantExample} (UTC unless an offset is given)");
    }

    /// <summary>
    /// A whole number given as text: numeric options are read as text and checked here, so that
    /// <c>--gpus abc</c> gets a line naming the option, not a type-conversion message.
    /// </summary>
    public static ValidationResult WholeNumber(string option, string? text, bool required = false, int min = 1, int max = int.MaxValue, string example = "512")
    {
        if (text is null)
        {
            return required ? ValidationResult.Error($"{option} is required: give a whole number, e.g. {option} {example}") : ValidationResult.Success();
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return ValidationResult.Error($"{option}: '{text}' is not a whole number; write it as digits, e.g. {option} {example}");
        }

        return value < min || value > max
            ? ValidationResult.Error(max == int.MaxValue ? $"{option} must be at least {min}, not {value}" : $"{option} must be between {min} and {max}, not {value}")
            : ValidationResult.Success();
    }

    /// <summary>A number already checked by <see cref="WholeNumber"/>.</summary>
    public static int? Number(string? text) => text is null ? null : int.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    public static ValidationResult ExistingFile(string name, string? path) =>
        path is null || File.Exists(path)
            ? ValidationResult.Success()
            : ValidationResult.Error($"{name}: {path}: {InputFiles.WhyNotAFile(path)}");

    public static ValidationResult Database(string? db) =>
        db is null || EventStoreLocation.TryParse(db, out _, out var error) ? ValidationResult.Success() : ValidationResult.Error($"--db: {error}");

    /// <summary>Dates are UTC unless an offset is given: 2025-03-01 is midnight UTC.</summary>
    public static bool TryParseInstant(string text, out DateTimeOffset at) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at);

    /// <summary>An instant already checked by <see cref="Instant"/>, in the round-trip form the API reads.</summary>
    public static string? Iso(string? text) =>
        text is null ? null : TryParseInstant(text, out var at) ? at.ToString("O", CultureInfo.InvariantCulture) : text;

    /// <summary>Money already checked by <see cref="Money"/>, in its canonical form (<c>3.10 USD</c>).</summary>
    public static string? Canonical(string? money) =>
        money is null ? null : Domain.Money.TryParse(money, out var m, out _) ? m.ToString() : money;
}

/// <summary>Rendering the server's JSON: as indented JSON for scripts, or as cells of a table for people.</summary>
public static class Output
{
    public static void Json(JsonElement element) => Console.Out.WriteLine(JsonSerializer.Serialize(element, CliJson.Indented));

    public static void Json<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, CliJson.Indented));

    /// <summary>A property as text: strings as they are, numbers and booleans as JSON, null or missing as empty.</summary>
    public static string Text(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? AsText(v) : string.Empty;

    public static string AsText(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString() ?? string.Empty,
        JsonValueKind.Null or JsonValueKind.Undefined => string.Empty,
        JsonValueKind.Array => string.Join(", ", v.EnumerateArray().Select(AsText)),
        _ => v.GetRawText(),
    };

    public static JsonElement Prop(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;

    public static IEnumerable<JsonElement> Items(this JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray() : [];

    /// <summary>An instant property as <c>2025-03-01 09:00</c> (UTC), or empty.</summary>
    public static string At(this JsonElement e, string name) =>
        Arguments.TryParseInstant(e.Text(name), out var at) && e.Text(name).Length > 0
            ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)
            : string.Empty;

    /// <summary>An ISO 8601 duration property (<c>P5DT4H</c>) in short human form (<c>5d 4h</c>), or empty.</summary>
    public static string Duration(this JsonElement e, string name)
    {
        var text = e.Text(name);
        if (text.Length == 0)
        {
            return string.Empty;
        }

        try
        {
            return Durations.Humanize(System.Xml.XmlConvert.ToTimeSpan(text));
        }
        catch (FormatException)
        {
            return text;
        }
    }

    public static string Esc(string text) => Markup.Escape(text);

    /// <summary>A state in the colour people expect: green done, yellow partly, red failed, blue still moving.</summary>
    public static string State(string state) => state switch
    {
        "placed" or "confirmed" or "accepted" or "quoted" or "in-force" or "passed" => $"[green]{Esc(state)}[/]",
        "partially-placed" or "not-yet" or "expired" or "partially-accepted" => $"[yellow]{Esc(state)}[/]",
        "unfulfilled" or "cancelled" or "rejected" or "declined" or "failed" or "terminated" or "timed-out" or "lapsed" => $"[red]{Esc(state)}[/]",
        _ => $"[blue]{Esc(state)}[/]",
    };

    /// <summary>
    /// A progress bar for a fraction between 0 and 1: <c>█████░░░░░ 50.0%</c>. A trigger near its threshold
    /// is a warning (yellow, red when reached); a commitment near its amount is good news.
    /// </summary>
    public static string Bar(decimal fraction, bool fullIsGood = false, int width = 20)
    {
        fraction = Math.Clamp(fraction, 0m, 1m);
        var filled = (int)Math.Round(fraction * width, MidpointRounding.AwayFromZero);
        var colour = fullIsGood ? "green" : fraction >= 1m ? "red" : fraction >= 0.75m ? "yellow" : "green";
        return $"[{colour}]{new string('█', filled)}[/][grey]{new string('░', width - filled)}[/] {(fraction * 100).ToString("0.0", CultureInfo.InvariantCulture)}%";
    }

    public static Table Table(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(Esc(column)));
        }

        return table;
    }

    /// <summary>Writes the table, or a grey line saying there is nothing, when it has no rows.</summary>
    public static void Write(Table table, string nothing)
    {
        if (table.Rows.Count == 0)
        {
            AnsiConsole.MarkupLine($"[grey]{Esc(nothing)}[/]");
            return;
        }

        AnsiConsole.Write(table);
    }

    public static void Done(string message) => AnsiConsole.MarkupLine($"[green]ok[/] {Esc(message)}");
}
