using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Serialization;
using ComputeBroker.Server.Webhooks;
using ComputeBroker.Sourcing;
using Microsoft.AspNetCore.Http;

namespace ComputeBroker.Cli.ProviderSim;

/// <summary>What the reference provider has seen and done, for its status page and for tests. Thread-safe.</summary>
public sealed class ProviderSimStats
{
    private long _received;
    private long _verified;
    private long _rejected;
    private long _duplicates;
    private long _answered;
    private long _refused;

    public long Received => Interlocked.Read(ref _received);

    public long Verified => Interlocked.Read(ref _verified);

    public long Rejected => Interlocked.Read(ref _rejected);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Answers the broker accepted (2xx).</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Answers the broker refused (409 after a deadline or a second answer, 404...).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    internal void OnReceived() => Interlocked.Increment(ref _received);

    internal void OnVerified() => Interlocked.Increment(ref _verified);

    internal void OnRejected() => Interlocked.Increment(ref _rejected);

    internal void OnDuplicate() => Interlocked.Increment(ref _duplicates);

    internal void OnAnswered() => Interlocked.Increment(ref _answered);

    internal void OnRefused() => Interlocked.Increment(ref _refused);
}

/// <summary>
/// A provider's side of the webhook protocol, as a provider's team would start from it: receives the broker's
/// webhooks, verifies each (headers, timestamp within 5 minutes, signature under one of its secrets), refuses
/// replays by remembering webhook ids, acknowledges at once with 2xx, and answers asynchronously through the
/// broker's API with its provider key, deciding with an inventory model (the Core's <see cref="SimulatedProvider"/>).
/// One background loop handles the webhooks in arrival order, so the inventory is never used from two threads.
/// </summary>
public sealed class ReferenceProvider : IAsyncDisposable
{
    private const int MaxBody = 1 << 20;

    private readonly ProviderDefinition _definition;
    private readonly SimulatedProvider _inventory;
    private readonly WebhookVerifier _verifier;
    private readonly HttpClient _broker;
    private readonly TimeProvider _clock;
    private readonly Random _random;
    private readonly Action<string> _log;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private readonly Channel<(string Type, string Body)> _inbox = Channel.CreateUnbounded<(string, string)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _worker;

    public ReferenceProvider(ProviderDefinition definition, IReadOnlyList<WebhookSecret> secrets, Uri server, string key, int seed, Action<string> log, TimeProvider? clock = null)
    {
        _definition = definition;
        _clock = clock ?? TimeProvider.System;
        _verifier = new WebhookVerifier(secrets, _clock);
        _random = new Random(seed);
        _log = log;
        var now = _clock.GetUtcNow();
        var origin = new DateTimeOffset(now.UtcDateTime.Date.AddDays(-30), TimeSpan.Zero);
        var earliest = definition.Capacity.Select(c => c.From).DefaultIfEmpty(origin).Min();
        origin = earliest < origin ? new DateTimeOffset(earliest.UtcDateTime.Date, TimeSpan.Zero) : origin;
        _inventory = new SimulatedProvider(definition, origin, 24 * 3653 + (int)(now - origin).TotalHours);
        _broker = new HttpClient { BaseAddress = server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/"), Timeout = TimeSpan.FromSeconds(30) };
        _broker.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        _worker = Task.Run(WorkAsync);
    }

    public ProviderSimStats Stats { get; } = new();

    public ProviderId Id => _definition.Id;

    /// <summary>Handles one webhook POST: 400 for a malformed body, 401 for a bad signature or stale timestamp, 200 for a replayed id (not acted on again), 202 otherwise.</summary>
    public async Task<IResult> ReceiveAsync(HttpContext http)
    {
        Stats.OnReceived();
        byte[] body;
        using (var buffer = new MemoryStream())
        {
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
            if (buffer.Length > MaxBody)
            {
                Stats.OnRejected();
                return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            }

            body = buffer.ToArray();
        }

        var headers = http.Request.Headers;
        var id = headers[WebhookSigner.IdHeader].ToString();
        var verification = _verifier.Verify(id, headers[WebhookSigner.TimestampHeader].ToString(), headers[WebhookSigner.SignatureHeader].ToString(), body);
        if (!verification.Valid)
        {
            Stats.OnRejected();
            _log($"refused webhook {id}: {verification.Message}");
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Webhook signature refused", detail: verification.Message);
        }

        Stats.OnVerified();
        Forget(_clock.GetUtcNow() - (2 * _verifier.Tolerance));
        if (!_seen.TryAdd(id, _clock.GetUtcNow()))
        {
            // A replay, or the broker retrying a message whose 2xx it did not get: acknowledged, never acted on twice.
            Stats.OnDuplicate();
            return Results.Ok(new { status = "duplicate", webhookId = id });
        }

        string type;
        try
        {
            using var doc = JsonDocument.Parse(body);
            type = doc.RootElement.GetProperty("type").GetString() ?? string.Empty;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a webhook body", detail: ex.Message);
        }

        _inbox.Writer.TryWrite((type, Encoding.UTF8.GetString(body)));
        return Results.Accepted();
    }

    private void Forget(DateTimeOffset before)
    {
        // Ids older than twice the tolerance cannot come back: their timestamps would be refused anyway.
        if (_seen.Count < 10_000)
        {
            return;
        }

        foreach (var (id, at) in _seen)
        {
            if (at < before)
            {
                _seen.TryRemove(id, out _);
            }
        }
    }

    private async Task WorkAsync()
    {
        await foreach (var (type, body) in _inbox.Reader.ReadAllAsync())
        {
            try
            {
                await HandleAsync(type, body);
            }
            catch (Exception ex) when (ex is JsonException or HttpRequestException or TaskCanceledException)
            {
                _log($"{type}: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    private async Task HandleAsync(string type, string body)
    {
        switch (type)
        {
            case WebhookEventTypes.OfferCreated or WebhookEventTypes.MatchRequested:
            {
                var offer = Read<OfferData>(body);
                var request = RequestOf(offer.Request, offer.Price, offer.RespondBy);
                var made = new OfferMade(offer.RequestId, offer.OfferedAt, offer.OfferId, offer.Kind, offer.Provider, offer.Gpus, offer.Price, offer.PartialAllowed, offer.RespondBy);
                var answer = _inventory.AnswerOffer(made, request);
                if (answer is OfferAnswer.Accept accept)
                {
                    if (!await AnswerAsync(offer.Answer.Accept!, new { gpus = accept.Gpus.Value }, $"{type} {offer.OfferId}: accept {accept.Gpus} of {offer.Gpus} GPUs"))
                    {
                        _inventory.Release(offer.RequestId, accept.Gpus);
                    }
                }
                else
                {
                    await AnswerAsync(offer.Answer.Decline!, new { reason = ((OfferAnswer.Decline)answer).Reason }, $"{type} {offer.OfferId}: decline");
                }

                break;
            }

            case WebhookEventTypes.QuoteRequested:
            {
                var quote = Read<QuoteRequestData>(body);
                var request = RequestOf(quote.Request, quote.Ceiling, quote.Deadline);
                switch (_inventory.Quote(request, quote.Gpus, _clock.GetUtcNow(), TimeSpan.FromDays(1)))
                {
                    case QuoteAnswer.Quote q:
                        await AnswerAsync(quote.Answer.Quote!, new { gpus = q.Gpus.Value, price = q.Price.PerHour.ToString(), start = q.Start.ToString("O", CultureInfo.InvariantCulture) },
                            $"{type} {quote.RequestId}: quote {q.Gpus} GPUs at {q.Price.PerHour}");
                        break;
                    case QuoteAnswer.Decline d:
                        await AnswerAsync(quote.Answer.Decline!, new { reason = d.Reason }, $"{type} {quote.RequestId}: decline ({d.Reason})");
                        break;
                }

                break;
            }

            case WebhookEventTypes.ReservationRequested:
            {
                var award = Read<ReservationData>(body);
                var request = RequestOf(award.Request, award.Price, award.RespondBy);
                var reserved = _inventory.Reserve(request, award.Gpus, _random);
                if (reserved)
                {
                    if (!await AnswerAsync(award.Answer.Confirm!, new { }, $"{type} {award.RequestId}/{award.Award}: confirm {award.Gpus} GPUs"))
                    {
                        _inventory.Release(award.RequestId, award.Gpus);
                    }
                }
                else
                {
                    await AnswerAsync(award.Answer.Fail!, new { reason = "capacity no longer free" }, $"{type} {award.RequestId}/{award.Award}: fail");
                }

                break;
            }

            case WebhookEventTypes.RequestPlaced or WebhookEventTypes.RequestClosed:
            {
                var closed = Read<RequestClosedData>(body);
                if (closed.Outcome == RequestOutcome.Cancelled)
                {
                    _inventory.Release(closed.RequestId);
                }
                else
                {
                    _inventory.Forget(closed.RequestId);
                }

                _log($"{type} {closed.RequestId}: {closed.Outcome}, {closed.Gpus} GPUs with {Id}");
                break;
            }

            default:
                // offer.expired, reservation.expired and types added later: nothing is held for them.
                _log($"{type}: noted");
                break;
        }
    }

    /// <summary>POSTs an answer; true when the broker took it. A 409 means the deadline passed or it was already answered: nothing changed.</summary>
    private async Task<bool> AnswerAsync(string path, object body, string what)
    {
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await _broker.PostAsync(path.TrimStart('/'), content);
        if (response.IsSuccessStatusCode)
        {
            Stats.OnAnswered();
            _log(what);
            return true;
        }

        Stats.OnRefused();
        var problem = await response.Content.ReadAsStringAsync();
        _log($"{what}: refused with {(int)response.StatusCode} {(response.StatusCode == HttpStatusCode.Conflict ? "(too late or already answered)" : string.Empty)} {problem}");
        return false;
    }

    private static T Read<T>(string body) => BrokerJson.Deserialize<WebhookEnvelope<T>>(body).Data;

    /// <summary>The request as the inventory model needs it; the provider does not see the customer or its maximum price.</summary>
    private static CapacityRequest RequestOf(RequestTerms terms, PricePerGpuHour price, DateTimeOffset answerBy) => new()
    {
        Id = terms.Id,
        Customer = "-",
        WorkloadClass = terms.WorkloadClass,
        Accelerator = terms.Accelerator,
        Gpus = terms.Gpus,
        EarliestStart = terms.EarliestStart,
        DurationHours = terms.DurationHours,
        Regions = terms.Regions,
        MaxPrice = price,
        NeededBy = answerBy,
        AllOrNothing = terms.AllOrNothing,
    };

    public async ValueTask DisposeAsync()
    {
        _inbox.Writer.TryComplete();
        await _worker;
        _broker.Dispose();
    }
}
