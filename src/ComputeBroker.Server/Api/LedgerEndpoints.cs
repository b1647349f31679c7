using System.Globalization;
using System.Text;
using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using ComputeBroker.Server.Security;
using ComputeBroker.Server.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComputeBroker.Server.Api;

/// <summary><c>/v1/ledger</c>: financial reports, adjustments, revenue share statements, commitments.</summary>
public static class LedgerEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapPost("/ledger/reports", Report).WithName("RecordReport").WithSummary("Record a period's revenue and profit (once per period)");
        v1.MapPost("/ledger/adjustments", Adjust).WithName("AdjustReport").WithSummary("Correct a recorded period with explicit deltas");
        v1.MapGet("/ledger/statement", Statement).WithName("Statement").WithSummary("Revenue share statement for a payee (format=csv for CSV)");
        v1.MapGet("/ledger/commitments", Commitments).WithName("Commitments").WithSummary("Spend commitments: progress and projected shortfall");
        v1.MapGet("/ledger/events", Events).WithName("LedgerEvents").WithSummary("Every ledger event: reports, accruals, trigger firings");
    }

    private static async Task<IResult> Report(HttpContext http, BrokerService broker, CancellationToken ct)
    {
        var (body, customer, problem) = await ReadAsync(http, ct, "customer", "periodStart", "periodEnd", "revenue", "profit");
        if (problem is not null)
        {
            return problem;
        }

        var start = body!.Instant("periodStart");
        var end = body.Instant("periodEnd");
        var revenue = Bounded(body, "revenue", body.Money("revenue"));
        var profit = Bounded(body, "profit", body.Money("profit"));
        if (!body.Ok)
        {
            return Problems.Invalid("the body has errors; fix the fields listed", body.Errors);
        }

        var result = await broker.RecordReportAsync(customer!, start!.Value, end!.Value, revenue!.Value, profit!.Value, ct);
        return result.Ok ? Results.Created($"/v1/ledger/events?customer={customer}", result.Value) : Problems.FromBody(result.Rejection!);
    }

    private static async Task<IResult> Adjust(HttpContext http, BrokerService broker, CancellationToken ct)
    {
        var (body, customer, problem) = await ReadAsync(http, ct, "customer", "periodStart", "revenueDelta", "profitDelta", "reason");
        if (problem is not null)
        {
            return problem;
        }

        var start = body!.Instant("periodStart");
        var revenue = Bounded(body, "revenueDelta", body.Money("revenueDelta"));
        var profit = Bounded(body, "profitDelta", body.Money("profitDelta"));
        var reason = body.String("reason");
        if (!body.Ok)
        {
            return Problems.Invalid("the body has errors; fix the fields listed", body.Errors);
        }

        var result = await broker.AdjustReportAsync(customer!, start!.Value, revenue!.Value, profit!.Value, reason!, ct);
        return result.Ok ? Results.Created($"/v1/ledger/events?customer={customer}", result.Value) : Problems.FromBody(result.Rejection!);
    }

    private static IResult Statement(HttpContext http, BrokerService broker, string? payee, string? from, string? to, string? format)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        if (string.IsNullOrWhiteSpace(payee))
        {
            return Problems.Invalid("payee: name the payee of the statement (e.g. payee=microsoft)", [new FieldError("payee", "is required")]);
        }

        var errors = new List<FieldError>();
        var fromAt = Instant(from, "from", errors);
        var toAt = Instant(to, "to", errors);
        if (format is not (null or "json" or "csv"))
        {
            errors.Add(new FieldError("format", $"'{format}' is not a format of the statement; use json (the default) or csv"));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid("the query has errors; fix the parameters listed", errors);
        }

        var caller = http.Caller();
        var accruals = broker.Projection.LedgerEvents().OfType<ShareAccrued>()
            .Where(a => caller.Role.Kind != RoleKind.Customer || a.Customer == caller.Role.Subject);
        var statement = Ledger.Statement.For(accruals, payee, fromAt, toAt);
        return format == "csv" ? Results.Text(statement.ToCsv(), "text/csv", Encoding.UTF8) : Results.Ok(statement);
    }

    private static IResult Commitments(HttpContext http, BrokerService broker, string? asOf)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        var errors = new List<FieldError>();
        var at = Instant(asOf, "asOf", errors) ?? broker.Clock.GetUtcNow();
        if (errors.Count > 0)
        {
            return Problems.Invalid("asOf: give an ISO 8601 instant", errors);
        }

        // A customer sees the commitments of its own agreements only, as it sees only its own agreements.
        var caller = http.Caller();
        var book = broker.Projection.Book;
        var visible = book.Agreements.Where(a => caller.Role.Kind != RoleKind.Customer || a.Customer == caller.Role.Subject).Select(a => a.Id).ToHashSet();
        return Results.Ok(broker.Projection.Commitments.Progress(book, at).Where(c => visible.Contains(c.Agreement)));
    }

    private static IResult Events(HttpContext http, BrokerService broker, string? customer)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        if (http.Caller().Role.Kind == RoleKind.Customer)
        {
            customer = http.Caller().Role.Subject;
        }

        return Results.Ok(broker.Projection.LedgerEvents().Where(e => customer is null || e.Customer == customer));
    }

    private static async Task<(JsonBody? Body, string? Customer, IResult? Problem)> ReadAsync(HttpContext http, CancellationToken ct, params string[] fields)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Customer) is { } forbidden)
        {
            return (null, null, forbidden);
        }

        var (body, error) = JsonBody.Parse(await RequestText.ReadAsync(http.Request, ct));
        if (body is null)
        {
            return (null, null, Problems.Invalid(error!));
        }

        body.RejectUnknown(fields);
        var caller = http.Caller();
        var customer = body.String("customer", required: caller.Role.Kind == RoleKind.Admin);
        if (caller.Role.Kind == RoleKind.Customer)
        {
            if (customer is not null && customer != caller.Role.Subject)
            {
                body.Error("customer", $"a key for customer {caller.Role.Subject} reports only its own figures");
            }

            customer = caller.Role.Subject;
        }

        return (body, customer, null);
    }

    /// <summary>
    /// Amounts are added up in the ledger (cumulative metrics, accruals); an amount near the decimal limit would overflow
    /// there, so amounts are limited to 10^18, far beyond any real figure.
    /// </summary>
    private static Money? Bounded(JsonBody body, string field, Money? amount)
    {
        if (amount is { } money && Math.Abs(money.Amount) > MaxAmount)
        {
            body.Error(field, $"must be at most {MaxAmount:0} {money.Currency} (in absolute value)");
            return null;
        }

        return amount;
    }

    private const decimal MaxAmount = 1_000_000_000_000_000_000m;

    private static DateTimeOffset? Instant(string? text, string field, List<FieldError> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }

        errors.Add(new FieldError(field, $"'{text}' is not an ISO 8601 instant or date"));
        return null;
    }
}
