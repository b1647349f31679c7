using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ComputeBroker.Dashboard.Tests;

/// <summary>
/// One broker and one headless Chromium for every dashboard test. The browser is Debian's chromium
/// (<c>/usr/bin/chromium</c>, or <c>BROKER_CHROMIUM</c>); Playwright never downloads one. When it is
/// missing, browser tests fail, except locally with <c>BROKER_SKIP_BROWSER=1</c>; under <c>CI=true</c>
/// they always run. Screenshots go to <c>TestResults/screenshots</c> at the repository root (or
/// <c>BROKER_SCREENSHOTS</c>).
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private readonly IMessageSink _sink;
    private IPlaywright? _playwright;

    public DashboardFixture(IMessageSink sink)
    {
        _sink = sink;
    }

    public BrokerUnderTest Broker { get; private set; } = null!;

    public IBrowser? Browser { get; private set; }

    /// <summary>Set when the browser tests are allowed to skip (locally, BROKER_SKIP_BROWSER=1, no chromium).</summary>
    public string? BrowserSkipReason { get; private set; }

    public string ScreenshotDirectory { get; } = FindScreenshotDirectory();

    public string AzureKey { get; private set; } = null!;

    public string CoreweaveKey { get; private set; } = null!;

    public string AuditorKey { get; private set; } = null!;

    public string CustomerKey { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Broker = await BrokerUnderTest.StartAsync();
        AzureKey = await Broker.CreateKeyAsync("provider:azure");
        CoreweaveKey = await Broker.CreateKeyAsync("provider:coreweave");
        AuditorKey = await Broker.CreateKeyAsync("auditor");
        CustomerKey = await Broker.CreateKeyAsync("customer:openai");
        await SeedAsync();
        await LaunchBrowserAsync();
        Directory.CreateDirectory(ScreenshotDirectory);
        _sink.OnMessage(new DiagnosticMessage($"Dashboard screenshots: {ScreenshotDirectory}"));
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await Broker.DisposeAsync();
    }

    /// <summary>Skips the calling test when the browser may be skipped; fails it when the browser is missing otherwise.</summary>
    public IBrowser RequireBrowser()
    {
        Skip.If(BrowserSkipReason is not null, BrowserSkipReason);
        return Browser ?? throw new InvalidOperationException("the browser did not start");
    }

    /// <summary>
    /// Gives the charts, ledger and timelines something to show: a recorded quarter (revenue share accrues),
    /// and azure's answers to a few offers through the API (accepted, accepted in part, declined).
    /// </summary>
    private async Task SeedAsync()
    {
        await Broker.SendAsync(Broker.AdminKey, HttpMethod.Post, "/v1/ledger/reports", new
        {
            customer = "openai",
            periodStart = "2025-04-01T00:00:00Z",
            periodEnd = "2025-07-01T00:00:00Z",
            revenue = "2700000000.00 USD",
            profit = "-1100000000.00 USD",
        });

        var offers = await BrokerUnderTest.WaitForAsync("six open azure offers", TimeSpan.FromSeconds(60), async () =>
        {
            var open = await Broker.GetAsync(AzureKey, "/v1/offers");
            return open.GetArrayLength() >= 6 ? open.EnumerateArray().ToArray() : null;
        });

        for (var i = 0; i < 4; i++)
        {
            var offer = offers[i];
            var id = offer.GetProperty("id").GetString()!;
            var gpus = offer.GetProperty("gpus").GetInt32();
            object body = i switch
            {
                0 => new { gpus },
                1 => new { gpus = Math.Max(1, gpus / 4) },
                _ => new { reason = "no capacity in that region" },
            };
            await Broker.SendAsync(AzureKey, HttpMethod.Post, $"/v1/offers/{id}/{(i < 2 ? "accept" : "decline")}", body);
        }

        await BrokerUnderTest.WaitForAsync("a closed request", TimeSpan.FromSeconds(60), async () =>
        {
            var overview = await Broker.GetAsync(Broker.AdminKey, "/v1/overview");
            return overview.GetProperty("summary").GetProperty("requests").GetInt32() >= 1 ? "closed" : null;
        });
    }

    private async Task LaunchBrowserAsync()
    {
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        var skipAllowed = !ci && Environment.GetEnvironmentVariable("BROKER_SKIP_BROWSER") == "1";
        var chromium = Environment.GetEnvironmentVariable("BROKER_CHROMIUM") is { Length: > 0 } custom ? custom : "/usr/bin/chromium";
        if (skipAllowed)
        {
            BrowserSkipReason = "BROKER_SKIP_BROWSER=1: browser tests skipped (never under CI=true)";
            return;
        }

        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException($"{chromium} is missing: install Debian's chromium ('apt-get install -y chromium'), or locally set BROKER_SKIP_BROWSER=1 to skip the browser tests");
        }

        // Never let Playwright fetch a browser of its own: the tests drive the machine's chromium.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        _playwright = await Playwright.CreateAsync();
        Assertions.SetDefaultExpectTimeout(15_000);
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    private static string FindScreenshotDirectory()
    {
        if (Environment.GetEnvironmentVariable("BROKER_SCREENSHOTS") is { Length: > 0 } configured)
        {
            return Path.GetFullPath(configured);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ComputeBroker.slnx")))
            {
                return Path.Combine(dir.FullName, "TestResults", "screenshots");
            }
        }

        return Path.Combine(AppContext.BaseDirectory, "screenshots");
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardFixture>
{
    public const string Name = "dashboard";
}

/// <summary>A page at 1366x768 that records console errors and uncaught exceptions.</summary>
public sealed class DashboardPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;

    private DashboardPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                ConsoleErrors.Add($"console: {message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => ConsoleErrors.Add($"page error: {error}");
    }

    public IPage Page { get; }

    public List<string> ConsoleErrors { get; } = [];

    public static async Task<DashboardPage> OpenAsync(IBrowser browser)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 768 } });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        return new DashboardPage(context, page);
    }

    /// <summary>Opens the dashboard and signs in with <paramref name="key"/> the way a person does: paste, Sign in.</summary>
    public async Task SignInAsync(string baseUrl, string key)
    {
        await Page.GotoAsync(baseUrl + "/");
        await Page.GetByLabel("API key").FillAsync(key);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(Page.Locator("#nav")).ToBeVisibleAsync();
    }

    /// <summary>Goes to a hash route and waits for its heading.</summary>
    public async Task GoAsync(string baseUrl, string route, string heading)
    {
        await Page.GotoAsync($"{baseUrl}/#/{route}");
        await Assertions.Expect(Page.Locator("main h1")).ToHaveTextAsync(heading);
    }

    public async Task<string> ScreenshotAsync(DashboardFixture fixture, string name, ITestOutputHelper output)
    {
        var path = Path.Combine(fixture.ScreenshotDirectory, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
        return path;
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}

internal static class Json
{
    public static string Str(this JsonElement e, string name) => e.GetProperty(name).GetString()!;

    public static int Int(this JsonElement e, string name) => e.GetProperty(name).GetInt32();
}
