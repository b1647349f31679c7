using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ComputeBroker.Definitions;
using ComputeBroker.Server.Hosting;
using Microsoft.AspNetCore.Builder;

namespace ComputeBroker.Dashboard.Tests;

/// <summary>
/// A real <c>broker serve --demo</c> in this process: a temporary SQLite file, the example agreement with
/// its amendment (two versions), the example providers with azure and coreweave as webhook connectors
/// (so their offers and quote requests wait for a person), demo traffic, and a clock that starts on
/// 2025-07-01 (version 1, with azure's first refusal, in force) and runs 300 times faster than real time.
/// </summary>
public sealed class BrokerUnderTest : IAsyncDisposable
{
    public const double Speed = 300;

    private readonly string _directory;
    private readonly HttpClient _http;

    private BrokerUnderTest(WebApplication app, string directory, string baseUrl, string adminKey)
    {
        App = app;
        _directory = directory;
        BaseUrl = baseUrl;
        AdminKey = adminKey;
        _http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public string BaseUrl { get; }

    public string AdminKey { get; }

    public static async Task<BrokerUnderTest> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"computebroker-dashboard-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var database = Path.Combine(directory, "broker.db");
        var providersText = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "providers-webhook-azure.yaml"));
        var providers = DefinitionReader.ReadProviders(providersText, "providers-webhook-azure.yaml");
        if (!providers.Ok)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, providers.Errors));
        }

        var agreementText = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "examples", "microsoft-openai-2025-10.yaml"));
        var options = new ServeOptions
        {
            Database = database,
            Urls = "http://127.0.0.1:0",
            Providers = providers.Value!.Providers,
            Policy = providers.Value.Policy,
            Agreements = [("microsoft-openai-2025-10.yaml", agreementText)],
            Clock = new ScaledTimeProvider(new DateTimeOffset(2025, 7, 1, 0, 0, 0, TimeSpan.Zero), Speed),
            DemoTraffic = true,
            DemoInterval = TimeSpan.FromMilliseconds(800),
            CreateAdminKeyIfMissing = true,
            AdminKeyFile = database + ".admin-key",
            Seed = 7,
        };
        var app = await BrokerHost.BuildAsync(options, CancellationToken.None);
        await app.StartAsync();
        var baseUrl = app.Urls.First().TrimEnd('/');
        var adminKey = (await File.ReadAllTextAsync(options.AdminKeyFile)).Trim();
        return new BrokerUnderTest(app, directory, baseUrl, adminKey);
    }

    /// <summary>Creates a key with the given role (admin call) and returns the key itself.</summary>
    public async Task<string> CreateKeyAsync(string role)
    {
        var created = await SendAsync(AdminKey, HttpMethod.Post, "/v1/keys", new { role, note = "dashboard browser test" });
        return created.GetProperty("key").GetString()!;
    }

    public Task<JsonElement> GetAsync(string key, string path) => SendAsync(key, HttpMethod.Get, path, null);

    public async Task<JsonElement> SendAsync(string key, HttpMethod method, string path, object? body)
    {
        using var response = await SendRawAsync(key, method, path, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        }

        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<HttpResponseMessage> SendRawAsync(string? key, HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        else if (method == HttpMethod.Post)
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        return await _http.SendAsync(request);
    }

    public async Task<HttpResponseMessage> GetRawAsync(string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure?.Invoke(request);
        return await _http.SendAsync(request);
    }

    /// <summary>Polls <paramref name="probe"/> until it returns a value, or fails after <paramref name="timeout"/> (real time).</summary>
    public static async Task<T> WaitForAsync<T>(string what, TimeSpan timeout, Func<Task<T?>> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds:N0} s for {what}");
            }

            await Task.Delay(250);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left for the OS's temp cleaning; the test result does not depend on it.
        }
    }
}
