namespace ComputeBroker.Cli.Tests;

[Collection(SharedServerCollection.Name)]
public sealed class RequestVerbTests(SharedServer shared)
{
    private BrokerServer Server => shared.Server;

    [Fact]
    public async Task Submit_PrintsEachRequestWithItsState_AndRerunningTheFileIsSafe()
    {
        var file = Server.WriteFile("submit.yaml", RequestFiles.Of(
            RequestFiles.Request("r-sub-1"),
            RequestFiles.Request("r-sub-2", gpus: 512, workloadClass: "api", idempotencyKey: "api-serving-2025-02")));

        var first = await Server.RunAsync("requests", "submit", file);
        var again = await Server.RunAsync("requests", "submit", file);

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("r-sub-1", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("awaiting-offer", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("first-refusal", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("exclusive", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 of 2 request(s) accepted", first.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(2, again.Stdout.Split('\n').Count(l => l.Contains("already submitted (replayed)", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Submit_WithJson_PrintsTheServersRequestViews()
    {
        var file = Server.WriteFile("submit-json.yaml", RequestFiles.Of(RequestFiles.Request("r-json-1", gpus: 1024)));

        var json = (await Server.RunAsync("requests", "submit", file, "--json")).Json();

        var request = Assert.Single(json.EnumerateArray());
        Assert.Equal("r-json-1", request.GetProperty("id").GetString());
        Assert.Equal(1024, request.GetProperty("gpus").GetInt32());
        Assert.Equal("12.29 USD", request.GetProperty("maxPrice").GetString());
    }

    [Fact]
    public async Task Submit_RequestTheBrokerRefuses_ExitsOneAfterSubmittingTheOthers()
    {
        // Valid as a file (needed-by after submit-at), refused by the broker: needed-by is before its clock.
        var late = RequestFiles.Request("r-late-1").Replace("needed-by: 2025-02-20", "needed-by: 2025-01-20", StringComparison.Ordinal)
            .Replace("submit-at: 2025-02-01T00:00:00Z", "submit-at: 2025-01-10T00:00:00Z", StringComparison.Ordinal);
        var file = Server.WriteFile("submit-refused.yaml", RequestFiles.Of(late, RequestFiles.Request("r-ok-1")));

        var result = await Server.RunAsync("requests", "submit", file);

        Assert.Equal(1, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("r-late-1", StringComparison.Ordinal) && l.Contains("refused", StringComparison.Ordinal) && l.Contains("400", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("r-ok-1", StringComparison.Ordinal) && l.Contains("submitted", StringComparison.Ordinal));
        Assert.Contains("1 of 2 request(s) accepted by the broker, 1 refused", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_WithAll_FollowsTheCursorToTheLastPage()
    {
        var file = Server.WriteFile("list.yaml", RequestFiles.Of(RequestFiles.Request("r-list-1"), RequestFiles.Request("r-list-2"), RequestFiles.Request("r-list-3")));
        Assert.Equal(0, (await Server.RunAsync("requests", "submit", file)).ExitCode);

        var everything = (await Server.RunAsync("requests", "list", "--limit", "500", "--json")).Json();
        var paged = (await Server.RunAsync("requests", "list", "--limit", "1", "--all", "--json")).Json();
        var firstPage = await Server.RunAsync("requests", "list", "--limit", "1");

        var all = everything.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToArray();
        Assert.True(all.Length >= 3);
        Assert.Equal(all, paged.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToArray());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, paged.GetProperty("nextCursor").ValueKind);
        Assert.Equal(0, firstPage.ExitCode);
        Assert.Contains("add --all", firstPage.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_WithStateAndCustomer_PrintsOnlyMatchingRequests()
    {
        var file = Server.WriteFile("list-state.yaml", RequestFiles.Of(RequestFiles.Request("r-state-1")));
        Assert.Equal(0, (await Server.RunAsync("requests", "submit", file)).ExitCode);

        var table = await Server.RunAsync("requests", "list", "--state", "awaiting-offer", "--customer", "openai", "--limit", "500");
        var none = await Server.RunAsync("requests", "list", "--customer", "nobody");

        Assert.Equal(0, table.ExitCode);
        Assert.Contains("r-state-1", table.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("placed", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("no requests match", none.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_PrintsTheRequestAndItsTimeline()
    {
        var file = Server.WriteFile("show.yaml", RequestFiles.Of(RequestFiles.Request("r-show-1", regions: "eastus")));
        Assert.Equal(0, (await Server.RunAsync("requests", "submit", file)).ExitCode);

        var result = await Server.RunAsync("requests", "show", "r-show-1");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("4096 x H100 (training)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("regions        eastus", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("at (UTC)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("2025-02-01 00:00", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("submitted", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("clauses resolved", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_WithJson_PrintsTheRequestWithItsEvents()
    {
        var file = Server.WriteFile("show-json.yaml", RequestFiles.Of(RequestFiles.Request("r-show-2")));
        Assert.Equal(0, (await Server.RunAsync("requests", "submit", file)).ExitCode);

        var json = (await Server.RunAsync("requests", "show", "r-show-2", "--json")).Json();

        Assert.Equal("r-show-2", json.GetProperty("request").GetProperty("id").GetString());
        var timeline = json.GetProperty("timeline").EnumerateArray().ToArray();
        Assert.Equal("request.submitted", timeline[0].GetProperty("type").GetString());
        Assert.Equal("request.submitted", timeline[0].GetProperty("event").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Show_UnknownRequest_ExitsOneWithTheServersDetail()
    {
        var result = await Server.RunAsync("requests", "show", "r-nowhere");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("404 NotFound: request r-nowhere not found", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_CancelsTheRequest_AndCancellingAgainExitsOne()
    {
        var file = Server.WriteFile("cancel.yaml", RequestFiles.Of(RequestFiles.Request("r-cancel-1")));
        Assert.Equal(0, (await Server.RunAsync("requests", "submit", file)).ExitCode);

        var cancelled = await Server.RunAsync("requests", "cancel", "r-cancel-1");
        var again = await Server.RunAsync("requests", "cancel", "r-cancel-1", "--json");

        Assert.Equal(0, cancelled.ExitCode);
        Assert.Contains("request r-cancel-1 is now cancelled", cancelled.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal(string.Empty, again.Stdout);
        Assert.Contains("409", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyVerb_WithoutAKey_ExitsOneSayingHowToGetOne()
    {
        var result = await Server.RunAsAsync(null, "requests", "list");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("401", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("BROKER_API_KEY", result.Stderr, StringComparison.Ordinal);
    }
}
