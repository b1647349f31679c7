using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ComputeBroker.Server.Webhooks;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Webhooks.Tests;

/// <summary>
/// The broker and two 'broker provider-sim' processes over loopback: azure (the first-refusal holder, in the
/// middle of a secret rotation, still verifying with its previous secret) and oracle (a third party whose
/// secret the broker reads from an environment variable). Requests flow through the offer, partial acceptance,
/// a decline, quotes, reservations and placement; every webhook is signed, verified and acknowledged.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class ProviderSimEndToEndTests
{
    [Fact]
    public async Task TwoProviderSims_AnswerThroughTheApi_AndRequestsArePlaced()
    {
        Environment.SetEnvironmentVariable("ORACLE_WEBHOOK_SECRET_E2E", TestSecrets.Other);
        var azurePort = TestBroker.FreePort();
        var oraclePort = TestBroker.FreePort();
        var providers = Providers(azurePort, oraclePort);
        using var providersFile = new TempFile(Path.Combine(Path.GetTempPath(), $"cb-providers-{Guid.NewGuid():N}.yaml"));
        await File.WriteAllTextAsync(providersFile.Path, providers);
        await using var broker = await TestBroker.StartAsync(providers, TestBroker.Agreement("PT30S"), new WebhookOptions { PollInterval = TimeSpan.FromMilliseconds(100), Seed = 3 });
        var azureKey = await broker.CreateKeyAsync("provider:azure");
        var oracleKey = await broker.CreateKeyAsync("provider:oracle");

        using var azure = ProviderSim.Start("azure", azurePort, TestSecrets.Previous, broker.Url, azureKey, providersFile.Path);
        using var oracle = ProviderSim.Start("oracle", oraclePort, TestSecrets.Other, broker.Url, oracleKey, providersFile.Path);
        await azure.WaitReadyAsync();
        await oracle.WaitReadyAsync();

        // 1024 GPUs: azure has 512 free, accepts part; the rest is quoted by oracle, awarded and reserved.
        var first = await broker.SubmitAsync("r-e2e-1", 1024, TimeSpan.FromHours(1));
        var firstView = await broker.WaitClosedAsync(first, TimeSpan.FromSeconds(60));

        // 512 more for the same period: azure has nothing left and declines; oracle takes it all.
        var second = await broker.SubmitAsync("r-e2e-2", 512, TimeSpan.FromHours(1));
        var secondView = await broker.WaitClosedAsync(second, TimeSpan.FromSeconds(60));

        Assert.Equal("placed", firstView.State);
        Assert.Equal([("azure", 512, AllocationSource.Offer), ("oracle", 512, AllocationSource.Market)],
            firstView.Allocations.Select(a => (a.Provider.Value, a.Gpus.Value, a.Source)).OrderBy(a => a.Item1, StringComparer.Ordinal));
        Assert.Equal("placed", secondView.State);
        Assert.Equal([("oracle", 512)], secondView.Allocations.Select(a => (a.Provider.Value, a.Gpus.Value)));
        Assert.Contains(await broker.TimelineAsync(second), e => e is OfferDeclined);

        // Every webhook was delivered and verified by the receiving process. Azure took no part of the second
        // placement, so it hears request.closed for it; request.placed goes to the providers that hold GPUs.
        var deliveries = await WaitAllDeliveredAsync(broker, expected: 10);
        Assert.Equal(
            ["offer.created", "offer.created", "request.closed", "request.placed"],
            deliveries.Where(d => d.Provider == "azure").Select(d => d.Type).Order(StringComparer.Ordinal));
        Assert.Equal(
            ["quote.requested", "quote.requested", "request.placed", "request.placed", "reservation.requested", "reservation.requested"],
            deliveries.Where(d => d.Provider == "oracle").Select(d => d.Type).Order(StringComparer.Ordinal));
        var azureStats = await azure.StatsAsync();
        var oracleStats = await oracle.StatsAsync();
        Assert.Equal(0, azureStats.GetProperty("rejected").GetInt64());
        Assert.Equal(0, oracleStats.GetProperty("rejected").GetInt64());
        Assert.Equal(deliveries.Count(d => d.Provider == "azure"), azureStats.GetProperty("verified").GetInt64());
        Assert.Equal(deliveries.Count(d => d.Provider == "oracle"), oracleStats.GetProperty("verified").GetInt64());
        Assert.Equal(2, azureStats.GetProperty("answered").GetInt64());
        Assert.Equal(4, oracleStats.GetProperty("answered").GetInt64());

        // A second answer to an answered offer: a clear 409 problem that changes nothing.
        var offer = (await broker.TimelineAsync(first)).OfType<OfferMade>().Single();
        using var client = broker.Client(azureKey);
        var before = (await broker.TimelineAsync(first)).Length;
        using var again = await client.PostAsJsonAsync($"v1/offers/{offer.Offer.Value}/accept", new { gpus = 512 });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, (await broker.TimelineAsync(first)).Length);

        // A replayed webhook (same id, same signature) is acknowledged but not acted on again.
        var replay = await ReplayAsync(broker, azurePort);
        Assert.Equal(HttpStatusCode.OK, replay);
        Assert.Equal(1, (await azure.StatsAsync()).GetProperty("duplicates").GetInt64());
        Assert.Equal(2, (await azure.StatsAsync()).GetProperty("answered").GetInt64());
    }

    private static async Task<HttpStatusCode> ReplayAsync(TestBroker broker, int port)
    {
        // The provider-sim keeps the ids it has seen; resend the first offer exactly as the broker did.
        var delivery = (await broker.DeliveriesAsync("azure")).Last();
        var detail = (await broker.Service.Webhooks!.Outbox.FindAsync(delivery.GetProperty("id").GetInt64(), CancellationToken.None))!;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var body = Encoding.UTF8.GetBytes(detail.Payload);
        using var http = new HttpClient();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/hooks") { Content = content };
        request.Headers.TryAddWithoutValidation("webhook-id", detail.Delivery.WebhookId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", now.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSigner.Sign([TestSecrets.Parse(TestSecrets.Current), TestSecrets.Parse(TestSecrets.Previous)], detail.Delivery.WebhookId, now, body));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<(string Provider, string Type)[]> WaitAllDeliveredAsync(TestBroker broker, int expected)
    {
        var until = DateTimeOffset.UtcNow.AddSeconds(30);
        while (true)
        {
            var all = await broker.DeliveriesAsync();
            if (all.Length >= expected && all.All(d => d.GetProperty("state").GetString() == DeliveryStates.Delivered))
            {
                return all.Select(d => (d.GetProperty("provider").GetString()!, d.GetProperty("type").GetString()!)).ToArray();
            }

            Assert.True(DateTimeOffset.UtcNow < until, $"deliveries not all delivered: {string.Join("\n", all.Select(d => d.ToString()))}");
            await Task.Delay(200);
        }
    }

    private static string Providers(int azurePort, int oraclePort) => $$"""
        kind: providers
        policy:
          quote-window: PT20S
          reservation-window: PT20S
          quote-validity: P1D
        providers:
          - id: azure
            connector: webhook
            url: http://127.0.0.1:{{azurePort}}/hooks
            secret: {{TestSecrets.Current}}
            previous-secret: {{TestSecrets.Previous}}
            regions: [eastus]
            prices:
              - { accelerator: H100, price: 12.00 USD }
            capacity:
              - { accelerator: H100, region: eastus, gpus: 512, from: 2024-01-01 }
          - id: oracle
            connector: webhook
            url: http://127.0.0.1:{{oraclePort}}/hooks
            secret: env:ORACLE_WEBHOOK_SECRET_E2E
            regions: [us-chicago-1]
            prices:
              - { accelerator: H100, price: 10.00 USD }
            capacity:
              - { accelerator: H100, region: us-chicago-1, gpus: 4096, from: 2024-01-01 }
        """;

    /// <summary>A 'broker provider-sim' child process (dotnet broker.dll), killed on dispose; its output is kept for failure messages.</summary>
    private sealed class ProviderSim : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly int _port;

        private ProviderSim(Process process, int port)
        {
            _process = process;
            _port = port;
        }

        public static ProviderSim Start(string provider, int port, string secret, Uri server, string key, string providersFile)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[]
            {
                Path.Combine(AppContext.BaseDirectory, "broker.dll"), "provider-sim", "--listen", $"http://127.0.0.1:{port}", "--provider", provider,
                "--secret", secret, "--server", server.ToString(), "--key", key, "--providers", providersFile,
            })
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start)!;
            var sim = new ProviderSim(process, port);
            process.OutputDataReceived += (_, e) => sim.Append(e.Data);
            process.ErrorDataReceived += (_, e) => sim.Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return sim;
        }

        public async Task WaitReadyAsync()
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var until = DateTimeOffset.UtcNow.AddSeconds(60);
            while (true)
            {
                Assert.False(_process.HasExited, $"provider-sim exited with {(_process.HasExited ? _process.ExitCode : 0)}:\n{Output}");
                try
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{_port}/healthz"));
                    if (response.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }

                Assert.True(DateTimeOffset.UtcNow < until, $"provider-sim did not start:\n{Output}");
                await Task.Delay(200);
            }
        }

        public async Task<JsonElement> StatsAsync()
        {
            using var http = new HttpClient();
            return await http.GetFromJsonAsync<JsonElement>(new Uri($"http://127.0.0.1:{_port}/healthz"));
        }

        private string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }

            _process.Dispose();
        }
    }
}
