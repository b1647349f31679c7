namespace ComputeBroker.Cli.Tests;

/// <summary>The verbs that need no server, and how the client verbs fail before or without one.</summary>
public sealed class OfflineVerbTests : IDisposable
{
    private readonly string _directory = BrokerServer.NewDirectory();

    public void Dispose() => BrokerServer.DeleteDirectory(_directory);

    private static readonly Dictionary<string, string?> NoEnvironment = [];

    private Task<CliResult> RunAsync(params string[] args) => BrokerProcess.RunAsync(NoEnvironment, _directory, args);

    [Fact]
    public async Task Demo_WithJson_PrintsParseableJsonWithTheSummaryAndEveryRequest()
    {
        var result = await RunAsync("demo", "--json");

        Assert.Equal(0, result.ExitCode);
        var json = result.Json();
        Assert.True(json.GetProperty("summary").GetProperty("gpusRequested").GetInt64() > 0);
        Assert.NotEmpty(json.GetProperty("requests").EnumerateArray());
    }

    [Fact]
    public async Task Validate_BrokenFile_ExitsOneNamingTheFileAndThePath()
    {
        var file = Path.Combine(_directory, "broken.yaml");
        await File.WriteAllTextAsync(file, "kind: requests\nrequests:\n  - id: r-1\n    gpus: lots\n");

        var result = await RunAsync("validate", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("broken.yaml", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("gpus", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_ExampleFiles_ExitZero()
    {
        var result = await RunAsync("validate", Repo.Path("examples/agreements/microsoft-openai-2025-01.yaml"), Repo.Path("examples/providers.yaml"), Repo.Path("examples/requests.yaml"));

        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task ClientVerb_UnreachableServer_ExitsOneSayingHowToStartOne()
    {
        var result = await RunAsync("requests", "list", "--server", "http://127.0.0.1:9");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not reachable", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("broker serve", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Theory]
    [InlineData("--server", new[] { "providers", "--server", "ftp://broker" })]
    [InlineData("--gpus", new[] { "quotes", "submit", "r-1", "--gpus", "abc", "--price", "3.10 USD" })]
    [InlineData("--gpus", new[] { "quotes", "submit", "r-1", "--price", "3.10 USD" })]
    [InlineData("--price", new[] { "quotes", "submit", "r-1", "--gpus", "8", "--price", "3.10" })]
    [InlineData("--valid-until", new[] { "quotes", "submit", "r-1", "--gpus", "8", "--price", "3.10 USD", "--valid-until", "tomorrow" })]
    [InlineData("--gpus", new[] { "offers", "accept", "o-1", "--gpus", "0" })]
    [InlineData("--limit", new[] { "requests", "list", "--limit", "1000" })]
    [InlineData("--state", new[] { "requests", "list", "--state", "done" })]
    [InlineData("--as-of", new[] { "clauses", "status", "--as-of", "next tuesday" })]
    [InlineData("--revenue", new[] { "ledger", "report", "--customer", "openai", "--from", "2025-01-01", "--to", "2025-02-01", "--revenue", "lots", "--profit", "1 USD" })]
    [InlineData("--to", new[] { "ledger", "report", "--customer", "openai", "--from", "2025-02-01", "--to", "2025-01-01", "--revenue", "1 USD", "--profit", "1 USD" })]
    [InlineData("--reason", new[] { "ledger", "adjust", "--customer", "openai", "--period-start", "2025-01-01", "--revenue-delta", "1 USD", "--profit-delta", "0 USD" })]
    [InlineData("--payee", new[] { "ledger", "statement" })]
    [InlineData("--role", new[] { "keys", "create", "--role", "superuser" })]
    [InlineData("--role", new[] { "keys", "create" })]
    [InlineData("--db", new[] { "keys", "create", "--role", "admin", "--db", "mysql://broker" })]
    [InlineData("--db and --server", new[] { "audit", "verify", "--db", "broker.db", "--server", "http://127.0.0.1:5080" })]
    [InlineData("--digest", new[] { "audit", "verify", "--digest", "no-such-digest.json" })]
    [InlineData("AWARD", new[] { "reservations", "confirm", "r-1", "first" })]
    [InlineData("V2", new[] { "agreements", "diff", "microsoft-openai", "1" })]
    [InlineData("FILE", new[] { "requests", "submit", "no-such-requests.yaml" })]
    [InlineData("--bogus", new[] { "requests", "list", "--bogus" })]
    [InlineData("--runs: 'abc' is not a whole number", new[] { "simulate", "--runs", "abc" })]
    [InlineData("--urls: 'garbage' is not an address", new[] { "serve", "--urls", "garbage" })]
    [InlineData("--urls: 'http://127.0.0.1:99999': port 99999", new[] { "serve", "--urls", "http://127.0.0.1:99999" })]
    [InlineData("--urls: 'ftp://127.0.0.1:5000': the scheme", new[] { "serve", "--urls", "ftp://127.0.0.1:5000" })]
    [InlineData("--db: cannot open postgres:", new[] { "serve", "--db", "postgres://broker@127.0.0.1:1/broker" })]
    [InlineData("--runs needs a value", new[] { "simulate", "--runs" })]
    [InlineData("-n needs a value", new[] { "simulate", "-n", "--seed", "3" })]
    [InlineData("--role needs a value", new[] { "keys", "create", "--role" })]
    [InlineData("-n: 'many' is not a whole number", new[] { "simulate", "-n", "many" })]
    [InlineData("--seed: '1.5' is not a value it takes", new[] { "simulate", "--seed=1.5" })]
    [InlineData("--speed: 'fast' is not a value it takes", new[] { "serve", "--speed", "fast" })]
    public Task BadArgument_ExitsOneWithOneLineNamingTheOption(string option, string[] args) =>
        BrokerProcess.AssertRefusedAsync(BrokerProcess.Dll, _directory, option.TrimStart('-'), args);

    [Theory]
    [InlineData("validate")]
    [InlineData("simulate")]
    [InlineData("demo", "--agreement")]
    public async Task AFileArgument_ThatIsADirectory_ExitsOneSayingSo(params string[] verb)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_directory, "agreements")).FullName;

        var result = await RunAsync([.. verb, folder]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is a directory; give the path of a file", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_OnAnAddressInUse_ExitsOneNamingUrls_AndSaysNothingOfServing()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)taken.LocalEndpoint).Port}";

        var result = await RunAsync("serve", "--urls", url, "--db", Path.Combine(_directory, "broker.db"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"error: --urls: Failed to bind to address {url}", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("address already in use", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("serving on", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_DbWithoutAValue_ExitsOneAndCreatesNoDatabase()
    {
        // The parser would read its own name for the default command as the value, and serve would create that file.
        var result = await RunAsync("serve", "--db");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --db needs a value: give it as --db <DB> (--help lists what it takes)", result.Stderr.Trim());
        Assert.Empty(Directory.EnumerateFileSystemEntries(_directory));
    }

    [Fact]
    public async Task AuditVerify_DbThatDoesNotExist_ExitsOneInsteadOfCreatingAnEmptyLog()
    {
        var db = Path.Combine(_directory, "missing.db");

        var result = await RunAsync("audit", "verify", "--db", db);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no such database file", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(db));
    }
}
