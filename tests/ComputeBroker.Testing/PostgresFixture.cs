using Xunit;

namespace ComputeBroker.Testing;

/// <summary>
/// One PostgreSQL server for every test class of a collection that shares it; each test makes its own database.
/// When the server cannot be had, initialization fails (and with it every test of the collection)
/// unless <see cref="PostgresServer"/> allows a skip, in which case <see cref="SkipReason"/> is set.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public string? SkipReason { get; private set; }

    public PostgresServer Server => _server ?? throw new InvalidOperationException(SkipReason ?? "the PostgreSQL server is not started");

    public async Task InitializeAsync()
    {
        try
        {
            _server = await PostgresServer.StartAsync(CancellationToken.None);
        }
        catch (PostgresUnavailableException e) when (e.SkipReason is not null)
        {
            SkipReason = e.SkipReason;
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
