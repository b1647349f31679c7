using ComputeBroker.Providers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ComputeBroker.Engine.Tests.Providers;

public sealed class CapacityTimelineTests
{
    private static CapacityTimeline Flat(int hours, int gpus) => new(A.T0, hours, _ => gpus);

    [Fact]
    public void Free_OverAnUntouchedTimeline_IsTheCapacity()
    {
        var timeline = Flat(48, 10);

        Assert.Equal(10, timeline.Free(A.T0, 48));
        Assert.Equal(10, timeline.Free(A.At(5), 1));
    }

    [Fact]
    public void TryReserve_OverlappingIntervals_FreeIsTheMinimumOverTheQueriedHours()
    {
        var timeline = Flat(48, 10);

        Assert.True(timeline.TryReserve(A.At(0), 10, 4)); // hours 0-9
        Assert.True(timeline.TryReserve(A.At(5), 10, 3)); // hours 5-14

        Assert.Equal(6, timeline.Free(A.At(0), 5));
        Assert.Equal(3, timeline.Free(A.At(0), 10));
        Assert.Equal(3, timeline.Free(A.At(5), 5));
        Assert.Equal(7, timeline.Free(A.At(10), 5));
        Assert.Equal(10, timeline.Free(A.At(15), 33));
    }

    [Fact]
    public void TryReserve_MoreThanFreeAtAnyHour_FailsAndTakesNothing()
    {
        var timeline = Flat(48, 10);
        timeline.TryReserve(A.At(20), 1, 8);

        Assert.False(timeline.TryReserve(A.At(0), 24, 3));

        Assert.Equal(10, timeline.Free(A.At(0), 20));
        Assert.Equal(2, timeline.Free(A.At(20), 1));
    }

    [Fact]
    public void Release_GivesBackWhatWasReserved()
    {
        var timeline = Flat(48, 10);
        timeline.TryReserve(A.At(3), 7, 6);

        timeline.Release(A.At(3), 7, 6);

        Assert.Equal(10, timeline.Free(A.T0, 48));
    }

    [Theory]
    [InlineData(-1, 2)] // starts before the origin
    [InlineData(47, 2)] // runs past the horizon
    [InlineData(0, 0)] // no hours
    public void Free_IntervalNotWhollyInsideTheHorizon_IsZero(double start, int hours)
    {
        var timeline = Flat(48, 10);

        Assert.Equal(0, timeline.Free(A.At(start), hours));
        Assert.False(timeline.TryReserve(A.At(start), hours, 1));
    }

    /// <summary>
    /// Regression: reserving zero GPUs over an interval outside the horizon passed the free check
    /// (0 &lt; 0 is false) and went into the tree, which recursed until the stack overflowed
    /// (found by <see cref="Timeline_UnderRandomOperations_AgreesWithAnHourArray"/>).
    /// </summary>
    [Theory]
    [InlineData(16)] // past the horizon, at the tree's size
    [InlineData(-3)] // before the origin
    public void TryReserve_ZeroGpusOutsideTheHorizon_SucceedsWithoutTouchingTheTimeline(double start)
    {
        var timeline = Flat(16, 10);

        Assert.True(timeline.TryReserve(A.At(start), 1, 0));

        Assert.Equal(10, timeline.Free(A.T0, 16));
    }

    [Fact]
    public void Free_FollowsTheCapacityFunctionHourByHour()
    {
        var timeline = new CapacityTimeline(A.T0, 24, at => (long)(at - A.T0).TotalHours);

        Assert.Equal(0, timeline.Free(A.T0, 24));
        Assert.Equal(5, timeline.Free(A.At(5), 3));
        Assert.Equal(23, timeline.Free(A.At(23), 1));
    }

    [Fact]
    public void TryReserve_StartingMidHour_OccupiesEveryHourItTouches()
    {
        // 10:30 for two hours runs until 12:30: it touches the 10:00, 11:00 and 12:00 slots.
        var timeline = Flat(24, 1);

        Assert.True(timeline.TryReserve(A.At(10.5), 2, 1));

        Assert.Equal(0, timeline.Free(A.At(10), 1));
        Assert.Equal(0, timeline.Free(A.At(12), 1));
        Assert.False(timeline.TryReserve(A.At(12), 1, 1)); // 12:00-13:00 overlaps 12:00-12:30
        Assert.Equal(1, timeline.Free(A.At(13), 1));
    }

    /// <summary>Free/TryReserve/Release agree with a plain array of free GPUs per hour, under random operations.</summary>
    [Property(MaxTest = 300)]
    public Property Timeline_UnderRandomOperations_AgreesWithAnHourArray() =>
        Prop.ForAll(TimelineScript.Arbitrary, script =>
        {
            var timeline = new CapacityTimeline(A.T0, script.Hours, at => script.Capacity[(int)(at - A.T0).TotalHours]);
            var naive = new NaiveTimeline(script.Capacity);
            var held = new List<TimelineOp>();
            foreach (var op in script.Ops)
            {
                switch (op.Kind)
                {
                    case OpKind.Free:
                        Assert.Equal(naive.Free(op.StartMinutes, op.Hours), timeline.Free(A.T0.AddMinutes(op.StartMinutes), op.Hours));
                        break;
                    case OpKind.Reserve:
                        var expected = naive.TryReserve(op.StartMinutes, op.Hours, op.Gpus);
                        Assert.Equal(expected, timeline.TryReserve(A.T0.AddMinutes(op.StartMinutes), op.Hours, op.Gpus));
                        if (expected)
                        {
                            held.Add(op);
                        }

                        break;
                    case OpKind.Release when held.Count > 0:
                        var release = held[op.Gpus % held.Count];
                        held.Remove(release);
                        naive.Release(release.StartMinutes, release.Hours, release.Gpus);
                        timeline.Release(A.T0.AddMinutes(release.StartMinutes), release.Hours, release.Gpus);
                        break;
                }
            }

            for (var h = 0; h < script.Hours; h++)
            {
                Assert.Equal(naive.Free(h * 60, 1), timeline.Free(A.At(h), 1));
            }
        });

    public enum OpKind
    {
        Free,
        Reserve,
        Release,
    }

    public sealed record TimelineOp(OpKind Kind, int StartMinutes, int Hours, int Gpus)
    {
        public override string ToString() => $"{Kind}(+{StartMinutes}min, {Hours}h, {Gpus})";
    }

    public sealed record TimelineScript(int Hours, int[] Capacity, TimelineOp[] Ops)
    {
        public static Arbitrary<TimelineScript> Arbitrary { get; } = Arb.From(Generate(), Shrink);

        public override string ToString() => $"{Hours}h capacity [{string.Join(",", Capacity)}]: {string.Join("; ", Ops.Select(o => o.ToString()))}";

        private static Gen<TimelineScript> Generate() =>
            from hours in Gen.Choose(1, 40)
            from capacity in Gen.ArrayOf(Gen.Choose(0, 10), hours)
            from count in Gen.Choose(1, 40)
            from ops in Gen.ArrayOf(Op(hours), count)
            select new TimelineScript(hours, capacity, ops);

        private static Gen<TimelineOp> Op(int hours) =>
            from kind in Gen.Frequency((3, Gen.Constant(OpKind.Free)), (5, Gen.Constant(OpKind.Reserve)), (2, Gen.Constant(OpKind.Release)))
            from startHour in Gen.Choose(-2, hours + 1)
            from minutes in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Elements(15, 30, 59)))
            from length in Gen.Choose(0, hours + 2)
            from gpus in Gen.Choose(0, 12)
            select new TimelineOp(kind, (startHour * 60) + minutes, length, gpus);

        /// <summary>Shorter scripts first: drop one operation at a time, so a failure is reported with few operations.</summary>
        private static IEnumerable<TimelineScript> Shrink(TimelineScript script)
        {
            for (var i = 0; i < script.Ops.Length; i++)
            {
                yield return script with { Ops = [.. script.Ops[..i], .. script.Ops[(i + 1)..]] };
            }
        }
    }

    /// <summary>The obvious model: one free count per hour; an interval occupies every hour it touches.</summary>
    private sealed class NaiveTimeline(int[] capacity)
    {
        private readonly int[] _free = (int[])capacity.Clone();

        public int Free(int startMinutes, int hours)
        {
            var (from, to) = Slots(startMinutes, hours);
            if (hours <= 0 || from < 0 || to > _free.Length)
            {
                return 0;
            }

            var min = int.MaxValue;
            for (var h = from; h < to; h++)
            {
                min = Math.Min(min, _free[h]);
            }

            return min;
        }

        public bool TryReserve(int startMinutes, int hours, int gpus)
        {
            if (Free(startMinutes, hours) < gpus)
            {
                return false;
            }

            Add(startMinutes, hours, -gpus);
            return true;
        }

        public void Release(int startMinutes, int hours, int gpus) => Add(startMinutes, hours, gpus);

        private void Add(int startMinutes, int hours, int delta)
        {
            var (from, to) = Slots(startMinutes, hours);
            for (var h = Math.Max(0, from); h < Math.Min(to, _free.Length); h++)
            {
                _free[h] += delta;
            }
        }

        private static (int From, int To) Slots(int startMinutes, int hours) =>
            ((int)Math.Floor(startMinutes / 60.0), (int)Math.Ceiling(((startMinutes + (hours * 60)) / 60.0)));
    }
}
