using System.Security.Cryptography;
using ComputeBroker.Providers;

namespace ComputeBroker.Server.Webhooks;

/// <summary>
/// A Standard Webhooks signing secret: <c>whsec_</c> followed by the base64 of the key bytes. The key never
/// appears in <see cref="ToString"/>, so a secret that reaches a log or an exception message does not leak.
/// Immutable and thread-safe.
/// </summary>
public sealed class WebhookSecret
{
    private readonly byte[] _key;

    private WebhookSecret(byte[] key) => _key = key;

    /// <summary>The HMAC key.</summary>
    public ReadOnlySpan<byte> Key => _key;

    /// <summary>Parses <c>whsec_BASE64</c>; throws <see cref="FormatException"/> without repeating the text.</summary>
    public static WebhookSecret Parse(string text)
    {
        var problem = text.StartsWith(WebhookSigning.EnvironmentPrefix, StringComparison.Ordinal) ? "is an env: reference, not a secret" : WebhookSigning.Check(text);
        if (problem is not null)
        {
            throw new FormatException($"the webhook secret {problem}");
        }

        return new WebhookSecret(Convert.FromBase64String(text[WebhookSigning.SecretPrefix.Length..]));
    }

    /// <summary>
    /// The secret named by a providers file: <c>whsec_...</c> itself, or <c>env:NAME</c>, read from the environment.
    /// </summary>
    /// <exception cref="InvalidOperationException">The variable is unset or does not hold a secret; the message names the variable, never its value.</exception>
    public static WebhookSecret Resolve(string reference, Func<string, string?> environment, string what)
    {
        if (!reference.StartsWith(WebhookSigning.EnvironmentPrefix, StringComparison.Ordinal))
        {
            return Parse(reference);
        }

        var name = reference[WebhookSigning.EnvironmentPrefix.Length..];
        var value = environment(name)?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            throw new InvalidOperationException($"{what}: the environment variable {name} is not set; export it with the whsec_ secret shared with the provider");
        }

        var problem = value.StartsWith(WebhookSigning.EnvironmentPrefix, StringComparison.Ordinal) ? "names another variable; put the secret itself in it" : WebhookSigning.Check(value);
        if (problem is not null)
        {
            throw new InvalidOperationException($"{what}: the environment variable {name} {problem}");
        }

        return Parse(value);
    }

    /// <summary>A new random 32-byte secret, for a provider being set up.</summary>
    public static string Generate() => WebhookSigning.SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public override string ToString() => "whsec_***";
}
