namespace ComputeBroker.Server.Security;

/// <summary>The known API keys, a projection of the <c>keys</c> stream. Thread-safe.</summary>
public sealed class KeyRing
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ApiKeyRecord> _keys = new(StringComparer.Ordinal);

    public void Apply(object e)
    {
        lock (_gate)
        {
            switch (e)
            {
                case KeyCreated c when Role.TryParse(c.Role, out var role, out _):
                    _keys[c.Id] = new ApiKeyRecord(c.Id, role, c.Hash, c.CreatedAt, c.Note);
                    break;
                case KeyRevoked r when _keys.TryGetValue(r.Id, out var key):
                    _keys[r.Id] = key with { RevokedAt = r.RevokedAt };
                    break;
            }
        }
    }

    public bool HasActiveAdmin
    {
        get
        {
            lock (_gate)
            {
                return _keys.Values.Any(k => k.RevokedAt is null && k.Role.Kind == RoleKind.Admin);
            }
        }
    }

    public IReadOnlyList<ApiKeyRecord> All
    {
        get
        {
            lock (_gate)
            {
                return _keys.Values.OrderBy(k => k.CreatedAt).ToArray();
            }
        }
    }

    public ApiKeyRecord? Find(string id)
    {
        lock (_gate)
        {
            return _keys.GetValueOrDefault(id);
        }
    }

    /// <summary>The principal for a presented key, or null if it is unknown, revoked or wrong.</summary>
    public Principal? Authenticate(string presented)
    {
        if (ApiKeys.IdOf(presented) is not { } id)
        {
            return null;
        }

        var record = Find(id);
        return record is { RevokedAt: null } && ApiKeys.Matches(record, presented) ? new Principal(record.Id, record.Role) : null;
    }
}
