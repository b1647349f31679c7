using System.Diagnostics.Metrics;
using System.Text.Json;
using ComputeBroker.Providers;
using ComputeBroker.Serialization;
using ComputeBroker.Server.Api;
using ComputeBroker.Server.Security;
using ComputeBroker.Server.Service;
using ComputeBroker.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scalar.AspNetCore;

namespace ComputeBroker.Server.Hosting;

/// <summary>Builds the broker's web application: the API under <c>/v1</c>, OpenAPI, health, and the dashboard.</summary>
public static partial class BrokerHost
{
    /// <summary>
    /// A scaled clock (<c>--speed</c>, the demo's 3600x) starts at the wall time, which after a restart can be months of broker
    /// time before the last event of the log it runs on: it continues from that event instead, so the log's instants never
    /// go back. A real-time clock is the wall clock and is left as it is.
    /// </summary>
    private static async Task<TimeProvider> ContinueFromLogAsync(TimeProvider clock, IEventStore store, CancellationToken ct)
    {
        if (clock is not ScaledTimeProvider scaled || (await store.HeadAsync(ct)) is not { EventCount: > 0 } head)
        {
            return clock;
        }

        var last = await store.ReadAllAsync(head.LastPosition, 1, ct);
        return last.Count == 1 && last[0].RecordedAt > scaled.GetUtcNow() ? scaled.StartingAt(last[0].RecordedAt) : clock;
    }

    public static async Task<WebApplication> BuildAsync(ServeOptions options, CancellationToken ct)
    {
        var store = await EventStoreFactory.OpenAsync(options.Database, ct);
        var webhooks = await Webhooks.BrokerWebhooks.OpenAsync(options.Database, options.Providers, options.Webhooks, ct);
        var deadlines = await DeadlineTable.OpenAsync(EventStoreLocation.Parse(options.Database), ct);
        var clock = await ContinueFromLogAsync(options.Clock, store, ct);
        // The broker takes no settings files. Its database usually sits in the working directory, so a content root there with
        // settings reloaded on change would watch the directory and wake on every write to the log.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.WebHost.UseUrls(options.Urls);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("ComputeBroker", LogLevel.Information);
        builder.Services.ConfigureHttpJsonOptions(json => CopyJsonOptions(json.SerializerOptions));
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi("v1", openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "ComputeBroker API";
            document.Info.Description = "Contract-aware multi-cloud GPU capacity broker. Authenticate with 'Authorization: Bearer cbk_...'. Errors are RFC 9457 problem details.";
            document.Info.Version = "v1";
            return Task.CompletedTask;
        }));
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sp => new BrokerService(
            store, clock, new ProviderCatalog(options.Providers), options.Policy, sp.GetRequiredService<ILogger<BrokerService>>(), options.Seed,
            meters: sp.GetRequiredService<IMeterFactory>())
        {
            Webhooks = webhooks.WithLogger(sp.GetRequiredService<ILogger<Webhooks.WebhookDelivery>>()),
            Deadlines = deadlines,
        });
        builder.Services.AddHostedService<BrokerLifetime>();
        if (options.DemoTraffic)
        {
            builder.Services.AddHostedService<DemoTraffic>();
        }

        var app = builder.Build();
        app.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError });
        app.UseStatusCodePages();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/docs", scalar => scalar.WithTitle("ComputeBroker API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).ExcludeFromDescription();
        app.MapGet("/readyz", async (BrokerService broker, CancellationToken token) =>
        {
            var head = await broker.Store.HeadAsync(token);
            return broker.Projection.Position >= head.LastPosition
                ? Results.Ok(new { status = "ready", position = head.LastPosition })
                : Results.Json(new { status = "catching-up", position = broker.Projection.Position, head = head.LastPosition }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }).ExcludeFromDescription();

        var v1 = app.MapGroup("/v1").AddEndpointFilter(Auth.Filter).WithTags("v1");
        RequestEndpoints.Map(v1);
        ProviderEndpoints.Map(v1);
        AgreementEndpoints.Map(v1);
        LedgerEndpoints.Map(v1);
        AuditEndpoints.Map(v1);
        KeyEndpoints.Map(v1);
        StatsEndpoints.Map(v1);
        DashboardEndpoints.Map(app);
        DeliveryEndpoints.Map(v1);
        app.MapFallback("/v1/{**rest}", (HttpContext http) => Problems.NotFound($"there is no endpoint {http.Request.Method} {http.Request.Path}; see /docs for the API reference"));
        return app;
    }

    /// <summary>The API speaks the same JSON as the event log (money as "12.29 USD", kebab-case enums).</summary>
    public static void CopyJsonOptions(JsonSerializerOptions target)
    {
        var source = BrokerJson.Options;
        target.PropertyNamingPolicy = source.PropertyNamingPolicy;
        target.DefaultIgnoreCondition = source.DefaultIgnoreCondition;
        target.Encoder = source.Encoder;
        // The resolver drops events' duplicate 'type' property (their polymorphic discriminator): without it
        // every event in a response (a request's timeline) fails to serialize.
        target.TypeInfoResolver = source.TypeInfoResolver;
        foreach (var converter in source.Converters)
        {
            target.Converters.Add(converter);
        }
    }

    /// <summary>Starts the service with the host (log read, deadline runner started, agreements applied) and stops it cleanly.</summary>
    private sealed partial class BrokerLifetime(BrokerService broker, ServeOptions options, IEventStore store, ILogger<BrokerLifetime> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await broker.StartAsync(cancellationToken);
            foreach (var (name, text) in options.Agreements)
            {
                var result = await broker.ApplyAgreementAsync(text, name, "startup", cancellationToken);
                if (!result.Ok)
                {
                    throw new InvalidOperationException($"{name}: {result.Rejection!.Message}");
                }
            }

            if (!broker.Projection.Keys.HasActiveAdmin && Environment.GetEnvironmentVariable("BROKER_ADMIN_KEY") is { Length: > 0 } bootstrap)
            {
                await broker.RegisterKeyAsync(bootstrap.Trim(), new Role(RoleKind.Admin, null), "BROKER_ADMIN_KEY at first start", cancellationToken);
                LogBootstrapKey();
            }

            if (broker.Projection.Keys.HasActiveAdmin && options.AdminKeyFile is { } keyFile && File.Exists(keyFile))
            {
                LogAdminKeyFile(keyFile);
            }
            else if (!broker.Projection.Keys.HasActiveAdmin)
            {
                if (options.CreateAdminKeyIfMissing)
                {
                    var (key, _) = await broker.CreateKeyAsync(new Role(RoleKind.Admin, null), "created at first start of the demo", cancellationToken);
                    if (options.AdminKeyFile is { } file)
                    {
                        await File.WriteAllTextAsync(file, key + Environment.NewLine, cancellationToken);
                        if (!OperatingSystem.IsWindows())
                        {
                            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                        }
                    }

                    LogAdminKey(key);
                }
                else
                {
                    LogNoAdmin(options.Database);
                }
            }
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await broker.DisposeAsync();
            await store.DisposeAsync();
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "Admin key (shown once; export it as BROKER_API_KEY): {Key}")]
        private partial void LogAdminKey(string key);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Registered BROKER_ADMIN_KEY as the first admin key")]
        private partial void LogBootstrapKey();

        [LoggerMessage(Level = LogLevel.Warning, Message = "The demo's admin key is in {File} (export it as BROKER_API_KEY)")]
        private partial void LogAdminKeyFile(string file);

        [LoggerMessage(Level = LogLevel.Warning, Message = "No admin key exists yet. Create one with: broker keys create --role admin --db {Database}")]
        private partial void LogNoAdmin(string database);
    }
}
