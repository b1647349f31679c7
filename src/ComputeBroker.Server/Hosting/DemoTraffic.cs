using System.Security.Cryptography;
using ComputeBroker.Domain;
using ComputeBroker.Server.Service;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ComputeBroker.Server.Hosting;

/// <summary>
/// The demo's customer: submits an example request every few seconds (training campaigns, inference,
/// API serving and research, on H100, H200 and GB200), so a newcomer sees requests flow at once.
/// Deterministic for the service's seed.
/// </summary>
public sealed partial class DemoTraffic(BrokerService broker, ServeOptions options, ILogger<DemoTraffic> logger) : BackgroundService
{
    private static readonly (string Class, int Weight)[] Classes = [("training", 5), ("inference", 3), ("api", 1), ("research", 1)];
    private static readonly (string Accelerator, decimal MaxPrice)[] Accelerators = [("H100", 12.50m), ("H200", 13.00m), ("GB200", 18.00m)];
    private static readonly int[] Sizes = [256, 512, 1024, 2048, 4096, 8192, 16384];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var random = new Random(options.Seed);
        var customer = broker.Projection.Book.Agreements.FirstOrDefault()?.Customer ?? "openai";
        var number = 0;
        using var timer = new PeriodicTimer(options.DemoInterval);
        do
        {
            number++;
            var now = broker.Clock.GetUtcNow();
            var workloadClass = Pick(random);
            var (accelerator, maxPrice) = Accelerators[random.Next(Accelerators.Length)];
            var request = new CapacityRequest
            {
                Id = new RequestId($"demo-{now:yyyyMMddHHmm}-{number}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}"),
                Customer = customer,
                WorkloadClass = workloadClass,
                Accelerator = accelerator,
                Gpus = new GpuCount(Sizes[random.Next(workloadClass == "training" ? Sizes.Length : 4)]),
                EarliestStart = now.AddDays(14 + random.Next(30)),
                DurationHours = workloadClass == "training" ? 24 * (14 + random.Next(60)) : 24 * (7 + random.Next(30)),
                MaxPrice = new PricePerGpuHour(Money.Usd(maxPrice)),
                NeededBy = now.AddDays(7),
                AllOrNothing = random.Next(5) == 0,
            };
            var result = await broker.SubmitAsync(request, null, string.Empty, stoppingToken);
            if (!result.Ok)
            {
                LogRefused(request.Id, result.Rejection!.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private static string Pick(Random random)
    {
        var roll = random.Next(Classes.Sum(c => c.Weight));
        foreach (var (name, weight) in Classes)
        {
            if (roll < weight)
            {
                return name;
            }

            roll -= weight;
        }

        return Classes[0].Class;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo request {Request} refused: {Reason}")]
    private partial void LogRefused(RequestId request, string reason);
}
