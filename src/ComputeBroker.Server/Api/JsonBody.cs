using System.Globalization;
using System.Text.Json;
using ComputeBroker.Domain;

namespace ComputeBroker.Server.Api;

/// <summary>
/// Reads fields from a JSON request body and collects every problem with its field name and fix,
/// so a bad body gets one answer listing all of them (never a 500, never the first only).
/// </summary>
public sealed class JsonBody
{
    private readonly JsonElement _root;
    private readonly List<FieldError> _errors = [];

    private JsonBody(JsonElement root) => _root = root;

    public IReadOnlyList<FieldError> Errors => _errors;

    public bool Ok => _errors.Count == 0;

    public static (JsonBody? Body, string? Error) Parse(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                ? (new JsonBody(doc.RootElement.Clone()), null)
                : (null, "the body must be a JSON object");
        }
        catch (JsonException ex)
        {
            return (null, $"the body is not valid JSON: {ex.Message}");
        }
    }

    public void Error(string field, string message) => _errors.Add(new FieldError(field, message));

    /// <summary>Texts longer than this are refused: every one the API takes is a name, an amount, an instant or a short reason, and lands in the log.</summary>
    public const int MaxText = 1000;

    public string? String(string field, bool required = true)
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error(field, "is required");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            Error(field, "must be a non-empty string");
            return null;
        }

        var text = value.GetString()!;
        if (text.Length > MaxText)
        {
            Error(field, $"is {text.Length} characters long; the limit is {MaxText}");
            return null;
        }

        return text;
    }

    public int? Int(string field, bool required = true, int min = int.MinValue)
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error(field, "is required");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n))
        {
            Error(field, "must be a whole number");
            return null;
        }

        if (n < min)
        {
            Error(field, $"must be at least {min}");
            return null;
        }

        return n;
    }

    public bool Bool(string field, bool fallback = false)
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Error(field, "must be true or false");
            return fallback;
        }

        return value.GetBoolean();
    }

    public DateTimeOffset? Instant(string field, bool required = true)
    {
        var text = String(field, required);
        if (text is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }

        Error(field, $"'{text}' is not an ISO 8601 instant (e.g. 2025-03-01T00:00:00Z)");
        return null;
    }

    public Money? Money(string field, bool required = true)
    {
        var text = String(field, required);
        if (text is null)
        {
            return null;
        }

        if (Domain.Money.TryParse(text, out var money, out var error))
        {
            return money;
        }

        Error(field, error);
        return null;
    }

    public IReadOnlyList<string> Strings(string field)
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
        {
            Error(field, "must be an array of strings");
            return [];
        }

        return value.EnumerateArray().Select(v => v.GetString()!).ToArray();
    }

    /// <summary>Fields the body has that the endpoint does not know: a typo must not be silently ignored.</summary>
    public void RejectUnknown(params string[] known)
    {
        foreach (var property in _root.EnumerateObject())
        {
            if (!known.Contains(property.Name, StringComparer.Ordinal))
            {
                Error(property.Name, $"is not a field of this request; known fields: {string.Join(", ", known)}");
            }
        }
    }
}
