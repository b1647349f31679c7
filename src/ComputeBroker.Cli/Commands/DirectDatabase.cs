using System.Data.Common;
using ComputeBroker.Providers;
using ComputeBroker.Server.Service;
using ComputeBroker.Sourcing;
using ComputeBroker.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComputeBroker.Cli.Commands;

/// <summary>
/// The verbs that work on the database itself, with no server (<c>--db</c>): the first admin key, and an
/// audit that does not trust the server. Opens the log, reads it into a broker service that never starts
/// its runners (no deadlines fire, no providers answer), runs the work and closes everything.
/// </summary>
internal static class DirectDatabase
{
    /// <param name="mustExist">
    /// True for verbs that only read (an audit of a file that does not exist would create an empty log and
    /// pass); false for <c>keys create</c>, which may make the first key before the first start.
    /// </param>
    public static async Task<T> RunAsync<T>(string db, bool mustExist, Func<BrokerService, Task<T>> work, CancellationToken ct)
    {
        var location = EventStoreLocation.Parse(db);
        if (mustExist && location.Provider == StorageProvider.Sqlite)
        {
            var file = new SqliteConnectionStringBuilder(location.ConnectionString).DataSource;
            if (!File.Exists(file))
            {
                throw new UserInputException($"--db: {file}: no such database file; give the file 'broker serve --db' uses (default broker.db)");
            }
        }

        IEventStore store;
        try
        {
            store = await EventStoreFactory.OpenAsync(location, ct);
        }
        catch (DbException ex)
        {
            throw new UserInputException($"--db: cannot open {location} ({ex.Message}); check the path or connection string and that the database is reachable");
        }

        await using (store)
        {
            var service = new BrokerService(store, TimeProvider.System, new ProviderCatalog([]), BrokerPolicy.Default, NullLogger<BrokerService>.Instance);
            await using (service)
            {
                await service.CatchUpAsync(ct);
                return await work(service);
            }
        }
    }
}
