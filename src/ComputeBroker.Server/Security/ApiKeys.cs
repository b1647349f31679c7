using System.Security.Cryptography;
using System.Text;

namespace ComputeBroker.Server.Security;

/// <summary>A key as stored: its id, role and the SHA-256 of the whole key. The key itself is never stored.</summary>
public sealed record ApiKeyRecord(string Id, Role Role, string Hash, DateTimeOffset CreatedAt, string? Note, DateTimeOffset? RevokedAt = null);

/// <summary>Event data of the <c>keys</c> stream.</summary>
public sealed record KeyCreated(string Id, string Role, string Hash, DateTimeOffset CreatedAt, string? Note);

/// <summary>Event data of the <c>keys</c> stream.</summary>
public sealed record KeyRevoked(string Id, DateTimeOffset RevokedAt);

/// <summary>
/// API keys: <c>cbk_ID_SECRET</c>. The id finds the record; the secret is checked against the stored
/// hash in constant time. Generation uses the OS's cryptographic generator.
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "cbk_";

    /// <summary>A new key and the record to store for it.</summary>
    public static (string Key, ApiKeyRecord Record) Create(Role role, DateTimeOffset now, string? note)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = $"{Prefix}{id}_{secret}";
        return (key, new ApiKeyRecord(id, role, Hash(key), now, note));
    }

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The key id inside a presented key, or null if it is not shaped like a broker key.</summary>
    public static string? IdOf(string presented)
    {
        if (!presented.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = presented.AsSpan(Prefix.Length);
        var underscore = rest.IndexOf('_');
        return underscore == 10 ? rest[..underscore].ToString() : null;
    }

    public static bool Matches(ApiKeyRecord record, string presented) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(record.Hash), Encoding.ASCII.GetBytes(Hash(presented)));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
