using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Server.Service;
using ComputeBroker.Server.Tests.Infrastructure;
using ComputeBroker.Sourcing;
using ComputeBroker.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComputeBroker.Server.Tests.Durability;

/// <summary>
/// Catching up with the log (other replicas' writes, polled every second) and folding this process's own commits share
/// one lock, and every caller of a commit waits for its fold. A catch-up holds that lock only to apply what it read,
/// never while it waits for the database: a slow read must not stop this process's own submits.
/// </summary>
public sealed class CatchUpTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task ASubmit_CompletesWhileACatchUpWaitsForItsRead_AndTheCatchUpThenAddsNothingTwice()
    {
        await using var db = new SqliteTestDatabase();
        await using var store = new ReadGate(await EventStoreFactory.OpenAsync(db.Location, None));
        await using var service = new BrokerService(store, TimeProvider.System, new ProviderCatalog([]), BrokerPolicy.Default, NullLogger<BrokerService>.Instance);

        var catchUp = service.CatchUpAsync(None);
        Task? finished;
        Task<ServiceResult<SubmitOutcome>> submit;
        try
        {
            await store.Entered.WaitAsync(TimeSpan.FromSeconds(30));
            submit = service.SubmitAsync(Request("while-reading"), null, "body", None);
            finished = await Task.WhenAny(submit, Task.Delay(TimeSpan.FromSeconds(10)));
            Assert.False(catchUp.IsCompleted);
        }
        finally
        {
            // Whatever happened, the read goes on, so that the service can stop.
            store.Release();
        }

        Assert.Same(submit, finished);
        Assert.NotNull((await submit).Value);
        await catchUp;
        var view = Assert.Single(service.Projection.Requests(null, null, null, 10).Items);
        Assert.Equal("while-reading", view.Id.Value);
        Assert.Equal((await store.HeadAsync(None)).LastPosition, service.Projection.Position);
    }

    private static CapacityRequest Request(string id)
    {
        var now = DateTimeOffset.UtcNow;
        return new CapacityRequest
        {
            Id = new RequestId(id),
            Customer = "openai",
            WorkloadClass = "training",
            Accelerator = "H200",
            Gpus = new GpuCount(64),
            EarliestStart = now.AddDays(30),
            DurationHours = 24,
            MaxPrice = new PricePerGpuHour(Money.Usd(15m)),
            NeededBy = now.AddDays(10),
        };
    }

    /// <summary>The store, with its first read of the whole log held until <see cref="Release"/>.</summary>
    private sealed class ReadGate(IEventStore inner) : IEventStore
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _reads;

        public Task Entered => _entered.Task;

        public StorageProvider Provider => inner.Provider;

        public void Release() => _released.TrySetResult();

        public async Task<IReadOnlyList<RecordedEvent>> ReadAllAsync(long fromPosition, int maxCount, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _reads) == 1)
            {
                _entered.TrySetResult();
                await _released.Task.WaitAsync(cancellationToken);
            }

            return await inner.ReadAllAsync(fromPosition, maxCount, cancellationToken);
        }

        public Task<AppendResult> AppendAsync(IReadOnlyList<StreamAppend> appends, Func<AppendTransaction, CancellationToken, Task>? inTransaction, CancellationToken cancellationToken) =>
            inner.AppendAsync(appends, inTransaction, cancellationToken);

        public Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(StreamId stream, long fromVersion, CancellationToken cancellationToken) =>
            inner.ReadStreamAsync(stream, fromVersion, cancellationToken);

        public Task<IReadOnlyList<StreamHead>> StreamHeadsAsync(long? upToPosition, CancellationToken cancellationToken) =>
            inner.StreamHeadsAsync(upToPosition, cancellationToken);

        public Task<IReadOnlyList<StreamId>> ListStreamsAsync(string prefix, CancellationToken cancellationToken) =>
            inner.ListStreamsAsync(prefix, cancellationToken);

        public Task<StoreHead> HeadAsync(CancellationToken cancellationToken) => inner.HeadAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
