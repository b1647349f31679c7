namespace ComputeBroker.Domain;

/// <summary>
/// How long a name that the log keys streams by may be: a request's id, an agreement's id, a customer (the store's stream
/// ids, such as <c>request-ID</c>, are at most 200 characters). Longer ones are refused where they come in.
/// </summary>
public static class Names
{
    public const int MaxLength = 128;

    /// <summary>What is wrong with <paramref name="name"/>'s length, or null when it fits.</summary>
    public static string? TooLong(string? name) =>
        name is { Length: > MaxLength } ? $"is {name.Length} characters long; the limit is {MaxLength}" : null;
}

/// <summary>A provider id such as <c>azure</c>.</summary>
public readonly record struct ProviderId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>An agreement id such as <c>microsoft-openai</c>.</summary>
public readonly record struct AgreementId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>A clause id, unique within an agreement.</summary>
public readonly record struct ClauseId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>A capacity request id.</summary>
public readonly record struct RequestId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>An offer id: the request id and the offer's sequence number within it.</summary>
public readonly record struct OfferId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>The point in an agreement's history: the agreement and its version number.</summary>
public readonly record struct AgreementVersionRef(AgreementId Agreement, int Version)
{
    public override string ToString() => $"{Agreement}@v{Version}";
}
