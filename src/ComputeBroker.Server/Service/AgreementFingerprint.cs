using System.Text.Json;
using ComputeBroker.Contracts;
using ComputeBroker.Serialization;

namespace ComputeBroker.Server.Service;

/// <summary>A canonical text of an agreement version, so "unchanged" means the same terms, not the same file bytes.</summary>
public static class AgreementFingerprint
{
    public static string Of(AgreementVersion version) =>
        JsonSerializer.Serialize(new
        {
            version.Number,
            version.EffectiveFrom,
            Clauses = version.Clauses.Select(c => JsonSerializer.SerializeToElement(c, c.GetType(), BrokerJson.Options)).ToArray(),
        }, BrokerJson.Options);
}
