using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Xml;
using ComputeBroker.Domain;

namespace ComputeBroker.Serialization;

/// <summary>
/// The one JSON shape of ComputeBroker's domain values and events, as stored in the event log and
/// sent over the wire: camelCase names, enums as kebab-case strings (<c>first-refusal</c>), money and
/// prices as <c>"12.29 USD"</c>, durations as ISO 8601 (<c>"PT15M"</c>), ids as plain strings.
/// </summary>
/// <remarks>
/// Serialization is deterministic: the same value always gives the same bytes (properties in
/// declaration order, no indentation, amounts in one canonical form), which the event log's hash
/// chain relies on. <see cref="Options"/> is read-only and safe to share between threads.
/// </remarks>
public static class BrokerJson
{
    /// <summary>The shared, read-only options; use them for every domain value and event.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Serializes an event with its <c>type</c> discriminator first.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Reads a value written by <see cref="Serialize{T}"/>; throws <see cref="JsonException"/> naming the bad field.</summary>
    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"expected a {typeof(T).Name}, found JSON null");

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = false,
            // Stored events are read by auditors: keep non-ASCII text and '+' readable instead of \uXXXX.
            // The escaping is still deterministic, which is all the hash chain needs.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { OmitDiscriminatorProperties } },
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        options.Converters.Add(new MoneyConverter());
        options.Converters.Add(new PricePerGpuHourConverter());
        options.Converters.Add(new GpuCountConverter());
        options.Converters.Add(new CurrencyConverter());
        options.Converters.Add(new Iso8601DurationConverter());
        options.Converters.Add(new StringIdConverter<ProviderId>(v => new(v), id => id.Value));
        options.Converters.Add(new StringIdConverter<AgreementId>(v => new(v), id => id.Value));
        options.Converters.Add(new StringIdConverter<ClauseId>(v => new(v), id => id.Value));
        options.Converters.Add(new StringIdConverter<RequestId>(v => new(v), id => id.Value));
        options.Converters.Add(new StringIdConverter<OfferId>(v => new(v), id => id.Value));
        options.MakeReadOnly();
        return options;
    }

    /// <summary>
    /// Events name their own kind in a <c>Type</c> property that is also their polymorphic discriminator
    /// (<c>"type": "offer.made"</c>). The base declares it [JsonIgnore], but an override does not inherit
    /// that, so it would be written twice; drop it wherever a base type uses the same discriminator name.
    /// </summary>
    private static void OmitDiscriminatorProperties(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        for (var type = info.Type; type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttributes(typeof(JsonPolymorphicAttribute), inherit: false) is [JsonPolymorphicAttribute polymorphic])
            {
                var name = polymorphic.TypeDiscriminatorPropertyName ?? "$type";
                for (var i = info.Properties.Count - 1; i >= 0; i--)
                {
                    if (string.Equals(info.Properties[i].Name, name, StringComparison.Ordinal))
                    {
                        info.Properties.RemoveAt(i);
                    }
                }

                return;
            }
        }
    }

    /// <summary>The canonical text of an amount: at least two decimals, never an exponent, no trailing zeros past the cents.</summary>
    internal static string FormatAmount(decimal amount) =>
        amount.ToString("0.00##########################", CultureInfo.InvariantCulture);

    private static string ReadString(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"expected {what} as a JSON string, found {reader.TokenType}");
        }

        return reader.GetString()!;
    }

    private sealed class MoneyConverter : JsonConverter<Money>
    {
        public override Money Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = ReadString(ref reader, "an amount of money such as \"12.29 USD\"");
            return Money.TryParse(text, out var money, out var error) ? money : throw new JsonException(error);
        }

        public override void Write(Utf8JsonWriter writer, Money value, JsonSerializerOptions options) =>
            writer.WriteStringValue($"{FormatAmount(value.Amount)} {value.Currency.Code}");
    }

    /// <summary>A price is written as its hourly amount, <c>"12.29 USD"</c>; <c>/GPU-h</c> is accepted on reading.</summary>
    private sealed class PricePerGpuHourConverter : JsonConverter<PricePerGpuHour>
    {
        private const string Unit = "/GPU-h";

        public override PricePerGpuHour Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = ReadString(ref reader, "a price per GPU-hour such as \"12.29 USD\"");
            if (text.EndsWith(Unit, StringComparison.Ordinal))
            {
                text = text[..^Unit.Length];
            }

            return Money.TryParse(text, out var money, out var error) ? new PricePerGpuHour(money) : throw new JsonException(error);
        }

        public override void Write(Utf8JsonWriter writer, PricePerGpuHour value, JsonSerializerOptions options) =>
            writer.WriteStringValue($"{FormatAmount(value.PerHour.Amount)} {value.PerHour.Currency.Code}");
    }

    private sealed class GpuCountConverter : JsonConverter<GpuCount>
    {
        public override GpuCount Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var value))
            {
                throw new JsonException($"expected a GPU count as a whole number, found {reader.TokenType}");
            }

            return value >= 0 ? new GpuCount(value) : throw new JsonException($"a GPU count cannot be negative ({value})");
        }

        public override void Write(Utf8JsonWriter writer, GpuCount value, JsonSerializerOptions options) =>
            writer.WriteNumberValue(value.Value);
    }

    private sealed class CurrencyConverter : JsonConverter<Currency>
    {
        public override Currency Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var code = ReadString(ref reader, "a currency code such as \"USD\"");
            return code is { Length: 3 } && code.All(char.IsAsciiLetterUpper)
                ? new Currency(code)
                : throw new JsonException($"'{code}' is not a currency code (three capital letters, e.g. USD)");
        }

        public override void Write(Utf8JsonWriter writer, Currency value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.Code);
    }

    /// <summary>Durations as ISO 8601 (<c>P5D</c>, <c>PT15M</c>), the form agreement files use.</summary>
    private sealed class Iso8601DurationConverter : JsonConverter<TimeSpan>
    {
        public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = ReadString(ref reader, "an ISO 8601 duration such as \"P5D\"");
            try
            {
                return XmlConvert.ToTimeSpan(text);
            }
            catch (FormatException)
            {
                throw new JsonException($"'{text}' is not an ISO 8601 duration (e.g. P5D or PT15M)");
            }
        }

        public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
            writer.WriteStringValue(XmlConvert.ToString(value));
    }

    /// <summary>An id written as its plain string value.</summary>
    private sealed class StringIdConverter<T>(Func<string, T> create, Func<T, string> value) : JsonConverter<T>
        where T : struct
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            create(ReadString(ref reader, $"a {typeof(T).Name}"));

        public override void Write(Utf8JsonWriter writer, T id, JsonSerializerOptions options) =>
            writer.WriteStringValue(value(id));
    }
}
