using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ComputeBroker.Dashboard.Tests;

/// <summary>Issue 7: the web dashboard, driven in Debian's Chromium against a running broker.</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBrowserTests(DashboardFixture fixture, ITestOutputHelper output)
{
    private string BaseUrl => fixture.Broker.BaseUrl;

    [SkippableFact]
    public async Task EveryPage_LoadsWithoutConsoleErrors_AndIsScreenshotted()
    {
        var browser = fixture.RequireBrowser();
        await using var admin = await DashboardPage.OpenAsync(browser);
        await admin.SignInAsync(BaseUrl, fixture.Broker.AdminKey);
        var page = admin.Page;

        await admin.GoAsync(BaseUrl, "overview", "Overview");
        await Expect(page.Locator("svg.chart rect[fill]").First).ToBeVisibleAsync();
        await Expect(page.Locator("#offers-h + table tbody tr").First).ToBeVisibleAsync();
        await Expect(page.Locator(".countdown").First).ToContainTextAsync("left");
        await SettleAsync(page);
        await admin.ScreenshotAsync(fixture, "01-overview", output);

        await admin.GoAsync(BaseUrl, "requests", "Requests");
        await Expect(page.Locator("table.data tbody tr").First).ToBeVisibleAsync();
        await SettleAsync(page);
        await admin.ScreenshotAsync(fixture, "02-requests", output);

        var placed = await fixture.Broker.GetAsync(fixture.Broker.AdminKey, "/v1/requests?state=placed&limit=1");
        var requestId = placed.GetProperty("items")[0].Str("id");
        await admin.GoAsync(BaseUrl, $"requests/{Uri.EscapeDataString(requestId)}", $"Request {requestId}");
        await Expect(page.Locator("table.timeline tbody tr").First).ToBeVisibleAsync();
        await Expect(page.Locator("#alloc-h + table tbody tr").First).ToBeVisibleAsync();
        await SettleAsync(page);
        await admin.ScreenshotAsync(fixture, "03-request-detail", output);

        await admin.GoAsync(BaseUrl, "offers", "Offers");
        await Expect(page.Locator("#offers-h + table tbody tr").First).ToBeVisibleAsync();
        await SettleAsync(page);
        await admin.ScreenshotAsync(fixture, "04-offers-admin", output);

        await admin.GoAsync(BaseUrl, "agreements", "Agreements");
        await Expect(page.Locator("#diff-result table tbody tr").First).ToBeVisibleAsync();
        await Expect(page.Locator("progress").First).ToBeVisibleAsync();
        await SettleAsync(page);
        await admin.ScreenshotAsync(fixture, "05-agreements", output);

        await admin.GoAsync(BaseUrl, "ledger", "Ledger");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Statement for microsoft" })).ToBeVisibleAsync();
        await SettleAsync(page);
        await admin.ScreenshotAsync(fixture, "06-ledger", output);

        await admin.GoAsync(BaseUrl, "audit", "Audit");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify now" }).ClickAsync();
        await Expect(page.Locator("#last-h + .status-line .badge")).ToHaveTextAsync("passed");
        await Expect(page.Locator("#digest-h ~ dl code.hash")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9a-f]{64}$"));
        await SettleAsync(page);
        await admin.ScreenshotAsync(fixture, "07-audit", output);

        await using var provider = await DashboardPage.OpenAsync(browser);
        await provider.SignInAsync(BaseUrl, fixture.AzureKey);
        await Expect(provider.Page.Locator("main h1")).ToHaveTextAsync("Inbox for azure");
        await Expect(provider.Page.Locator("ul[aria-label='Open offers'] > li").First).ToBeVisibleAsync();
        await SettleAsync(provider.Page);
        await provider.ScreenshotAsync(fixture, "08-provider-inbox", output);

        Assert.Empty(admin.ConsoleErrors);
        Assert.Empty(provider.ConsoleErrors);
    }

    [SkippableFact]
    public async Task Provider_SeesOnlyItsOwnOffers_AcceptsPartOfOne_AndTheRequestTimelineShowsIt()
    {
        var browser = fixture.RequireBrowser();
        await using var azure = await DashboardPage.OpenAsync(browser);
        await azure.SignInAsync(BaseUrl, fixture.AzureKey);
        var page = azure.Page;
        await Expect(page.Locator("main h1")).ToHaveTextAsync("Inbox for azure");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Requests" })).ToHaveCountAsync(0);
        var cards = page.Locator("ul[aria-label='Open offers'] > li");
        await Expect(cards.First).ToBeVisibleAsync();

        // Only azure's offers: every card is one of azure's, and coreweave's inbox shows none of them.
        var azureOffers = (await fixture.Broker.GetAsync(fixture.Broker.AdminKey, "/v1/offers?provider=azure&state=all"))
            .EnumerateArray().Select(o => o.Str("id")).ToHashSet();
        foreach (var key in await cards.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.key)"))
        {
            Assert.Contains(key, azureOffers);
        }

        await using (var coreweave = await DashboardPage.OpenAsync(browser))
        {
            await coreweave.SignInAsync(BaseUrl, fixture.CoreweaveKey);
            await Expect(coreweave.Page.Locator("main h1")).ToHaveTextAsync("Inbox for coreweave");
            await Expect(coreweave.Page.Locator("#offers-h .count")).ToHaveTextAsync("(0)");
            Assert.Empty(coreweave.ConsoleErrors);
        }

        // Pick a splittable offer among those the inbox shows first (soonest deadline first), and answer it on the page.
        var offer = (await fixture.Broker.GetAsync(fixture.AzureKey, "/v1/offers")).EnumerateArray()
            .Take(12)
            .First(o => o.GetProperty("partialAllowed").GetBoolean() && o.Int("gpus") >= 2);
        var offerId = offer.Str("id");
        var requestId = offer.Str("requestId");
        var gpus = offer.Int("gpus");
        var part = gpus / 2;
        var card = page.Locator($"ul[aria-label='Open offers'] > li[data-key='{offerId}']");
        await Expect(card).ToBeVisibleAsync();
        await Expect(card.Locator(".countdown")).ToContainTextAsync("left");
        await card.GetByRole(AriaRole.Button, new() { Name = "Answer this offer" }).ClickAsync();
        var input = card.GetByLabel($"GPUs to accept (1–{gpus})");
        await Expect(input).ToBeFocusedAsync();
        var acceptPart = card.GetByRole(AriaRole.Button, new() { Name = "Accept part" });

        await input.FillAsync("0");
        await acceptPart.ClickAsync();
        await Expect(card.Locator(".field-error").First).ToHaveTextAsync($"Give a number of GPUs from 1 to {gpus}.");
        await Expect(input).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(input).ToBeFocusedAsync();

        await input.FillAsync("half");
        await acceptPart.ClickAsync();
        await Expect(card.Locator(".field-error").First).ToContainTextAsync("must be a whole number");

        await input.FillAsync(part.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await acceptPart.ClickAsync();
        await Expect(card.GetByRole(AriaRole.Status)).ToHaveTextAsync($"Accepted {part:N0} of {gpus:N0} GPUs of offer {offerId}.");
        await Expect(card).ToHaveCountAsync(0, new() { Timeout = 10_000 });
        await azure.ScreenshotAsync(fixture, "09-provider-after-accepting-part", output);

        // "Answered recently" lists a few answered offers (the server cuts the history), none of them open.
        var history = page.Locator("#history-h + table tbody tr");
        await Expect(history.First).ToBeVisibleAsync(new() { Timeout = 10_000 });
        Assert.InRange(await history.CountAsync(), 1, 15);
        Assert.DoesNotContain("open", await history.Locator("td:nth-child(5)").AllInnerTextsAsync());

        var answered = (await fixture.Broker.GetAsync(fixture.Broker.AdminKey, "/v1/offers?provider=azure&state=all")).EnumerateArray().Single(o => o.Str("id") == offerId);
        Assert.Equal("accepted", answered.Str("state"));
        Assert.Equal(part, answered.Int("acceptedGpus"));

        // The request's timeline shows the partial acceptance: when, who (azure) and how many GPUs.
        await using var admin = await DashboardPage.OpenAsync(browser);
        await admin.SignInAsync(BaseUrl, fixture.Broker.AdminKey);
        await admin.GoAsync(BaseUrl, $"requests/{Uri.EscapeDataString(requestId)}", $"Request {requestId}");
        var accepted = admin.Page.Locator("table.timeline tbody tr[data-type='offer.accepted']");
        await Expect(accepted).ToHaveCountAsync(1);
        await Expect(accepted.Locator("th")).ToHaveTextAsync("offer accepted");
        await Expect(accepted.Locator("td").Nth(1)).ToHaveTextAsync("azure");
        await Expect(accepted.Locator("td").Nth(2)).ToHaveTextAsync($"{part} GPUs");
        await Expect(admin.Page.Locator("#alloc-h + table tbody tr").Filter(new() { HasText = "azure" })).ToContainTextAsync(part.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        await admin.ScreenshotAsync(fixture, "10-request-timeline-after-partial-accept", output);

        Assert.Empty(azure.ConsoleErrors);
        Assert.Empty(admin.ConsoleErrors);
    }

    [SkippableFact]
    public async Task Provider_QuotesThroughTheForm_WithValidationMessages()
    {
        var browser = fixture.RequireBrowser();

        // Azure declines an H100 offer, so the request goes to the market and coreweave (a webhook provider) is asked to quote.
        var offer = await BrokerUnderTest.WaitForAsync("an open H100 offer to azure", TimeSpan.FromSeconds(60), async () =>
            (await fixture.Broker.GetAsync(fixture.AzureKey, "/v1/offers")).EnumerateArray()
                .Where(o => o.Str("accelerator") == "H100" && o.Str("kind") == "first-refusal").Select(o => (JsonElement?)o).FirstOrDefault() is { } found ? found.ToString() : null);
        var h100 = JsonDocument.Parse(offer).RootElement;
        var requestId = h100.Str("requestId");
        await fixture.Broker.SendAsync(fixture.AzureKey, HttpMethod.Post, $"/v1/offers/{h100.Str("id")}/decline", new { reason = "no H100 free" });

        await using var coreweave = await DashboardPage.OpenAsync(browser);
        await coreweave.SignInAsync(BaseUrl, fixture.CoreweaveKey);
        var card = coreweave.Page.Locator($"ul[aria-label='Open quote requests'] > li[data-key='{requestId}']");
        await Expect(card).ToBeVisibleAsync();
        await Expect(card.Locator(".countdown")).ToContainTextAsync("left");

        await card.GetByRole(AriaRole.Button, new() { Name = "Answer this quote request" }).ClickAsync();
        var price = card.GetByLabel("Price per GPU-hour (USD)");
        var send = card.GetByRole(AriaRole.Button, new() { Name = "Send quote" });
        await send.ClickAsync();
        await Expect(price).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(card.Locator($"#{await price.GetAttributeAsync("id")}-error")).ToHaveTextAsync("Give a price per GPU-hour, e.g. 11.50.");
        await price.FillAsync("2,90");
        await send.ClickAsync();
        await Expect(card.Locator($"#{await price.GetAttributeAsync("id")}-error")).ToContainTextAsync("positive amount");
        await price.FillAsync("2.90");
        await send.ClickAsync();
        await Expect(card.GetByRole(AriaRole.Status)).ToContainTextAsync("Quoted");
        await coreweave.ScreenshotAsync(fixture, "11-provider-quote", output);

        var quote = (await fixture.Broker.GetAsync(fixture.Broker.AdminKey, "/v1/quote-requests?provider=coreweave&state=all")).EnumerateArray().Single(q => q.Str("requestId") == requestId);
        Assert.Equal("quoted", quote.Str("state"));
        Assert.Empty(coreweave.ConsoleErrors);
    }

    [SkippableFact]
    public async Task Auditor_SeesReadOnlyPages_AndTheServerRefusesItsWrites()
    {
        var browser = fixture.RequireBrowser();
        await using var auditor = await DashboardPage.OpenAsync(browser);
        await auditor.SignInAsync(BaseUrl, fixture.AuditorKey);
        var page = auditor.Page;
        await Expect(page.Locator("#role")).ToHaveTextAsync("auditor");
        await Expect(page.Locator("#nav a")).ToHaveTextAsync(["Overview", "Requests", "Offers", "Agreements", "Ledger", "Audit"]);

        var actions = new[] { "Accept part", "Accept all", "Decline", "Send quote", "Confirm reservation", "Cancel this request" };
        await auditor.GoAsync(BaseUrl, "offers", "Offers");
        await Expect(page.Locator("#offers-h + table tbody tr").First).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator("main form").CountAsync());
        Assert.Equal(0, await page.Locator("main input").CountAsync());
        foreach (var action in actions.Append("Answer this offer"))
        {
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = action })).ToHaveCountAsync(0);
        }

        var open = (await fixture.Broker.GetAsync(fixture.Broker.AdminKey, "/v1/offers")).EnumerateArray().First();
        await auditor.GoAsync(BaseUrl, $"requests/{Uri.EscapeDataString(open.Str("requestId"))}", $"Request {open.Str("requestId")}");
        await Expect(page.Locator("table.timeline tbody tr").First).ToBeVisibleAsync();
        foreach (var action in actions)
        {
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = action })).ToHaveCountAsync(0);
        }

        await auditor.ScreenshotAsync(fixture, "12-auditor-request", output);

        // Even a hand-made call with the auditor's key from the page is refused, and nothing changes.
        var statuses = await page.EvaluateAsync<int[]>(
            @"async ([offer, request]) => {
                const key = sessionStorage.getItem('computebroker.apiKey');
                const post = (path, body) => fetch(path, { method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).then(r => r.status);
                return [
                  await post(`/v1/offers/${encodeURIComponent(offer)}/accept`, {}),
                  await post(`/v1/offers/${encodeURIComponent(offer)}/decline`, { reason: 'auditor' }),
                  await post(`/v1/requests/${encodeURIComponent(request)}/cancel`, {}),
                  await post('/v1/keys', { role: 'admin' }),
                  await post('/v1/ledger/reports', { customer: 'openai', periodStart: '2025-01-01T00:00:00Z', periodEnd: '2025-02-01T00:00:00Z', revenue: '1.00 USD', profit: '1.00 USD' }),
                ];
              }",
            new[] { open.Str("id"), open.Str("requestId") });
        Assert.All(statuses, status => Assert.Equal(403, status));
        var after = (await fixture.Broker.GetAsync(fixture.Broker.AdminKey, "/v1/offers?state=all")).EnumerateArray().Single(o => o.Str("id") == open.Str("id"));
        Assert.NotEqual("declined", after.Str("state"));
        Assert.False(after.TryGetProperty("acceptedGpus", out var acceptedGpus) && acceptedGpus.ValueKind == JsonValueKind.Number);

        // Verifying reads the log and changes nothing, so an auditor may do it.
        await auditor.GoAsync(BaseUrl, "audit", "Audit");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify now" }).ClickAsync();
        await Expect(page.Locator(".result")).ToContainTextAsync("the log is intact");
    }

    [SkippableFact]
    public async Task Customer_SeesOnlyItsPages_AndAPageItsRoleCannotSeeSaysSo()
    {
        var browser = fixture.RequireBrowser();
        await using var customer = await DashboardPage.OpenAsync(browser);
        await customer.SignInAsync(BaseUrl, fixture.CustomerKey);
        var page = customer.Page;
        await Expect(page.Locator("#nav a")).ToHaveTextAsync(["Overview", "Requests", "Agreements", "Ledger"]);
        await Expect(page.Locator("main h1")).ToHaveTextAsync("Overview");
        await page.GotoAsync($"{BaseUrl}/#/audit");
        await Expect(page.Locator("main")).ToContainTextAsync("A key with role customer:openai cannot see this page.");
        Assert.Empty(customer.ConsoleErrors);
    }

    [SkippableFact]
    public async Task SignIn_WithABadKey_SaysWhy_AndTheKeyboardAloneSignsInAndNavigates()
    {
        var browser = fixture.RequireBrowser();
        await using var visitor = await DashboardPage.OpenAsync(browser);
        var page = visitor.Page;
        await page.GotoAsync(BaseUrl + "/");
        var key = page.GetByLabel("API key");
        await Expect(key).ToBeFocusedAsync();

        await page.Keyboard.TypeAsync("hello");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#key-error")).ToHaveTextAsync("An API key starts with cbk_; check that you pasted the whole key.");
        await Expect(key).ToHaveAttributeAsync("aria-invalid", "true");

        await key.FillAsync("cbk_0000000000_not-a-real-key");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#key-error")).ToHaveTextAsync("The broker does not know this key, or it was revoked.");
        await visitor.ScreenshotAsync(fixture, "00-sign-in-error", output);

        await key.FillAsync(fixture.AuditorKey);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("main h1")).ToHaveTextAsync("Overview");
        await Expect(page.Locator("main h1")).ToBeFocusedAsync();

        // After a reload (the key stays for this tab), Tab from the top: the skip link first, then the navigation, in order.
        await page.ReloadAsync();
        await Expect(page.Locator("main h1")).ToHaveTextAsync("Overview");
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Skip to content" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Overview" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("#/requests$"));
        await Expect(page.Locator("main h1")).ToHaveTextAsync("Requests");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Requests" })).ToHaveAttributeAsync("aria-current", "page");
    }

    /// <summary>Lets a poll or two run, so a screenshot shows the page as it stays.</summary>
    private static Task SettleAsync(IPage page) => page.WaitForTimeoutAsync(2500);
}
