using System.Net;
using ComputeBroker.Server.Tests.Infrastructure;

namespace ComputeBroker.Server.Tests.Api;

/// <summary>
/// A waiver's GPU budget is shared by every request it covers: a request is decided as waived or not on the budget
/// the log gives at its place in the log, which is what the audit replays. Found by the crash test (an I1 finding:
/// "the agreements in force route this request as Waived, but it was decided as FirstRefusal") when a waived request's
/// close gave budget back while another request was being decided on the budget as it was before.
/// </summary>
public sealed class WaiverBudgetConcurrencyTests(ApiBroker broker) : IClassFixture<ApiBroker>
{
    [Fact]
    public async Task SubmissionsRacingCancellationsOfWaivedRequests_AreDecidedAsTheLogOrderSays_AndTheAuditPasses()
    {
        // The example's oracle waiver: training H100, a budget of 50,000 GPUs; webhook providers never answer, so a
        // waived request holds its GPUs until it is cancelled.
        var customer = $"w{Guid.NewGuid():N}"[..9];
        await broker.Admin.PostRawAsync("/v1/agreements", Examples.JanuaryAgreement.Replace("openai", customer, StringComparison.Ordinal), contentType: "application/yaml")
            .ExpectAsync(HttpStatusCode.Created);
        var holding = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var created = await SubmitAsync(customer);
            Assert.Equal("waived", created.Str("route"));
            holding.Add(created.Str("id"));
        }

        // 49,152 of 50,000 held: each new request of 4,096 is waived only if a cancellation before it in the log gave budget back.
        var cancels = holding.Select(id => Task.Run(async () => await broker.Admin.PostAsync($"/v1/requests/{id}/cancel", null).ExpectAsync(HttpStatusCode.OK)));
        var submits = Enumerable.Range(0, 24).Select(_ => Task.Run(() => SubmitAsync(customer)));
        await Task.WhenAll([.. cancels, .. submits]);

        var audit = await broker.Auditor.PostAsync("/v1/audit/verify", null).ExpectAsync(HttpStatusCode.OK);
        Assert.True(audit.GetProperty("passed").GetBoolean(), audit.GetProperty("violations").ToString());
    }

    private Task<System.Text.Json.JsonElement> SubmitAsync(string customer) =>
        broker.Admin.PostJsonAsync("/v1/requests", RequestBodies.Capacity(broker.Now, customer: customer, workloadClass: "training", gpus: 4096)).ExpectAsync(HttpStatusCode.Created);
}
