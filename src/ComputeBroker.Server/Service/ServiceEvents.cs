using ComputeBroker.Contracts;
using ComputeBroker.Definitions;
using ComputeBroker.Domain;

namespace ComputeBroker.Server.Service;

/// <summary>
/// An agreement document applied to the broker (stream <c>agreement-ID</c>). The document itself
/// (YAML or JSON, as sent) is the record: every version it contains, the earlier ones unchanged.
/// </summary>
public sealed record AgreementVersionApplied(AgreementId Agreement, IReadOnlyList<int> NewVersions, string Document, DateTimeOffset AppliedAt, string AppliedBy)
{
    public Agreement ToAgreement()
    {
        var parsed = DefinitionReader.ReadAgreement(Document, $"agreement-{Agreement}");
        return parsed.Value ?? throw new InvalidOperationException($"A stored agreement document no longer parses: {string.Join("; ", parsed.Errors)}");
    }
}

/// <summary>An idempotency key's first use (stream <c>idempotency-HASH</c>): which request it made and the body's hash.</summary>
public sealed record IdempotencyKeyUsed(string Customer, string Key, string BodyHash, RequestId Request, DateTimeOffset At);
