using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit.Sdk;

namespace ComputeBroker.Server.Tests.Infrastructure;

/// <summary>Sending JSON, reading JSON, and asserting on statuses and RFC 9457 problems with the body in the message.</summary>
public static class Http
{
    public static readonly JsonSerializerOptions BodyOptions = new() { WriteIndented = false };

    public static HttpContent Json(object body) => Raw(JsonSerializer.Serialize(body, BodyOptions));

    public static HttpContent Raw(string text, string contentType = "application/json") =>
        new StringContent(text, Encoding.UTF8, MediaTypeHeaderValue.Parse(contentType));

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body, string? idempotencyKey = null) =>
        client.PostRawAsync(url, JsonSerializer.Serialize(body, BodyOptions), idempotencyKey);

    public static async Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string url, string body, string? idempotencyKey = null, string contentType = "application/json")
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = Raw(body, contentType) };
        if (idempotencyKey is not null)
        {
            message.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(message);
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new XunitException($"{Describe(response)}: the body is not JSON:\n{text}");
        }
    }

    /// <summary>Asserts the status and returns the JSON body.</summary>
    public static async Task<JsonElement> ExpectAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != status)
        {
            throw new XunitException($"{Describe(response)}: expected {(int)status} {status}, got {(int)response.StatusCode}:\n{text}");
        }

        return text.Length == 0 ? default : await response.ReadJsonAsync();
    }

    public static async Task<JsonElement> ExpectAsync(this Task<HttpResponseMessage> response, HttpStatusCode status) =>
        await (await response).ExpectAsync(status);

    /// <summary>
    /// Asserts an RFC 9457 problem: the status, content type application/problem+json, and type, title, status and
    /// detail in the body; when <paramref name="fields"/> are given, each is named in <c>errors</c>.
    /// </summary>
    public static async Task<JsonElement> ExpectProblemAsync(this HttpResponseMessage response, HttpStatusCode status, params string[] fields)
    {
        var text = await response.Content.ReadAsStringAsync();
        var where = $"{Describe(response)} -> {(int)response.StatusCode}:\n{text}";
        Assert.True(response.StatusCode == status, $"expected {(int)status} {status}; {where}");
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"expected content-type application/problem+json, got {response.Content.Headers.ContentType}; {where}");
        var problem = await response.ReadJsonAsync();
        foreach (var member in (string[])["type", "title", "detail"])
        {
            Assert.True(problem.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0, $"the problem has no '{member}'; {where}");
        }

        Assert.True(problem.TryGetProperty("status", out var statusValue) && statusValue.GetInt32() == (int)status, $"the problem's status is not {(int)status}; {where}");
        foreach (var field in fields)
        {
            Assert.True(
                problem.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object && errors.TryGetProperty(field, out _),
                $"the problem does not name the field '{field}' in errors; {where}");
        }

        return problem;
    }

    public static async Task<JsonElement> ExpectProblemAsync(this Task<HttpResponseMessage> response, HttpStatusCode status, params string[] fields) =>
        await (await response).ExpectProblemAsync(status, fields);

    public static string Str(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new XunitException($"no string '{property}' in {element}");

    public static int Int(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetInt32()
            : throw new XunitException($"no number '{property}' in {element}");

    public static IEnumerable<JsonElement> Items(this JsonElement element) =>
        element.ValueKind == JsonValueKind.Array ? element.EnumerateArray() : element.GetProperty("items").EnumerateArray();

    private static string Describe(HttpResponseMessage response) =>
        $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}";
}
