using ComputeBroker.Domain;

namespace ComputeBroker.Definitions;

/// <summary>
/// Reads <c>kind: requests</c> files: capacity requests with the instant each is submitted. Each
/// request is also checked by <see cref="CapacityRequestValidator"/> as of its submission instant,
/// so a file that reads cleanly is one the engine will accept.
/// </summary>
internal static class RequestsFormat
{
    private static readonly string[] RootKeys = ["kind", "requests"];

    private static readonly string[] RequestKeys =
    [
        "id", "submit-at", "customer", "workload-class", "accelerator", "gpus", "earliest-start", "duration-hours",
        "regions", "max-price", "needed-by", "all-or-nothing", "idempotency-key",
    ];

    public static IReadOnlyList<ScheduledRequest>? Read(YamlMap root)
    {
        var diagnostics = root.Diagnostics;
        var before = diagnostics.Count;
        root.AllowOnly(RootKeys, "a requests file");
        var requests = new List<ScheduledRequest>();
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (node, path) in root.Items("requests", "at least one request") ?? [])
        {
            if (YamlMap.Of(diagnostics, node, path, "id, submit-at, customer, workload-class, accelerator, gpus, ...") is not { } map)
            {
                continue;
            }

            var request = ReadRequest(map);
            Unique(map, "id", ids, "request id", "give each request its own id");
            Unique(map, "idempotency-key", keys, "idempotency key", "a key identifies one request; give each its own");
            if (request is not null)
            {
                requests.Add(request);
            }
        }

        return diagnostics.Count > before ? null : requests;
    }

    private static ScheduledRequest? ReadRequest(YamlMap map)
    {
        var diagnostics = map.Diagnostics;
        var before = diagnostics.Count;
        map.AllowOnly(RequestKeys, "a request");
        var id = map.Text("id", "the request's id, e.g. r-001");
        var submitAt = map.Instant("submit-at", $"the instant the request is submitted ({IsoInstant.Example})");
        var customer = map.Text("customer", "the customer submitting the request, e.g. openai");
        var workloadClass = map.Text("workload-class", "the workload class: training, inference, api, research or a class the agreement names");
        var accelerator = map.Text("accelerator", "the accelerator wanted, e.g. H100");
        var gpus = map.Integer("gpus", "the number of GPUs (dies) wanted, e.g. 1024", 1, "the number of GPUs (dies) wanted");
        var earliestStart = map.Instant("earliest-start", $"the earliest instant the capacity may start ({IsoInstant.Example})");
        var hours = map.Integer("duration-hours", "how many hours the capacity is needed for, e.g. 720", int.MinValue, "a number of hours");
        var regions = map.Names("regions") ?? [];
        var maxPrice = map.Money("max-price", "the highest acceptable price per GPU-hour, e.g. '12.29 USD'", positive: false);
        var neededBy = map.Instant("needed-by", $"the instant an answer is needed by ({IsoInstant.Example})");
        var allOrNothing = map.Flag("all-or-nothing") ?? false;
        var idempotencyKey = map.Text("idempotency-key");

        // Validate what did read, with placeholders for what did not, so that one run reports
        // both a malformed field and, say, a needed-by before submit-at. A placeholder's own
        // complaint is dropped: that field already has its error.
        var request = new CapacityRequest
        {
            Id = new RequestId(id ?? string.Empty),
            Customer = customer ?? string.Empty,
            WorkloadClass = workloadClass ?? string.Empty,
            Accelerator = accelerator ?? string.Empty,
            Gpus = new GpuCount(gpus ?? 0),
            EarliestStart = earliestStart ?? default,
            DurationHours = hours ?? 0,
            Regions = regions,
            MaxPrice = new PricePerGpuHour(maxPrice ?? Money.Usd(0)),
            NeededBy = neededBy ?? DateTimeOffset.MaxValue,
            AllOrNothing = allOrNothing,
            IdempotencyKey = idempotencyKey,
        };
        foreach (var error in CapacityRequestValidator.Validate(request, submitAt ?? DateTimeOffset.MinValue))
        {
            if (!diagnostics.HasErrorAt(map.At(error.Field)))
            {
                map.Error(error.Field, error.Message);
            }
        }

        return diagnostics.Count > before ? null : new ScheduledRequest(submitAt!.Value, request);
    }

    private static void Unique(YamlMap map, string key, Dictionary<string, string> seen, string what, string fix)
    {
        if (map.Peek(key) is not { } value)
        {
            return;
        }

        if (seen.TryGetValue(value, out var first))
        {
            map.Error(key, $"duplicate {what} '{value}' (also {first}); {fix}");
        }
        else
        {
            seen[value] = map.Path;
        }
    }
}
