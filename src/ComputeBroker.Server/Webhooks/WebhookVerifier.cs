using System.Globalization;
using System.Security.Cryptography;

namespace ComputeBroker.Server.Webhooks;

/// <summary>Why a received webhook was refused.</summary>
public enum WebhookRejection
{
    /// <summary>A <c>webhook-id</c>, <c>webhook-timestamp</c> or <c>webhook-signature</c> header is missing or empty.</summary>
    MissingHeaders,

    /// <summary>The timestamp is not a whole number of seconds since the Unix epoch.</summary>
    InvalidTimestamp,

    /// <summary>The timestamp is older than the tolerance: possibly a replay.</summary>
    TimestampTooOld,

    /// <summary>The timestamp is further in the future than the tolerance.</summary>
    TimestampTooNew,

    /// <summary>No <c>v1</c> signature in the header matches any of the receiver's secrets.</summary>
    NoMatchingSignature,
}

/// <summary>The outcome of verifying one webhook: valid, or the reason it was refused.</summary>
public readonly record struct WebhookVerification(WebhookRejection? Rejection, string Message)
{
    public bool Valid => Rejection is null;

    public static WebhookVerification Ok { get; } = new(null, "valid");
}

/// <summary>
/// Verifies Standard Webhooks signatures as a receiver must: all three headers present, the timestamp within
/// <see cref="Tolerance"/> of the receiver's clock (either way), and at least one <c>v1,</c> signature in the
/// space-separated list equal, in constant time, to the HMAC of <c>id.timestamp.body</c> under one of the
/// receiver's secrets (several during a rotation). Signatures of other versions are ignored. Replays inside the
/// tolerance are the caller's to refuse, by remembering ids (see <c>docs/webhooks.md</c>). Thread-safe.
/// </summary>
public sealed class WebhookVerifier
{
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    private readonly IReadOnlyList<WebhookSecret> _secrets;
    private readonly TimeProvider _clock;

    public WebhookVerifier(IReadOnlyList<WebhookSecret> secrets, TimeProvider? clock = null, TimeSpan? tolerance = null)
    {
        if (secrets.Count == 0)
        {
            throw new ArgumentException("at least one secret is needed to verify webhooks", nameof(secrets));
        }

        _secrets = secrets;
        _clock = clock ?? TimeProvider.System;
        Tolerance = tolerance ?? DefaultTolerance;
    }

    public TimeSpan Tolerance { get; }

    public WebhookVerification Verify(string? id, string? timestamp, string? signature, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrWhiteSpace(id) || string.IsNullOrWhiteSpace(timestamp) || string.IsNullOrWhiteSpace(signature))
        {
            var missing = new[] { (WebhookSigner.IdHeader, id), (WebhookSigner.TimestampHeader, timestamp), (WebhookSigner.SignatureHeader, signature) }
                .Where(h => string.IsNullOrWhiteSpace(h.Item2)).Select(h => h.Item1);
            return new(WebhookRejection.MissingHeaders, $"missing header(s): {string.Join(", ", missing)}");
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return new(WebhookRejection.InvalidTimestamp, $"{WebhookSigner.TimestampHeader} '{timestamp}' is not Unix seconds");
        }

        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var tolerance = (long)Tolerance.TotalSeconds;
        if (seconds < now - tolerance)
        {
            return new(WebhookRejection.TimestampTooOld, $"{WebhookSigner.TimestampHeader} is {now - seconds} s old, more than the {tolerance} s tolerance");
        }

        if (seconds > now + tolerance)
        {
            return new(WebhookRejection.TimestampTooNew, $"{WebhookSigner.TimestampHeader} is {seconds - now} s in the future, more than the {tolerance} s tolerance");
        }

        var expected = new byte[_secrets.Count][];
        for (var i = 0; i < _secrets.Count; i++)
        {
            expected[i] = WebhookSigner.Mac(_secrets[i], id, timestamp, body);
        }

        Span<byte> presented = stackalloc byte[64];
        foreach (var part in signature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!part.StartsWith("v1,", StringComparison.Ordinal) || !Convert.TryFromBase64String(part[3..], presented, out var length) || length != 32)
            {
                continue;
            }

            foreach (var mac in expected)
            {
                if (CryptographicOperations.FixedTimeEquals(mac, presented[..length]))
                {
                    return WebhookVerification.Ok;
                }
            }
        }

        return new(WebhookRejection.NoMatchingSignature, "no v1 signature matches: the body was changed, or the secret differs");
    }
}
