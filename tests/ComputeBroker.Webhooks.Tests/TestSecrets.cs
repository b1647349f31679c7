using ComputeBroker.Server.Webhooks;

namespace ComputeBroker.Webhooks.Tests;

/// <summary>Fixed secrets, so a failing test can be reproduced by hand.</summary>
public static class TestSecrets
{
    public const string Current = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    public const string Previous = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    public const string Other = "whsec_3eAyj1dHJ+yyE7prA7nWMbYzOq8fCzoO";

    public static WebhookSecret Parse(string secret) => WebhookSecret.Parse(secret);

    public static TempFile TempDatabase() => new(Path.Combine(Path.GetTempPath(), $"cb-webhooks-{Guid.NewGuid():N}.db"));
}

/// <summary>A temporary file (and its SQLite WAL companions), deleted on dispose.</summary>
public sealed class TempFile(string path) : IDisposable
{
    public string Path { get; } = path;

    public void Dispose()
    {
        foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
        {
            try
            {
                File.Delete(Path + suffix);
            }
            catch (IOException)
            {
            }
        }
    }
}
