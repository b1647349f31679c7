namespace ComputeBroker.Domain;

/// <summary>
/// What a customer asks for: GPUs of one accelerator for a duration, within a price, by an instant.
/// Immutable; validated by <see cref="CapacityRequestValidator"/> before the engine sees it.
/// </summary>
public sealed record CapacityRequest
{
    public required RequestId Id { get; init; }

    public required string Customer { get; init; }

    public required string WorkloadClass { get; init; }

    public required string Accelerator { get; init; }

    public required GpuCount Gpus { get; init; }

    public required DateTimeOffset EarliestStart { get; init; }

    public required int DurationHours { get; init; }

    /// <summary>Allowed regions; empty means any region.</summary>
    public IReadOnlyList<string> Regions { get; init; } = [];

    public required PricePerGpuHour MaxPrice { get; init; }

    /// <summary>The instant the customer needs an answer by; no wait runs past it.</summary>
    public required DateTimeOffset NeededBy { get; init; }

    /// <summary>When true the request is placed whole with one provider, or not at all.</summary>
    public bool AllOrNothing { get; init; }

    public string? IdempotencyKey { get; init; }

    public DateTimeOffset End => EarliestStart.AddHours(DurationHours);

    public bool AllowsRegion(string region) => Regions.Count == 0 || Regions.Contains(region, StringComparer.Ordinal);
}

/// <summary>Field-level validation of a capacity request; returns every problem, not the first.</summary>
public static class CapacityRequestValidator
{
    public static IReadOnlyList<FieldError> Validate(CapacityRequest request, DateTimeOffset submittedAt)
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(request.Id.Value))
        {
            errors.Add(new("id", "is empty; give the request an id"));
        }
        else if (Names.Problem(request.Id.Value) is { } badId)
        {
            errors.Add(new("id", badId));
        }

        if (string.IsNullOrWhiteSpace(request.Customer))
        {
            errors.Add(new("customer", "is empty; name the customer submitting the request"));
        }
        else if (Names.Problem(request.Customer) is { } badCustomer)
        {
            errors.Add(new("customer", $"{badCustomer}; name the customer as its agreement does"));
        }

        if (string.IsNullOrWhiteSpace(request.WorkloadClass))
        {
            errors.Add(new("workload-class", "is empty; use training, inference, api, research or a class the agreement names"));
        }

        if (string.IsNullOrWhiteSpace(request.Accelerator))
        {
            errors.Add(new("accelerator", "is empty; name the accelerator, e.g. H100"));
        }

        if (request.Gpus.IsZero)
        {
            errors.Add(new("gpus", "must be at least 1 (GPU dies)"));
        }

        if (request.DurationHours <= 0)
        {
            errors.Add(new("duration-hours", $"must be a positive number of hours, not {request.DurationHours}"));
        }

        if (request.MaxPrice.PerHour.Amount <= 0)
        {
            errors.Add(new("max-price", $"must be above zero, not {request.MaxPrice.PerHour}"));
        }

        if (request.NeededBy <= submittedAt)
        {
            errors.Add(new("needed-by", $"{request.NeededBy:O} is not after the submission instant {submittedAt:O}; give a later instant"));
        }

        return errors;
    }
}

/// <summary>A problem with one field of an input: the field's path and what to do about it.</summary>
public sealed record FieldError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}
