using ComputeBroker.Domain;

namespace ComputeBroker.Server.Security;

/// <summary>What a key may do.</summary>
public enum RoleKind
{
    /// <summary>Everything: agreements, providers, keys, all requests.</summary>
    Admin,

    /// <summary>Submits, reads and cancels its own requests; records its financial reports.</summary>
    Customer,

    /// <summary>Sees and answers only its own offers, quote requests and reservations.</summary>
    Provider,

    /// <summary>Reads everything, changes nothing.</summary>
    Auditor,
}

/// <summary>A role with its subject: <c>admin</c>, <c>auditor</c>, <c>customer:openai</c>, <c>provider:azure</c>.</summary>
public sealed record Role(RoleKind Kind, string? Subject)
{
    public static bool TryParse(string? text, out Role role, out string error)
    {
        role = new Role(RoleKind.Auditor, null);
        error = string.Empty;
        var parts = (text ?? string.Empty).Split(':', 2);
        switch (parts[0])
        {
            case "admin" when parts.Length == 1:
                role = new Role(RoleKind.Admin, null);
                return true;
            case "auditor" when parts.Length == 1:
                role = new Role(RoleKind.Auditor, null);
                return true;
            case "customer" or "provider" when parts.Length == 2 && parts[1].Length > 0 && Names.Problem(parts[1]) is { } problem:
                // The subject is a customer or provider name, which names streams and is matched against requests' own.
                error = $"'{text}': the {parts[0]} name {problem}";
                return false;
            case "customer" or "provider" when parts.Length == 2 && parts[1].Length > 0:
                role = new Role(parts[0] == "customer" ? RoleKind.Customer : RoleKind.Provider, parts[1]);
                return true;
            default:
                error = $"'{text}' is not a role; use admin, auditor, customer:ID or provider:ID";
                return false;
        }
    }

    public override string ToString() => Subject is null ? Kind.ToString().ToLowerInvariant() : $"{Kind.ToString().ToLowerInvariant()}:{Subject}";
}

/// <summary>The authenticated caller of a request: the key's id and its role.</summary>
public sealed record Principal(string KeyId, Role Role)
{
    public bool IsAdmin => Role.Kind == RoleKind.Admin;

    public bool CanReadEverything => Role.Kind is RoleKind.Admin or RoleKind.Auditor;

    public bool IsCustomer(string customer) => Role.Kind == RoleKind.Customer && Role.Subject == customer;

    public bool IsProvider(string provider) => Role.Kind == RoleKind.Provider && Role.Subject == provider;
}
