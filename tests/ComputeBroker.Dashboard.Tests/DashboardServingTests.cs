using System.Net;
using System.Text.RegularExpressions;

namespace ComputeBroker.Dashboard.Tests;

/// <summary>How <c>broker serve</c> serves the dashboard's files and the API it adds for the dashboard (no browser needed).</summary>
[Collection(DashboardCollection.Name)]
public sealed partial class DashboardServingTests(DashboardFixture fixture)
{
    [Fact]
    public async Task Root_ServesThePage_WithCspAndAnETagThatRevalidates()
    {
        using var page = await fixture.Broker.GetRawAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("no-cache", page.Headers.CacheControl!.ToString());
        var etag = page.Headers.ETag!.Tag;

        using var again = await fixture.Broker.GetRawAsync("/", r => r.Headers.TryAddWithoutValidation("If-None-Match", etag));
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
    }

    [Fact]
    public async Task EveryModuleThePageImports_IsServedAsJavaScript()
    {
        var pending = new Queue<string>(["app.js"]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryDequeue(out var path))
        {
            if (!seen.Add(path))
            {
                continue;
            }

            using var response = await fixture.Broker.GetRawAsync($"/dashboard/{path}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"/dashboard/{path}: {(int)response.StatusCode}");
            Assert.Equal("text/javascript", response.Content.Headers.ContentType!.MediaType);
            var text = await response.Content.ReadAsStringAsync();
            var folder = path.Contains('/', StringComparison.Ordinal) ? path[..(path.LastIndexOf('/') + 1)] : string.Empty;
            foreach (Match import in ImportPattern().Matches(text))
            {
                var target = new Uri(new Uri($"http://x/{folder}"), import.Groups[1].Value).AbsolutePath.TrimStart('/');
                pending.Enqueue(target);
            }
        }

        Assert.Contains("pages/offers.js", seen);
        using var css = await fixture.Broker.GetRawAsync("/dashboard/app.css");
        Assert.Equal("text/css", css.Content.Headers.ContentType!.MediaType);
        using var missing = await fixture.Broker.GetRawAsync("/dashboard/nope.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task PlacementStats_FollowTheOverviewsRoles_AndNameBadParameters()
    {
        var stats = await fixture.Broker.GetAsync(fixture.AuditorKey, "/v1/stats/placements?bucket=hour");
        Assert.Equal("hour", stats.GetProperty("bucket").GetString());
        Assert.True(stats.GetProperty("points").GetArrayLength() > 0);

        using var provider = await fixture.Broker.SendRawAsync(fixture.AzureKey, HttpMethod.Get, "/v1/stats/placements", null);
        Assert.Equal(HttpStatusCode.Forbidden, provider.StatusCode);

        using var bad = await fixture.Broker.SendRawAsync(fixture.Broker.AdminKey, HttpMethod.Get, "/v1/stats/placements?bucket=fortnight&limit=0", null);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = System.Text.Json.JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement;
        Assert.True(problem.GetProperty("errors").TryGetProperty("bucket", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("limit", out _));
    }

    [Fact]
    public async Task RequestTimeline_IsServedAsJson_Regression_Issue7()
    {
        // The API's JSON options lacked BrokerJson's resolver, so serializing a timeline's events threw (500).
        var page = await fixture.Broker.GetAsync(fixture.Broker.AdminKey, "/v1/requests?limit=1");
        var id = page.GetProperty("items")[0].GetProperty("id").GetString()!;
        var detail = await fixture.Broker.GetAsync(fixture.Broker.AdminKey, $"/v1/requests/{Uri.EscapeDataString(id)}");
        Assert.Equal("request.submitted", detail.GetProperty("timeline")[0].GetProperty("event").GetProperty("type").GetString());
    }

    [GeneratedRegex("""(?:from|import)\s+'(\.{1,2}/[^']+)'""")]
    private static partial Regex ImportPattern();
}
