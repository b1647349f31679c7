namespace ComputeBroker.Server.Tests.Infrastructure;

/// <summary>Capacity request bodies as a client sends them to <c>POST /v1/requests</c>.</summary>
public static class RequestBodies
{
    /// <summary>
    /// A request relative to the broker's clock <paramref name="now"/>: starts in 30 days for a week, answer needed
    /// within <paramref name="neededWithin"/> (default 20 days). Inference H100 requests of openai are in azure's
    /// first-refusal scope and outside the oracle waiver (training only).
    /// </summary>
    public static Dictionary<string, object?> Capacity(
        DateTimeOffset now,
        string? id = null,
        string? customer = null,
        string workloadClass = "inference",
        int gpus = 1024,
        string maxPrice = "12.50 USD",
        TimeSpan? neededWithin = null,
        bool allOrNothing = false,
        string[]? regions = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["workloadClass"] = workloadClass,
            ["accelerator"] = "H100",
            ["gpus"] = gpus,
            ["earliestStart"] = now.AddDays(30).ToString("O"),
            ["durationHours"] = 168,
            ["maxPrice"] = maxPrice,
            ["neededBy"] = (now + (neededWithin ?? TimeSpan.FromDays(20))).ToString("O"),
            ["allOrNothing"] = allOrNothing,
        };
        if (id is not null)
        {
            body["id"] = id;
        }

        if (customer is not null)
        {
            body["customer"] = customer;
        }

        if (regions is not null)
        {
            body["regions"] = regions;
        }

        return body;
    }

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}
