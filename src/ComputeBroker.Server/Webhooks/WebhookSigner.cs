using System.Security.Cryptography;
using System.Text;

namespace ComputeBroker.Server.Webhooks;

/// <summary>
/// Signs webhooks per the Standard Webhooks specification: the signed content is <c>id.timestamp.body</c>
/// (the body's exact bytes), the signature <c>v1,</c> + base64(HMAC-SHA256(key, content)). With several secrets
/// (a rotation) the <c>webhook-signature</c> header carries one signature per secret, separated by spaces, so a
/// receiver that knows either secret verifies the message. Stateless and thread-safe.
/// </summary>
public static class WebhookSigner
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    /// <summary>The <c>webhook-signature</c> header value for the body, one <c>v1,</c> signature per secret.</summary>
    public static string Sign(IReadOnlyList<WebhookSecret> secrets, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        if (secrets.Count == 0)
        {
            throw new ArgumentException("at least one secret is needed to sign a webhook", nameof(secrets));
        }

        var content = Content(id, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), body);
        var signatures = new string[secrets.Count];
        for (var i = 0; i < secrets.Count; i++)
        {
            signatures[i] = "v1," + Convert.ToBase64String(HMACSHA256.HashData(secrets[i].Key, content));
        }

        return string.Join(' ', signatures);
    }

    /// <summary>The raw HMAC of one secret over <c>id.timestamp.body</c>.</summary>
    public static byte[] Mac(WebhookSecret secret, string id, string timestamp, ReadOnlySpan<byte> body) =>
        HMACSHA256.HashData(secret.Key, Content(id, timestamp, body));

    private static byte[] Content(string id, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return content;
    }
}
