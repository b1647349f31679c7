using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ComputeBroker.Domain;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComputeBroker.Server.Webhooks;

/// <summary>
/// Delivers the outbox: claims due messages, signs and POSTs each to its provider's endpoint, records the attempt
/// and decides what follows — 2xx: delivered; 410 Gone: the endpoint is disabled (its messages wait, nothing is
/// dropped); anything else (an error status, a timeout, a dropped connection): retried per the
/// <see cref="WebhookRetryPolicy"/>, honouring <c>Retry-After</c>, until the attempts run out. A slow or broken
/// endpoint never holds up a decision: deadlines fire on the broker's own schedule whatever happens here.
/// Thread-safe; several workers (replicas) may run against one database.
/// </summary>
public sealed partial class WebhookDelivery : IAsyncDisposable
{
    private readonly WebhookOutbox _outbox;
    private readonly Dictionary<ProviderId, WebhookEndpoint> _endpoints;
    private readonly WebhookOptions _options;
    private readonly HttpClient _http;
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private ILogger _logger;

    public WebhookDelivery(WebhookOutbox outbox, IReadOnlyList<WebhookEndpoint> endpoints, WebhookOptions options, ILogger? logger = null)
    {
        _outbox = outbox;
        _endpoints = endpoints.ToDictionary(e => e.Provider);
        _options = options;
        _random = options.Seed is { } seed ? new Random(seed) : new Random();
        _logger = logger ?? NullLogger.Instance;

        // The per-attempt timeout is applied per request (below), so one slow endpoint does not change the others'.
        _http = new HttpClient(options.Handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: options.Handler is null)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ComputeBroker-Webhooks", "1"));
    }

    public ILogger Logger
    {
        get => _logger;
        set => _logger = value;
    }

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    /// <summary>New messages were committed: look now rather than at the next poll.</summary>
    public void Wake()
    {
        if (_wake.CurrentCount > 0)
        {
            return; // Already woken: one look finds every message committed so far.
        }

        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Woken by another thread between the check and the release.
        }
    }

    /// <summary>Claims the due messages (up to a batch), attempts each once, concurrently, and records the outcomes. Returns how many were attempted.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var now = _options.Clock.GetUtcNow();

        // The lease covers the attempt's timeout with room to record it; after that another worker may take the message over.
        var claimed = await _outbox.ClaimAsync(now, now + _options.Retry.Timeout + TimeSpan.FromSeconds(30), _options.BatchSize, ct);
        await Task.WhenAll(claimed.Select(m => AttemptAsync(m, ct)));
        return claimed.Count;
    }

    private async Task AttemptAsync(ClaimedMessage message, CancellationToken ct)
    {
        var policy = _options.Retry;
        var at = _options.Clock.GetUtcNow();
        if (!_endpoints.TryGetValue(message.Provider, out var endpoint))
        {
            await _outbox.RecordAsync(message, new AttemptRecord(at, 0, null, $"no webhook endpoint is configured for provider {message.Provider}", "failed", DeliveryStates.Failed, null), ct);
            return;
        }

        var body = Encoding.UTF8.GetBytes(message.Payload);
        var timestamp = at.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(WebhookSigner.IdHeader, message.WebhookId);
        request.Headers.TryAddWithoutValidation(WebhookSigner.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(WebhookSigner.SignatureHeader, WebhookSigner.Sign(endpoint.Secrets, message.WebhookId, timestamp, body));

        int? status = null;
        string? error = null;
        TimeSpan? retryAfter = null;
        var watch = Stopwatch.StartNew();
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(policy.Timeout);
            try
            {
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                status = (int)response.StatusCode;
                retryAfter = RetryAfter(response, at);
                if (!response.IsSuccessStatusCode)
                {
                    error = $"{status} {response.ReasonPhrase}".Trim();
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                error = $"timed out after {policy.Timeout.TotalSeconds:0.###} s";
            }
            catch (HttpRequestException ex)
            {
                error = ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : $"{ex.HttpRequestError}: {ex.Message}";
            }
        }

        var duration = watch.ElapsedMilliseconds;
        AttemptRecord record;
        if (status is >= 200 and < 300)
        {
            record = new AttemptRecord(at, duration, status, null, "delivered", DeliveryStates.Delivered, null);
        }
        else if (status == (int)HttpStatusCode.Gone)
        {
            // The receiver says the endpoint is gone for good: stop sending to it; its messages wait for an admin to enable it again.
            await _outbox.DisableEndpointAsync(message.Provider, $"410 Gone answered to {message.WebhookId}", at, ct);
            record = new AttemptRecord(at, duration, status, error, "endpoint-disabled", DeliveryStates.Pending, at);
            LogEndpointDisabled(message.Provider);
        }
        else
        {
            var roundAttempt = message.Attempt - (message.GiveUpAfter - policy.MaxAttempts);
            if (message.Attempt >= message.GiveUpAfter)
            {
                record = new AttemptRecord(at, duration, status, error, "failed", DeliveryStates.Failed, null);
                LogGaveUp(message.WebhookId, message.Provider, message.Attempt, error);
            }
            else
            {
                TimeSpan delay;
                if (retryAfter is { } asked)
                {
                    delay = asked < TimeSpan.Zero ? TimeSpan.Zero : asked > policy.RetryAfterCap ? policy.RetryAfterCap : asked;
                }
                else
                {
                    lock (_randomGate)
                    {
                        delay = policy.Backoff(roundAttempt, _random);
                    }
                }

                record = new AttemptRecord(at, duration, status, error, "retry", DeliveryStates.Pending, at + delay);
            }
        }

        if (!await _outbox.RecordAsync(message, record, ct))
        {
            LogLeaseLost(message.WebhookId);
        }
    }

    /// <summary>The delay a <c>Retry-After</c> header asks for (seconds, or an HTTP date), if any.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - now,
            _ => null,
        };

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (await RunOnceAsync(ct) > 0)
                {
                    continue;
                }

                var wait = _options.PollInterval;
                if (await _outbox.NextDueAsync(ct) is { } due)
                {
                    var untilDue = due - _options.Clock.GetUtcNow();
                    wait = untilDue < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : untilDue < wait ? untilDue : wait;
                }

                await _wake.WaitAsync(wait, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database may be briefly unavailable; nothing is lost, the rows stay due.
                LogLoopFailed(ex);
                try
                {
                    await Task.Delay(_options.PollInterval, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        _http.Dispose();
        _stop.Dispose();
        _wake.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider {Provider} answered 410 Gone: its webhook endpoint is disabled until an admin enables it")]
    private partial void LogEndpointDisabled(ProviderId provider);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId} to {Provider} failed after {Attempts} attempts ({Error}); redeliver it with 'broker deliveries redeliver'")]
    private partial void LogGaveUp(string webhookId, ProviderId provider, int attempts, string? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {WebhookId}: the claim's lease ran out before the attempt was recorded; another worker took it over")]
    private partial void LogLeaseLost(string webhookId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The webhook delivery loop failed; retrying")]
    private partial void LogLoopFailed(Exception ex);
}
