using ComputeBroker.Providers;

namespace ComputeBroker.Simulation.Tests;

/// <summary>
/// The capacity timeline's iterative range-minimum (rewritten for speed for the simulator) against a plain
/// array: the same answers for random reservations, releases and queries, at every horizon size.
/// </summary>
public sealed class CapacityTimelineTests
{
    private static readonly DateTimeOffset Origin = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 2)]
    [InlineData(64, 3)]
    [InlineData(1000, 4)]
    [InlineData(4099, 5)]
    public void FreeAndTryReserve_MatchAPlainArray(int hours, int seed)
    {
        var random = new Random(seed);
        var model = Enumerable.Range(0, hours).Select(h => 50 + (h % 17) * 3).ToArray();
        var timeline = new CapacityTimeline(Origin, hours, at => model[(int)(at - Origin).TotalHours]);
        var reservations = new List<(int Start, int Hours, int Gpus)>();

        for (var step = 0; step < 3000; step++)
        {
            var start = random.Next(-2, hours + 2);
            var length = random.Next(1, Math.Max(2, hours / 2));
            var expected = start < 0 || start + length > hours ? 0 : model.Skip(start).Take(length).Min();
            Assert.Equal(expected, timeline.Free(Origin.AddHours(start), length));

            var gpus = random.Next(1, 40);
            var reserved = timeline.TryReserve(Origin.AddHours(start), length, gpus);
            Assert.Equal(expected >= gpus, reserved);
            if (reserved)
            {
                for (var h = start; h < start + length; h++)
                {
                    model[h] -= gpus;
                }

                reservations.Add((start, length, gpus));
            }

            if (reservations.Count > 0 && random.Next(3) == 0)
            {
                var (s, l, g) = reservations[random.Next(reservations.Count)];
                reservations.Remove((s, l, g));
                timeline.Release(Origin.AddHours(s), l, g);
                for (var h = s; h < s + l; h++)
                {
                    model[h] += g;
                }
            }
        }
    }
}
