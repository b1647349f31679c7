using System.Text.Json;
using ComputeBroker.Ledger;
using ComputeBroker.Serialization;
using ComputeBroker.Server.Security;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Server.Service;

/// <summary>
/// Turns the broker's events into stored rows and back. Sourcing and ledger events carry their own
/// type discriminator; the service's own events are named here. Unknown types are an error: a log
/// written by a newer broker must not be half-read by an older one.
/// </summary>
public static class EventCodec
{
    private static readonly Dictionary<string, Type> ServiceTypes = new(StringComparer.Ordinal)
    {
        ["agreement.applied"] = typeof(AgreementVersionApplied),
        ["idempotency.used"] = typeof(IdempotencyKeyUsed),
        ["key.created"] = typeof(KeyCreated),
        ["key.revoked"] = typeof(KeyRevoked),
    };

    public static string TypeOf(object e) => e switch
    {
        SourcingEvent s => s.Type,
        LedgerEvent l => l.Type,
        _ => ServiceTypes.First(p => p.Value == e.GetType()).Key,
    };

    public static string Serialize(object e) => e switch
    {
        SourcingEvent s => JsonSerializer.Serialize(s, BrokerJson.Options),
        LedgerEvent l => JsonSerializer.Serialize(l, BrokerJson.Options),
        _ => JsonSerializer.Serialize(e, e.GetType(), BrokerJson.Options),
    };

    public static object Deserialize(string stream, string type, string json)
    {
        if (stream.StartsWith(StreamNames.RequestPrefix, StringComparison.Ordinal))
        {
            return JsonSerializer.Deserialize<SourcingEvent>(json, BrokerJson.Options)!;
        }

        if (stream.StartsWith(StreamNames.LedgerPrefix, StringComparison.Ordinal))
        {
            return JsonSerializer.Deserialize<LedgerEvent>(json, BrokerJson.Options)!;
        }

        return ServiceTypes.TryGetValue(type, out var clr)
            ? JsonSerializer.Deserialize(json, clr, BrokerJson.Options)!
            : throw new InvalidOperationException($"Stream {stream} holds an event of unknown type '{type}'; this broker is older than the log.");
    }
}

/// <summary>The broker's stream names.</summary>
public static class StreamNames
{
    public const string RequestPrefix = "request-";
    public const string LedgerPrefix = "ledger-";
    public const string AgreementPrefix = "agreement-";
    public const string IdempotencyPrefix = "idempotency-";
    public const string Keys = "keys";

    public static string Request(Domain.RequestId id) => RequestPrefix + id.Value;

    public static string Ledger(string customer) => LedgerPrefix + customer;

    public static string Agreement(Domain.AgreementId id) => AgreementPrefix + id.Value;

    public static string Idempotency(string customer, string key) =>
        IdempotencyPrefix + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(customer + "\n" + key)));
}
