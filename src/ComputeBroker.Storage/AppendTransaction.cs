using System.Data.Common;

namespace ComputeBroker.Storage;

/// <summary>
/// The transaction an append commits in, as given to the caller's writes that must commit if and only if its events do
/// (an outbox, a deadline row): see <see cref="IEventStore.AppendAsync(IReadOnlyList{StreamAppend}, Func{AppendTransaction, CancellationToken, Task}?, CancellationToken)"/>.
/// </summary>
public sealed class AppendTransaction
{
    internal AppendTransaction(DbTransaction transaction, DbBatch? batch)
    {
        Transaction = transaction;
        Batch = batch;
    }

    /// <summary>The transaction; a command created on its <see cref="DbTransaction.Connection"/> and run at once joins it.</summary>
    public DbTransaction Transaction { get; }

    /// <summary>
    /// On PostgreSQL, the batch that inserts the events and commits: commands added here run in that one round trip, before
    /// the events are inserted (and after any command run on <see cref="Transaction"/>), instead of costing a round trip each.
    /// Its commands take positional parameters ($1, $2...). Null on SQLite, which runs in this process: there a command run
    /// at once costs microseconds.
    /// </summary>
    public DbBatch? Batch { get; }
}
