using ComputeBroker.Domain;
using ComputeBroker.Providers;

namespace ComputeBroker.Server.Webhooks;

/// <summary>
/// Where and how a webhook provider is sent its messages: the URL and the signing secrets, the current one first
/// and, during a rotation, the previous one (every message then carries both signatures). Immutable; its
/// <see cref="object.ToString"/> shows no secret.
/// </summary>
public sealed record WebhookEndpoint(ProviderId Provider, Uri Url, IReadOnlyList<WebhookSecret> Secrets)
{
    public bool Rotating => Secrets.Count > 1;

    /// <summary>The endpoints of the catalog's webhook providers, with <c>env:</c> secrets read from <paramref name="environment"/>.</summary>
    /// <exception cref="InvalidOperationException">A webhook provider has no URL or secret, or names an unset variable; the message says which and how to fix it.</exception>
    public static IReadOnlyList<WebhookEndpoint> From(IEnumerable<ProviderDefinition> providers, Func<string, string?> environment)
    {
        var endpoints = new List<WebhookEndpoint>();
        foreach (var p in providers.Where(p => p.Connector == ConnectorKind.Webhook))
        {
            if (p.WebhookUrl is null || p.Signing is null)
            {
                throw new InvalidOperationException($"provider {p.Id}: a webhook connector needs url: and secret: (whsec_... or env:NAME) in the providers file");
            }

            var secrets = new List<WebhookSecret> { WebhookSecret.Resolve(p.Signing.Secret, environment, $"provider {p.Id}: secret") };
            if (p.Signing.PreviousSecret is { } previous)
            {
                secrets.Add(WebhookSecret.Resolve(previous, environment, $"provider {p.Id}: previous-secret"));
            }

            endpoints.Add(new WebhookEndpoint(p.Id, p.WebhookUrl, secrets));
        }

        return endpoints;
    }
}
