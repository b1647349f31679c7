using ComputeBroker.Contracts;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Server.Hosting;

/// <summary>How to run the broker service: where its log lives, where it listens, its providers and clock.</summary>
public sealed record ServeOptions
{
    /// <summary>A SQLite file path, or a PostgreSQL connection string.</summary>
    public required string Database { get; init; }

    public string Urls { get; init; } = "http://127.0.0.1:5080";

    public required IReadOnlyList<ProviderDefinition> Providers { get; init; }

    public BrokerPolicy Policy { get; init; } = BrokerPolicy.Default;

    /// <summary>Agreement documents (name, text) applied at start if not applied yet.</summary>
    public IReadOnlyList<(string Name, string Text)> Agreements { get; init; } = [];

    /// <summary>The broker's clock; a <see cref="ScaledTimeProvider"/> for demos.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Submit a steady stream of example requests (the demo).</summary>
    public bool DemoTraffic { get; init; }

    /// <summary>Real time between two demo requests.</summary>
    public TimeSpan DemoInterval { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Create and print an admin key at start when none exists (the demo's convenience).</summary>
    public bool CreateAdminKeyIfMissing { get; init; }

    public int Seed { get; init; } = 1;

    /// <summary>How webhooks to webhook providers are delivered (retries, timeouts, the delivery clock).</summary>
    public global::ComputeBroker.Server.Webhooks.WebhookOptions Webhooks { get; init; } = new();

    /// <summary>Where the demo keeps its admin key (readable by the owner only), so a restart can show it again.</summary>
    public string? AdminKeyFile { get; init; }
}
