using System.Net;
using System.Text.Json;
using Xunit.Sdk;

namespace ComputeBroker.Server.Tests.Infrastructure;

/// <summary>Bounded waits on the API, for work the broker does on its own clock.</summary>
public static class Polling
{
    public static readonly string[] TerminalStates = ["placed", "partially-placed", "unfulfilled", "cancelled"];

    /// <summary>Polls the request until it is terminal; fails with its timeline when <paramref name="limit"/> passes first.</summary>
    public static async Task<JsonElement> WaitForTerminalAsync(HttpClient client, string request, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        JsonElement shown = default;
        while (DateTime.UtcNow < until)
        {
            shown = await client.GetAsync($"/v1/requests/{Uri.EscapeDataString(request)}").ExpectAsync(HttpStatusCode.OK);
            if (TerminalStates.Contains(shown.GetProperty("request").Str("state")))
            {
                return shown;
            }

            await Task.Delay(100);
        }

        throw new XunitException($"request {request} is not terminal after {limit}:\n{shown}");
    }

    /// <summary>The event types of a request's timeline, in order.</summary>
    public static string[] Types(JsonElement shown) => shown.GetProperty("timeline").EnumerateArray().Select(t => t.Str("type")).ToArray();
}
