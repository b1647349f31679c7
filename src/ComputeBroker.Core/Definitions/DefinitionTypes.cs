using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Definitions;

/// <summary>
/// One problem in a definition file: the file, the path inside it (<c>versions[0].clauses[2].response-window</c>,
/// or <c>line 3, column 5</c> for a YAML syntax error) and a message that says what is wrong and how to fix it.
/// <see cref="Line"/> and <see cref="Column"/> (1-based) locate the offending node when it is known, for editors.
/// </summary>
public sealed record DefinitionError(string File, string Path, string Message)
{
    public int? Line { get; init; }

    public int? Column { get; init; }

    public override string ToString() => $"{File}: {Path}: {Message}";
}

/// <summary>
/// The result of reading a definition: the value when the file has no errors, otherwise null and
/// every error found (reading goes on after the first so that one run shows them all).
/// </summary>
public sealed record Parsed<T>(T? Value, IReadOnlyList<DefinitionError> Errors)
{
    public bool Ok => Errors.Count == 0;
}

/// <summary>A capacity request and the instant it is to be submitted (demo and simulation inputs).</summary>
public sealed record ScheduledRequest(DateTimeOffset SubmitAt, CapacityRequest Request);

/// <summary>The providers the broker sources from and the broker-wide windows, as read from a providers file.</summary>
public sealed record ProvidersFile(IReadOnlyList<ProviderDefinition> Providers, BrokerPolicy Policy);

/// <summary>What a definition file holds, from its top-level <c>kind:</c>.</summary>
public enum DefinitionKind
{
    Agreement,
    Providers,
    Requests,
}
