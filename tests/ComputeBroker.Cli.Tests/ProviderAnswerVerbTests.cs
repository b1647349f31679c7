namespace ComputeBroker.Cli.Tests;

/// <summary>offers, quotes and reservations: the provider's side, answered with provider keys.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class ProviderAnswerVerbTests(SharedServer shared)
{
    private BrokerServer Server => shared.Server;

    [Fact]
    public async Task FirstRefusalTakenInPart_RestQuotedAndReserved_PlacesTheRequest()
    {
        var azure = await Server.CreateKeyAsync("provider:azure");
        var coreweave = await Server.CreateKeyAsync("provider:coreweave");
        var file = Server.WriteFile("flow-1.yaml", RequestFiles.Of(RequestFiles.Request("r-flow-1")));
        Assert.Equal(0, (await Server.RunAsync("requests", "submit", file)).ExitCode);

        var offers = await Server.RunAsAsync(azure, "offers", "list");
        var accepted = await Server.RunAsAsync(azure, "offers", "accept", "r-flow-1-o1", "--gpus", "1024");
        var quoteRequests = await Server.RunAsAsync(coreweave, "quotes", "list");
        var quoted = await Server.RunAsAsync(coreweave, "quotes", "submit", "r-flow-1", "--gpus", "3072", "--price", "3.10 USD");
        var reservations = await Server.RunAsAsync(coreweave, "reservations", "list");
        var confirmed = await Server.RunAsAsync(coreweave, "reservations", "confirm", "r-flow-1", "1");
        var request = (await Server.RunAsync("requests", "show", "r-flow-1", "--json")).Json().GetProperty("request");

        Assert.Contains(offers.Stdout.Split('\n'), l => l.Contains("r-flow-1-o1", StringComparison.Ordinal) && l.Contains("first-refusal", StringComparison.Ordinal) && l.Contains("open", StringComparison.Ordinal));
        Assert.Contains("offer r-flow-1-o1 accepted: 1024 of 4096 GPUs", accepted.Stdout, StringComparison.Ordinal);
        Assert.Contains(quoteRequests.Stdout.Split('\n'), l => l.Contains("r-flow-1", StringComparison.Ordinal) && l.Contains("3072", StringComparison.Ordinal));
        Assert.Contains("quoted 3072 GPUs at 3.10 USD/GPU-h for request r-flow-1", quoted.Stdout, StringComparison.Ordinal);
        Assert.Contains(reservations.Stdout.Split('\n'), l => l.Contains("r-flow-1", StringComparison.Ordinal) && l.Contains("3.10 USD", StringComparison.Ordinal));
        Assert.Contains("reservation of request r-flow-1 award 1: confirmed", confirmed.Stdout, StringComparison.Ordinal);
        Assert.Equal("placed", request.GetProperty("state").GetString());
        Assert.Equal(4096, request.GetProperty("allocated").GetInt32());
    }

    [Fact]
    public async Task OfferDeclined_QuoteDeclined_LeavesTheRequestUnfulfilled()
    {
        var azure = await Server.CreateKeyAsync("provider:azure");
        var coreweave = await Server.CreateKeyAsync("provider:coreweave");
        var file = Server.WriteFile("flow-2.yaml", RequestFiles.Of(RequestFiles.Request("r-flow-2")));
        Assert.Equal(0, (await Server.RunAsync("requests", "submit", file)).ExitCode);

        var declined = await Server.RunAsAsync(azure, "offers", "decline", "r-flow-2-o1", "--reason", "no free H100 in eastus");
        var quoteDeclined = await Server.RunAsAsync(coreweave, "quotes", "decline", "r-flow-2", "--reason", "sold out");
        var request = (await Server.RunAsync("requests", "show", "r-flow-2", "--json")).Json().GetProperty("request");
        var answered = await Server.RunAsAsync(azure, "offers", "list", "--all");

        Assert.Equal(0, declined.ExitCode);
        Assert.Contains("offer r-flow-2-o1 declined (no free H100 in eastus)", declined.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, quoteDeclined.ExitCode);
        Assert.Contains("declined to quote for request r-flow-2", quoteDeclined.Stdout, StringComparison.Ordinal);
        Assert.Equal("unfulfilled", request.GetProperty("state").GetString());
        Assert.Contains(answered.Stdout.Split('\n'), l => l.Contains("r-flow-2-o1", StringComparison.Ordinal) && l.Contains("declined", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReservationFailed_IsReportedAndListedAsFailed()
    {
        var azure = await Server.CreateKeyAsync("provider:azure");
        var coreweave = await Server.CreateKeyAsync("provider:coreweave");
        var file = Server.WriteFile("flow-3.yaml", RequestFiles.Of(RequestFiles.Request("r-flow-3", gpus: 2048)));
        Assert.Equal(0, (await Server.RunAsync("requests", "submit", file)).ExitCode);
        Assert.Equal(0, (await Server.RunAsAsync(azure, "offers", "decline", "r-flow-3-o1")).ExitCode);
        Assert.Equal(0, (await Server.RunAsAsync(coreweave, "quotes", "submit", "r-flow-3", "--gpus", "2048", "--price", "3.00 USD", "--valid-until", "2025-02-02")).ExitCode);

        var failed = await Server.RunAsAsync(coreweave, "reservations", "fail", "r-flow-3", "1", "--reason", "rack failed acceptance", "--json");
        var all = await Server.RunAsAsync(coreweave, "reservations", "list", "--all", "--json");

        Assert.Equal(0, failed.ExitCode);
        Assert.Equal("r-flow-3", failed.Json().GetProperty("requestId").GetString());
        var reservation = all.Json().EnumerateArray().Single(r => r.GetProperty("requestId").GetString() == "r-flow-3");
        Assert.Equal("failed", reservation.GetProperty("state").GetString());
    }

    [Fact]
    public async Task OffersQuotesReservations_WithJson_PrintTheServersArrays()
    {
        var offers = await Server.RunAsync("offers", "list", "--all", "--json");
        var quotes = await Server.RunAsync("quotes", "list", "--all", "--json");
        var reservations = await Server.RunAsync("reservations", "list", "--all", "--json");

        Assert.Equal(System.Text.Json.JsonValueKind.Array, offers.Json().ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Array, quotes.Json().ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Array, reservations.Json().ValueKind);
    }

    [Fact]
    public async Task AnswerForAnotherProvidersOffer_ExitsOneWithTheServersProblem()
    {
        var azure = await Server.CreateKeyAsync("provider:azure");
        var coreweave = await Server.CreateKeyAsync("provider:coreweave");
        var file = Server.WriteFile("flow-4.yaml", RequestFiles.Of(RequestFiles.Request("r-flow-4")));
        Assert.Equal(0, (await Server.RunAsync("requests", "submit", file)).ExitCode);

        var foreign = await Server.RunAsAsync(coreweave, "offers", "accept", "r-flow-4-o1");
        var tooMany = await Server.RunAsAsync(azure, "offers", "accept", "r-flow-4-o1", "--gpus", "999999");
        var asAdmin = await Server.RunAsync("offers", "accept", "r-flow-4-o1");

        Assert.Equal(1, foreign.ExitCode);
        Assert.Matches("40[49]", foreign.Stderr);
        Assert.Equal(1, tooMany.ExitCode);
        Assert.StartsWith("error: ", tooMany.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, asAdmin.ExitCode);
        Assert.Contains("403", asAdmin.Stderr, StringComparison.Ordinal);
        Assert.Contains("needs provider", asAdmin.Stderr, StringComparison.Ordinal);
    }
}
