using System.Net;
using ComputeBroker.Server.Tests.Infrastructure;

namespace ComputeBroker.Server.Tests.Api;

public sealed class SmokeTests(ApiBroker broker) : IClassFixture<ApiBroker>
{
    [Fact]
    public async Task Reservation_ConfirmedByOracle_PlacesTheRequest()
    {
        var (request, award) = await broker.OpenReservationAsync();
        await broker.Oracle.PostJsonAsync($"/v1/reservations/{request}/{award}/confirm", new { }).ExpectAsync(HttpStatusCode.OK);
        var shown = await broker.ShowAsync(request);
        Assert.Equal("placed", shown.GetProperty("request").Str("state"));
    }
}
