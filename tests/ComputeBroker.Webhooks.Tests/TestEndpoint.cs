using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ComputeBroker.Webhooks.Tests;

/// <summary>A webhook request as an endpoint received it.</summary>
public sealed record ReceivedWebhook(string Id, string Timestamp, string Signature, byte[] Body, DateTimeOffset At)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A small HTTP endpoint on loopback (Kestrel on a free port) whose answer the test programs: a status, a
/// delay past the sender's timeout, a Retry-After, or a dropped connection. Records every request.
/// </summary>
public sealed class TestEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestEndpoint(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>What to do with the n-th request (1-based); the default answers 204.</summary>
    public Func<int, HttpContext, Task> Behaviour { get; set; } = (_, http) =>
    {
        http.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    };

    public static async Task<TestEndpoint> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        TestEndpoint? endpoint = null;
        var count = 0;
        app.MapPost("/{**path}", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            var h = http.Request.Headers;
            endpoint!.Received.Enqueue(new ReceivedWebhook(h["webhook-id"].ToString(), h["webhook-timestamp"].ToString(), h["webhook-signature"].ToString(), buffer.ToArray(), DateTimeOffset.UtcNow));
            await endpoint.Behaviour(Interlocked.Increment(ref count), http);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        endpoint = new TestEndpoint(app, new Uri(address + "/hooks"));
        return endpoint;
    }

    public static Task Status(HttpContext http, int status, string? retryAfter = null)
    {
        http.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            http.Response.Headers.RetryAfter = retryAfter;
        }

        return Task.CompletedTask;
    }

    /// <summary>Closes the connection without any response.</summary>
    public static Task Drop(HttpContext http)
    {
        http.Abort();
        return Task.CompletedTask;
    }

    public static async Task Hang(HttpContext http)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(30), http.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
