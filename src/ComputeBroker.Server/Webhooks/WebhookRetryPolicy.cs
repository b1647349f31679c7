namespace ComputeBroker.Server.Webhooks;

/// <summary>
/// When a failed webhook is tried again: exponential backoff with full jitter — after the n-th failed attempt of
/// a round, a delay drawn uniformly from [0, min(<see cref="Cap"/>, <see cref="InitialDelay"/> × 2^(n-1))) —
/// unless the endpoint answered with <c>Retry-After</c>, which is honoured (up to <see cref="RetryAfterCap"/>).
/// After <see cref="MaxAttempts"/> attempts the message is marked failed; an admin can redeliver it.
/// Each attempt waits at most <see cref="Timeout"/> for the response. Immutable.
/// </summary>
public sealed record WebhookRetryPolicy(TimeSpan InitialDelay, TimeSpan Cap, int MaxAttempts, TimeSpan Timeout, TimeSpan RetryAfterCap)
{
    public static readonly WebhookRetryPolicy Default = new(
        InitialDelay: TimeSpan.FromSeconds(5),
        Cap: TimeSpan.FromHours(1),
        MaxAttempts: 12,
        Timeout: TimeSpan.FromSeconds(10),
        RetryAfterCap: TimeSpan.FromHours(1));

    /// <summary>The delay after the <paramref name="failedAttempt"/>-th failed attempt of a round (1-based), drawing once from <paramref name="random"/>.</summary>
    public TimeSpan Backoff(int failedAttempt, Random random)
    {
        var exponent = Math.Clamp(failedAttempt - 1, 0, 30);
        var ceiling = Math.Min(Cap.TotalMilliseconds, InitialDelay.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(Math.Floor(ceiling * random.NextDouble()));
    }
}

/// <summary>How the broker delivers webhooks: the retry policy, the clock deliveries are scheduled and signed on, and the randomness of the jitter.</summary>
public sealed record WebhookOptions
{
    public WebhookRetryPolicy Retry { get; init; } = WebhookRetryPolicy.Default;

    /// <summary>
    /// Real time by default, whatever the broker's clock: <c>webhook-timestamp</c> is checked against the receiver's
    /// wall clock, and retries are about real endpoints. Tests inject a fake clock to assert the schedule.
    /// </summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Seed of the jitter's generator, for a reproducible schedule; null draws a random seed.</summary>
    public int? Seed { get; init; }

    /// <summary>The HTTP handler deliveries go through; null for the default socket handler.</summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>How often an idle worker looks for due messages written by other replicas.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Messages claimed and sent concurrently in one round.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Start the delivery loop with the service (tests that drive <see cref="WebhookDelivery.RunOnceAsync"/> themselves turn it off).</summary>
    public bool RunWorker { get; init; } = true;

    /// <summary>Reads <c>env:NAME</c> secret references; the process environment by default.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}
