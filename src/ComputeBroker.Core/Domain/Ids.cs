namespace ComputeBroker.Domain;

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
