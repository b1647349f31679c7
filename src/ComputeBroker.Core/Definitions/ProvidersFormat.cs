using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;
using YamlDotNet.RepresentationModel;

namespace ComputeBroker.Definitions;

/// <summary>Reads <c>kind: providers</c> files: the broker policy and each provider's regions, prices, capacity and answer policy.</summary>
internal static class ProvidersFormat
{
    private static readonly string[] RootKeys = ["kind", "policy", "providers"];
    private static readonly string[] PolicyKeys = ["exclusive-response-window", "quote-window", "reservation-window", "quote-validity"];
    private static readonly string[] ProviderKeys = ["id", "name", "connector", "url", "secret", "previous-secret", "regions", "prices", "capacity", "answers"];
    private static readonly string[] PriceKeys = ["accelerator", "region", "price"];
    private static readonly string[] CapacityKeys = ["accelerator", "region", "gpus", "from", "ramp-until"];
    private static readonly string[] AnswerKeys = ["latency", "reliability", "decline-classes", "accept-partial", "reservation-failure-rate"];
    private static readonly string[] LatencyKeys = ["min", "max"];

    public static ProvidersFile? Read(YamlMap root)
    {
        var diagnostics = root.Diagnostics;
        var before = diagnostics.Count;
        root.AllowOnly(RootKeys, "a providers file");
        var policy = ReadPolicy(root);
        var providers = new List<ProviderDefinition>();
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (node, path) in root.Items("providers", "at least one provider (id, name, connector, regions, prices, capacity)") ?? [])
        {
            if (YamlMap.Of(diagnostics, node, path, "id, name, connector, regions, prices, capacity and answers") is not { } map)
            {
                continue;
            }

            var provider = ReadProvider(map);
            if (map.Peek("id") is { } id)
            {
                if (ids.TryGetValue(id, out var other))
                {
                    map.Error("id", $"duplicate provider id '{id}' (also {other}); give each provider its own id");
                }
                else
                {
                    ids[id] = path;
                }
            }

            if (provider is not null)
            {
                providers.Add(provider);
            }
        }

        return diagnostics.Count > before ? null : new ProvidersFile(providers, policy!);
    }

    private static BrokerPolicy? ReadPolicy(YamlMap root)
    {
        if (root.ValueNode("policy") is null)
        {
            return BrokerPolicy.Default;
        }

        if (root.Map("policy", string.Join(", ", PolicyKeys)) is not { } map)
        {
            return null;
        }

        map.AllowOnly(PolicyKeys, "policy");
        var defaults = BrokerPolicy.Default;
        return new BrokerPolicy(
            map.Duration("exclusive-response-window") ?? defaults.ExclusiveResponseWindow,
            map.Duration("quote-window") ?? defaults.QuoteWindow,
            map.Duration("reservation-window") ?? defaults.ReservationWindow,
            map.Duration("quote-validity") ?? defaults.QuoteValidity);
    }

    private static ProviderDefinition? ReadProvider(YamlMap map)
    {
        var diagnostics = map.Diagnostics;
        var before = diagnostics.Count;
        map.AllowOnly(ProviderKeys, "a provider");
        var id = map.Text("id", "the provider's id, e.g. azure");
        var name = map.Text("name") ?? id;
        var connector = map.Choice("connector", ["simulated", "webhook"], "connector") ?? "simulated";
        Uri? url = null;
        WebhookSigning? signing = null;
        if (connector == "webhook")
        {
            var text = map.Text("url", "the https:// URL the broker sends signed webhooks to");
            if (text is not null)
            {
                // Plain http only on the loopback interface: a provider simulator or a test on the same machine.
                if (Uri.TryCreate(text, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttps || (parsed.Scheme == Uri.UriSchemeHttp && parsed.IsLoopback)))
                {
                    url = parsed;
                }
                else
                {
                    map.Error("url", $"'{text}' is not an https:// URL; webhooks carry offers and quotes, so give an https:// address (http:// is allowed on loopback only)");
                }
            }

            var secret = map.Text("secret", "the signing secret: whsec_ followed by base64 (e.g. from 'openssl rand -base64 32'), or env:NAME to read it from an environment variable");
            var previous = map.Text("previous-secret");
            foreach (var (key, value) in new[] { ("secret", secret), ("previous-secret", previous) })
            {
                if (value is not null && WebhookSigning.Check(value) is { } problem)
                {
                    // The message never repeats the value: it may be a real secret.
                    map.Error(key, problem);
                }
            }

            if (secret is not null && WebhookSigning.Check(secret) is null && (previous is null || WebhookSigning.Check(previous) is null))
            {
                signing = new WebhookSigning(secret, previous);
            }
        }
        else
        {
            foreach (var key in new[] { "url", "secret", "previous-secret" })
            {
                if (map.Has(key))
                {
                    map.Error(key, "applies only to webhook connectors; remove it or set connector: webhook");
                }
            }
        }

        var regions = map.Names("regions") ?? [];
        var prices = new List<ProviderPrice>();
        var priced = new Dictionary<(string, string?), string>();
        foreach (var (node, path) in map.Items("prices") ?? [])
        {
            if (YamlMap.Of(diagnostics, node, path, "accelerator, price and optionally region") is not { } entry)
            {
                continue;
            }

            var itemBefore = diagnostics.Count;
            entry.AllowOnly(PriceKeys, "a price");
            var accelerator = entry.Text("accelerator", "the accelerator priced, e.g. H100");
            var region = entry.Text("region");
            var price = entry.Money("price", "the list price per GPU-hour, e.g. '12.29 USD'");
            CheckRegion(entry, region, regions);
            if (accelerator is not null && !priced.TryAdd((accelerator, region), path))
            {
                entry.Error("accelerator", $"{accelerator}{(region is null ? string.Empty : $" in {region}")} is already priced at {priced[(accelerator, region)]}; give one price per accelerator and region");
            }

            if (diagnostics.Count == itemBefore)
            {
                prices.Add(new ProviderPrice(accelerator!, region, new PricePerGpuHour(price!.Value)));
            }
        }

        var capacity = new List<CapacityChange>();
        foreach (var (node, path) in map.Items("capacity") ?? [])
        {
            if (YamlMap.Of(diagnostics, node, path, "accelerator, region, gpus, from and optionally ramp-until") is not { } entry)
            {
                continue;
            }

            var itemBefore = diagnostics.Count;
            entry.AllowOnly(CapacityKeys, "a capacity change");
            var accelerator = entry.Text("accelerator", "the accelerator, e.g. H100");
            var region = entry.Text("region", "the region the capacity is in, e.g. eastus");
            var gpus = entry.Integer("gpus", "the GPUs (dies) added from 'from', e.g. 20000 (negative to remove)", int.MinValue + 1, "a number of GPUs");
            var from = entry.Instant("from", $"the instant the capacity arrives ({IsoInstant.Example})");
            var rampUntil = entry.Instant("ramp-until");
            CheckRegion(entry, region, regions);
            if (gpus == 0)
            {
                entry.Error("gpus", "is zero; a capacity change adds (or, negative, removes) at least one GPU");
            }

            if (from is { } f && rampUntil is { } r && r <= f)
            {
                entry.Error("ramp-until", $"{IsoInstant.Format(r)} is not after from {IsoInstant.Format(f)}; the capacity grows from 'from' until 'ramp-until'");
            }

            if (diagnostics.Count == itemBefore)
            {
                capacity.Add(new CapacityChange(accelerator!, region!, from!.Value, gpus!.Value, rampUntil));
            }
        }

        var answers = ReadAnswers(map);
        return diagnostics.Count > before
            ? null
            : new ProviderDefinition(new ProviderId(id!), name!, connector == "webhook" ? ConnectorKind.Webhook : ConnectorKind.Simulated, regions, prices, capacity, answers!, url, signing);
    }

    /// <summary>A region named by a price or capacity entry must be one of the provider's regions, when it lists any.</summary>
    private static void CheckRegion(YamlMap entry, string? region, IReadOnlyList<string> regions)
    {
        if (region is null || regions.Count == 0 || regions.Contains(region, StringComparer.Ordinal))
        {
            return;
        }

        var close = Spelling.Closest(region, regions);
        entry.Error("region", $"'{region}' is not one of the provider's regions [{string.Join(", ", regions)}]; " +
            (close is null ? "add it to the provider's regions or fix the name" : $"did you mean '{close}'?"));
    }

    private static AnswerPolicy? ReadAnswers(YamlMap provider)
    {
        if (provider.ValueNode("answers") is null)
        {
            return AnswerPolicy.Prompt;
        }

        if (provider.Map("answers", string.Join(", ", AnswerKeys)) is not { } map)
        {
            return null;
        }

        var before = map.Diagnostics.Count;
        var defaults = AnswerPolicy.Prompt;
        map.AllowOnly(AnswerKeys, "answers");
        var (min, max) = (defaults.MinLatency, defaults.MaxLatency);
        if (map.ValueNode("latency") is YamlMappingNode)
        {
            var latency = map.Map("latency", "min and max, ISO 8601 durations")!;
            latency.AllowOnly(LatencyKeys, "latency");
            var low = latency.Duration("min", "the shortest time to answer, e.g. PT5M", positive: false);
            var high = latency.Duration("max", "the longest time to answer, e.g. PT2H", positive: false);
            if (low is { } l && high is { } h)
            {
                if (h < l)
                {
                    latency.Error("max", $"{IsoDuration.Format(h)} is shorter than min {IsoDuration.Format(l)}; max must be at least min");
                }

                (min, max) = (l, h);
            }
        }
        else if (map.Duration("latency", positive: false) is { } fixedLatency)
        {
            (min, max) = (fixedLatency, fixedLatency);
        }

        var reliability = map.Rate("reliability") ?? (decimal)defaults.Reliability;
        var declines = map.Names("decline-classes") ?? defaults.DeclineClasses;
        var acceptPartial = map.Flag("accept-partial") ?? defaults.AcceptPartial;
        var failures = map.Rate("reservation-failure-rate") ?? (decimal)defaults.ReservationFailureRate;
        return map.Diagnostics.Count > before
            ? null
            : new AnswerPolicy(min, max, (double)reliability, declines, acceptPartial, (double)failures);
    }
}
