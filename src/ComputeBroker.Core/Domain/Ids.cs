namespace ComputeBroker.Domain;

/// <summary>
/// What a name that the log keys streams by may be: a request's id, an agreement's id, a customer. The store's stream
/// ids (such as <c>request-ID</c>) are at most 200 characters, with no control character, whitespace or emoji, since
/// they are read in audit reports, logs and URLs; a name is checked where it comes in, so that it always fits.
/// </summary>
public static class Names
{
    public const int MaxLength = 128;

    /// <summary>True for a character a stream id, and so a name, may hold.</summary>
    public static bool Allowed(char c) => !(char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c));

    /// <summary>What is wrong with <paramref name="name"/> (its length or a character), or null when it can name a stream.</summary>
    public static string? Problem(string? name)
    {
        if (name is { Length: > MaxLength })
        {
            return $"is {name.Length} characters long; the limit is {MaxLength}";
        }

        foreach (var c in name ?? string.Empty)
        {
            if (!Allowed(c))
            {
                return $"contains U+{(int)c:X4}; use letters, digits and punctuation such as '-', '.', ':'";
            }
        }

        return null;
    }
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
