using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ComputeBroker.Cli;

/// <summary>
/// Talks to a running broker for the CLI verbs: the server from <c>--server</c> or BROKER_SERVER, the key from
/// BROKER_API_KEY. A problem response becomes a <see cref="UserInputException"/> (4xx, exit 1) carrying the
/// server's detail and field errors; an unreachable server says how to start one.
/// </summary>
public sealed class BrokerClient : IDisposable
{
    public const string DefaultServer = "http://127.0.0.1:5080";

    private readonly HttpClient _http;

    public BrokerClient(string? server)
    {
        var url = server ?? Environment.GetEnvironmentVariable("BROKER_SERVER") ?? DefaultServer;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            throw new UserInputException($"--server: '{url}' is not an http(s) URL (e.g. {DefaultServer})");
        }

        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) };
        var key = Environment.GetEnvironmentVariable("BROKER_API_KEY");
        if (!string.IsNullOrWhiteSpace(key))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Trim());
        }
    }

    public Task<JsonElement> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, null, ct);

    public Task<string> GetTextAsync(string path, CancellationToken ct) => SendTextAsync(HttpMethod.Get, path, null, null, ct);

    public Task<JsonElement> PostAsync(string path, object? body, CancellationToken ct, IReadOnlyDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Post, path, body is null ? null : new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"), headers, ct);

    /// <summary>Posts <paramref name="body"/> and also says whether the server answered from its idempotency record (<c>Idempotent-Replayed</c>).</summary>
    public async Task<(JsonElement Body, bool Replayed)> PostIdempotentAsync(string path, object body, string idempotencyKey, CancellationToken ct)
    {
        var (text, headers) = await SendCoreAsync(
            HttpMethod.Post,
            path,
            new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
            new Dictionary<string, string> { ["Idempotency-Key"] = idempotencyKey },
            ct);
        var replayed = headers.TryGetValues("Idempotent-Replayed", out var values) && values.Contains("true", StringComparer.OrdinalIgnoreCase);
        return (Parse(text), replayed);
    }

    public Task<JsonElement> PostRawAsync(string path, string body, string contentType, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, path, new StringContent(body, Encoding.UTF8, contentType), null, ct);

    public Task<JsonElement> DeleteAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, null, ct);

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, HttpContent? content, IReadOnlyDictionary<string, string>? headers, CancellationToken ct)
    {
        var text = await SendTextAsync(method, path, content, headers, ct);
        return Parse(text);
    }

    private static JsonElement Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return default;
        }

        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    private async Task<string> SendTextAsync(HttpMethod method, string path, HttpContent? content, IReadOnlyDictionary<string, string>? headers, CancellationToken ct) =>
        (await SendCoreAsync(method, path, content, headers, ct)).Text;

    private async Task<(string Text, System.Net.Http.Headers.HttpResponseHeaders Headers)> SendCoreAsync(HttpMethod method, string path, HttpContent? content, IReadOnlyDictionary<string, string>? headers, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(method, path) { Content = content };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new UserInputException($"the broker at {_http.BaseAddress} is not reachable ({ex.Message}); start one with 'broker serve' (or 'broker serve --demo'), or point at yours with --server URL or BROKER_SERVER");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new UserInputException($"the broker at {_http.BaseAddress} did not answer within {_http.Timeout.TotalSeconds:0} s; check that it is running and reachable");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode)
            {
                return (text, response.Headers);
            }

            throw new UserInputException(Describe(response.StatusCode, text));
        }
    }

    private static string Describe(HttpStatusCode status, string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : root.TryGetProperty("title", out var t) ? t.GetString() : body;
            var lines = new List<string> { $"{(int)status} {status}: {detail}" };
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in errors.EnumerateObject())
                {
                    foreach (var message in field.Value.EnumerateArray())
                    {
                        lines.Add($"  {field.Name}: {message.GetString()}");
                    }
                }
            }

            if (status == HttpStatusCode.Unauthorized)
            {
                lines.Add("  set BROKER_API_KEY to a key from 'broker keys create'");
            }

            return string.Join(Environment.NewLine, lines);
        }
        catch (JsonException)
        {
            return $"{(int)status} {status}: {body}";
        }
    }

    public void Dispose() => _http.Dispose();
}
