using ComputeBroker.Domain;

namespace ComputeBroker.Providers;

/// <summary>How the broker talks to a provider.</summary>
public enum ConnectorKind
{
    /// <summary>An inventory model inside the broker answers for the provider.</summary>
    Simulated,

    /// <summary>An external system receives signed webhooks and answers through the API.</summary>
    Webhook,
}

/// <summary>A list price for an accelerator, optionally for one region only.</summary>
public sealed record ProviderPrice(string Accelerator, string? Region, PricePerGpuHour Price);

/// <summary>
/// A change in a provider's capacity of one accelerator in one region: <see cref="Gpus"/> more GPUs
/// (negative: fewer) from <see cref="From"/>, all at once, or growing linearly until <see cref="RampUntil"/>.
/// </summary>
public sealed record CapacityChange(string Accelerator, string Region, DateTimeOffset From, int Gpus, DateTimeOffset? RampUntil = null)
{
    /// <summary>The GPUs this change contributes at <paramref name="at"/>.</summary>
    public long ContributionAt(DateTimeOffset at)
    {
        if (at < From)
        {
            return 0;
        }

        if (RampUntil is not { } until || at >= until)
        {
            return Gpus;
        }

        var fraction = (decimal)(at - From).Ticks / (until - From).Ticks;
        return (long)decimal.Floor(Gpus * fraction);
    }
}

/// <summary>
/// How a simulated provider answers: latency (uniform between the bounds), how reliably it answers
/// at all, which workload classes it declines, whether it accepts part of an offer, and how often a
/// confirmed quote's reservation still fails.
/// </summary>
public sealed record AnswerPolicy(
    TimeSpan MinLatency,
    TimeSpan MaxLatency,
    double Reliability,
    IReadOnlyList<string> DeclineClasses,
    bool AcceptPartial,
    double ReservationFailureRate)
{
    public static readonly AnswerPolicy Prompt = new(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5), 1.0, [], true, 0.0);
}

/// <summary>A provider the broker can source capacity from. Immutable.</summary>
public sealed record ProviderDefinition(
    ProviderId Id,
    string Name,
    ConnectorKind Connector,
    IReadOnlyList<string> Regions,
    IReadOnlyList<ProviderPrice> Prices,
    IReadOnlyList<CapacityChange> Capacity,
    AnswerPolicy Policy,
    Uri? WebhookUrl = null,
    WebhookSigning? Signing = null)
{
    /// <summary>
    /// The lowest list price for the request's accelerator in one of its regions, in the request's
    /// currency; null if the provider does not sell it there in that currency. Prices in other
    /// currencies are skipped, never compared: comparing USD with EUR is a currency mismatch.
    /// </summary>
    public PricePerGpuHour? ListPrice(CapacityRequest request)
    {
        PricePerGpuHour? best = null;
        for (var i = 0; i < Prices.Count; i++)
        {
            var price = Prices[i];
            if (!string.Equals(price.Accelerator, request.Accelerator, StringComparison.Ordinal) || price.Price.Currency != request.MaxPrice.Currency)
            {
                continue;
            }

            var regionOk = price.Region is null
                ? Regions.Count == 0 || request.Regions.Count == 0 || Regions.Any(request.AllowsRegion)
                : request.AllowsRegion(price.Region);
            if (regionOk && (best is null || price.Price < best.Value))
            {
                best = price.Price;
            }
        }

        return best;
    }

    /// <summary>True when the provider sells the request's accelerator in a region the request allows.</summary>
    public bool CanServe(CapacityRequest request) => ListPrice(request) is not null;
}

/// <summary>
/// How a webhook provider's messages are signed: its secret (<c>whsec_</c> + base64, or <c>env:NAME</c> naming an
/// environment variable that holds one) and, during a rotation, the previous secret, so both signatures are sent.
/// The secrets never appear in <see cref="ToString"/>, so a provider logged or printed does not leak them.
/// </summary>
public sealed record WebhookSigning(string Secret, string? PreviousSecret = null)
{
    public const string SecretPrefix = "whsec_";
    public const string EnvironmentPrefix = "env:";

    /// <summary>Null when <paramref name="text"/> is a usable secret or reference, else what is wrong with it.</summary>
    public static string? Check(string text)
    {
        if (text.StartsWith(EnvironmentPrefix, StringComparison.Ordinal))
        {
            var name = text[EnvironmentPrefix.Length..];
            return name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
                ? null
                : $"'{text}' does not name an environment variable; write env:NAME with letters, digits and '_'";
        }

        if (!text.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            return "is not a webhook secret; give whsec_ followed by base64 (generate one with 'openssl rand -base64 32'), or env:NAME";
        }

        try
        {
            var key = Convert.FromBase64String(text[SecretPrefix.Length..]);
            return key.Length is >= 24 and <= 64 ? null : $"decodes to {key.Length} bytes; a secret is 24 to 64 random bytes in base64 (e.g. 'openssl rand -base64 32')";
        }
        catch (FormatException)
        {
            return "is not whsec_ followed by valid base64; generate one with 'openssl rand -base64 32'";
        }
    }

    public override string ToString() => PreviousSecret is null ? "WebhookSigning { secret: *** }" : "WebhookSigning { secret: ***, previous-secret: *** }";
}

/// <summary>The providers the broker knows, in a stable order (by id).</summary>
public sealed class ProviderCatalog
{
    private readonly Dictionary<ProviderId, ProviderDefinition> _byId;

    public ProviderCatalog(IEnumerable<ProviderDefinition> providers)
    {
        All = providers.OrderBy(p => p.Id.Value, StringComparer.Ordinal).ToArray();
        _byId = All.ToDictionary(p => p.Id);
    }

    public IReadOnlyList<ProviderDefinition> All { get; }

    public ProviderDefinition? Find(ProviderId id) => _byId.GetValueOrDefault(id);
}
