using System.Text.Json;
using System.Text.Json.Serialization;
using ComputeBroker.Domain;

namespace ComputeBroker.Storage;

/// <summary>
/// The name of one event stream, such as <c>request-r-001</c>, <c>agreement-microsoft-openai</c> or
/// <c>ledger-openai</c>: a category, a dash, and the id of the thing the stream is about.
/// Immutable; compared and sorted ordinally, which is the order digests use.
/// In JSON it is its plain string.
/// </summary>
[JsonConverter(typeof(StreamIdJsonConverter))]
public readonly record struct StreamId : IComparable<StreamId>
{
    /// <summary>The longest stream id the stores accept, in characters.</summary>
    public const int MaxLength = 200;

    public StreamId(string value)
    {
        if (!IsValid(value, out var problem))
        {
            throw new ArgumentException(problem, nameof(value));
        }

        Value = value;
    }

    public string Value { get; }

    public static StreamId ForRequest(RequestId request) => new($"request-{request.Value}");

    public static StreamId ForAgreement(AgreementId agreement) => new($"agreement-{agreement.Value}");

    /// <summary>The ledger stream of one party, e.g. <c>ledger-openai</c>.</summary>
    public static StreamId ForLedger(string party) => new($"ledger-{party}");

    /// <summary>
    /// True when <paramref name="value"/> can name a stream: 1 to <see cref="MaxLength"/> characters,
    /// no control characters and no whitespace (ids are read in audit reports and logs).
    /// </summary>
    public static bool IsValid(string? value, out string problem)
    {
        if (string.IsNullOrEmpty(value))
        {
            problem = "a stream id cannot be empty; use a name such as 'request-r-001'";
            return false;
        }

        if (value.Length > MaxLength)
        {
            problem = $"stream id '{value[..40]}...' is {value.Length} characters long; the limit is {MaxLength}";
            return false;
        }

        foreach (var c in value)
        {
            if (!Names.Allowed(c))
            {
                problem = $"stream id '{value}' contains U+{(int)c:X4}; use letters, digits and punctuation such as '-', '.', ':'";
                return false;
            }
        }

        problem = string.Empty;
        return true;
    }

    public int CompareTo(StreamId other) => string.CompareOrdinal(Value, other.Value);

    public static bool operator <(StreamId a, StreamId b) => a.CompareTo(b) < 0;

    public static bool operator >(StreamId a, StreamId b) => a.CompareTo(b) > 0;

    public static bool operator <=(StreamId a, StreamId b) => a.CompareTo(b) <= 0;

    public static bool operator >=(StreamId a, StreamId b) => a.CompareTo(b) >= 0;

    public bool StartsWith(string prefix) => (Value ?? string.Empty).StartsWith(prefix, StringComparison.Ordinal);

    public override string ToString() => Value;
}

internal sealed class StreamIdJsonConverter : JsonConverter<StreamId>
{
    public override StreamId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return StreamId.IsValid(value, out var problem) ? new StreamId(value!) : throw new JsonException(problem);
    }

    public override void Write(Utf8JsonWriter writer, StreamId value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Value);
}
