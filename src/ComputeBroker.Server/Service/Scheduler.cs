using Microsoft.Extensions.Logging;

namespace ComputeBroker.Server.Service;

/// <summary>
/// Runs timed work on the broker's clock: wake-ups of the deadline runner (a hint: the deadline table is the
/// truth, and the runner also polls it) and simulated providers' answers. One background
/// loop sleeps until the earliest item is due (on a <see cref="Hosting.ScaledTimeProvider"/> the real
/// sleep is shortened by its speed), then runs every due item in order. Work items must not throw; a
/// failure is logged and the loop goes on. Thread-safe.
/// </summary>
public sealed partial class Scheduler : IAsyncDisposable
{
    private readonly PriorityQueue<Func<CancellationToken, Task>, (DateTimeOffset At, long Seq)> _queue = new();
    private readonly Lock _gate = new();
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0);
    private Task? _loop;
    private long _seq;
    private int _inFlight;

    public Scheduler(TimeProvider clock, ILogger logger)
    {
        _clock = clock;
        _logger = logger;
    }

    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    public void At(DateTimeOffset at, Func<CancellationToken, Task> work)
    {
        bool first;
        lock (_gate)
        {
            // The loop sleeps until the earliest item: only a new earliest item needs to wake it.
            first = !_queue.TryPeek(out _, out var head) || at < head.At;
            _queue.Enqueue(work, (at, _seq++));
        }

        if (first && _wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Func<CancellationToken, Task>? due = null;
            TimeSpan wait;
            lock (_gate)
            {
                if (_queue.TryPeek(out _, out var key))
                {
                    var now = _clock.GetUtcNow();
                    if (key.At <= now)
                    {
                        due = _queue.Dequeue();
                        wait = TimeSpan.Zero;
                    }
                    else
                    {
                        wait = RealDelay(key.At - now);
                    }
                }
                else
                {
                    wait = TimeSpan.FromSeconds(5);
                }
            }

            if (due is not null)
            {
                // Due items run concurrently: each request's decisions are serialised by the service, and
                // concurrent appends share a commit.
                Interlocked.Increment(ref _inFlight);
                _ = RunItemAsync(due, ct);
                continue;
            }

            try
            {
                await _wake.WaitAsync(wait, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunItemAsync(Func<CancellationToken, Task> work, CancellationToken ct)
    {
        try
        {
            await work(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogWorkFailed(ex);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private TimeSpan RealDelay(TimeSpan onClock)
    {
        var real = _clock is Hosting.ScaledTimeProvider scaled ? onClock / scaled.Speed : onClock;
        return real < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : real > TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : real;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        for (var i = 0; i < 100 && Volatile.Read(ref _inFlight) > 0; i++)
        {
            await Task.Delay(20);
        }

        _stop.Dispose();
        _wake.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A scheduled broker task failed; the loop goes on")]
    private partial void LogWorkFailed(Exception ex);
}
