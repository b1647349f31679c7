using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Engine.Tests.Providers;

public sealed class SimulatedProviderTests
{
    private const int Horizon = 24 * 14;

    private static SimulatedProvider Simulated(ProviderDefinition? definition = null) => new(definition ?? A.Provider(A.Azure, 10m, capacity: 10), A.T0, Horizon);

    private static OfferMade Offer(CapacityRequest request, bool partialAllowed = true) =>
        new(request.Id, A.T0, new OfferId($"{request.Id}-o1"), OfferKind.FirstRefusal, A.Azure, request.Gpus, A.Usd(10), partialAllowed, A.At(24));

    [Fact]
    public void AnswerOffer_TwoRequestsForTheSameFreeGpus_TheSecondGetsOnlyWhatIsLeft()
    {
        var provider = Simulated();
        var first = A.Request("r1");
        var second = A.Request("r2");

        var a = provider.AnswerOffer(Offer(first), first);
        var b = provider.AnswerOffer(Offer(second), second);

        Assert.Equal(new OfferAnswer.Accept(A.Gpus(8)), a);
        Assert.Equal(new OfferAnswer.Accept(A.Gpus(2)), b);
        Assert.Equal(0, provider.Free(A.Request("r3")));
    }

    /// <summary>
    /// Regression: the timeline used to occupy floor(start) + hours slots, so a request starting at
    /// 10:30 for two hours left 12:00-12:30 free, and a 12:00 request was promised the same GPU.
    /// Found by <see cref="CapacityTimelineTests.Timeline_UnderRandomOperations_AgreesWithAnHourArray"/>.
    /// </summary>
    [Fact]
    public void AnswerOffer_MidHourRequestAndOneStartingInItsLastHour_AreNeverPromisedTheSameGpu()
    {
        var provider = Simulated(A.Provider(A.Azure, capacity: 1));
        var midHour = A.Request("r1") with { Gpus = A.Gpus(1), EarliestStart = A.At(10.5), DurationHours = 2 };
        var onTheHour = A.Request("r2") with { Gpus = A.Gpus(1), EarliestStart = A.At(12), DurationHours = 1 };

        Assert.Equal(new OfferAnswer.Accept(A.Gpus(1)), provider.AnswerOffer(Offer(midHour), midHour));
        Assert.IsType<OfferAnswer.Decline>(provider.AnswerOffer(Offer(onTheHour), onTheHour));
        Assert.False(provider.Reserve(onTheHour, A.Gpus(1), new Random(1)));
        Assert.Equal(1, provider.FreeAt("H100", "eastus", A.At(13)));
    }

    [Fact]
    public void AnswerOffer_OnlyPartFreeAndPartialNotAllowed_Declines()
    {
        var provider = Simulated();
        provider.AnswerOffer(Offer(A.Request("r1")), A.Request("r1"));

        var answer = provider.AnswerOffer(Offer(A.Request("r2"), partialAllowed: false), A.Request("r2"));

        Assert.Equal(new OfferAnswer.Decline("only 2 GPUs free"), answer);
        Assert.Equal(2, provider.Free(A.Request("r3")));
    }

    [Fact]
    public void AnswerOffer_PolicyRefusesPartialAcceptance_DeclinesEvenWhenTheOfferAllowsIt()
    {
        var provider = Simulated(A.Provider(A.Azure, capacity: 5) with { Policy = AnswerPolicy.Prompt with { AcceptPartial = false } });

        var answer = provider.AnswerOffer(Offer(A.Request()), A.Request());

        Assert.IsType<OfferAnswer.Decline>(answer);
        Assert.Equal(5, provider.Free(A.Request()));
    }

    [Fact]
    public void AnswerOffer_NonOverlappingIntervals_DoNotCompete()
    {
        var provider = Simulated();
        var early = A.Request("r1") with { EarliestStart = A.At(0), DurationHours = 24 };
        var late = A.Request("r2") with { EarliestStart = A.At(24), DurationHours = 24 };

        Assert.Equal(new OfferAnswer.Accept(A.Gpus(8)), provider.AnswerOffer(Offer(early), early));
        Assert.Equal(new OfferAnswer.Accept(A.Gpus(8)), provider.AnswerOffer(Offer(late), late));
    }

    [Fact]
    public void AnswerOffer_DeclinedWorkloadClass_DeclinesOffersAndQuotes()
    {
        var provider = Simulated(A.Provider(A.Azure, capacity: 64) with { Policy = AnswerPolicy.Prompt with { DeclineClasses = ["research"] } });
        var research = A.Request() with { WorkloadClass = "research" };

        Assert.IsType<OfferAnswer.Decline>(provider.AnswerOffer(Offer(research), research));
        Assert.IsType<QuoteAnswer.Decline>(provider.Quote(research, research.Gpus, A.T0, TimeSpan.FromDays(1)));
        Assert.IsType<OfferAnswer.Accept>(provider.AnswerOffer(Offer(A.Request()), A.Request()));
    }

    [Fact]
    public void Quote_HoldsNothing_AndIsLimitedToWhatIsFree()
    {
        var provider = Simulated();

        var quote = Assert.IsType<QuoteAnswer.Quote>(provider.Quote(A.Request() with { Gpus = A.Gpus(20) }, A.Gpus(20), A.T0, TimeSpan.FromDays(1)));

        Assert.Equal(A.Gpus(10), quote.Gpus);
        Assert.Equal(A.Usd(10), quote.Price);
        Assert.Equal(A.At(48), quote.Start);
        Assert.Equal(A.At(24), quote.ValidUntil);
        Assert.Equal(10, provider.Free(A.Request()));
    }

    [Fact]
    public void Reserve_TakesTheGpus_AndFailsWhenTheyAreGone()
    {
        var provider = Simulated();
        var random = new Random(1);

        Assert.True(provider.Reserve(A.Request("r1"), A.Gpus(8), random));
        Assert.False(provider.Reserve(A.Request("r2"), A.Gpus(8), random));
        Assert.True(provider.Reserve(A.Request("r2"), A.Gpus(2), random));
        Assert.Equal(0, provider.Free(A.Request("r3")));
    }

    [Fact]
    public void Reserve_FailureRateOne_AlwaysFailsAndTakesNothing()
    {
        var provider = Simulated(A.Provider(A.Azure, capacity: 10) with { Policy = AnswerPolicy.Prompt with { ReservationFailureRate = 1.0 } });

        Assert.False(provider.Reserve(A.Request(), A.Gpus(1), new Random(7)));
        Assert.Equal(10, provider.Free(A.Request()));
    }

    [Fact]
    public void Release_GivesBackTheRequestsHolds()
    {
        var provider = Simulated();
        provider.AnswerOffer(Offer(A.Request("r1")), A.Request("r1"));
        provider.Reserve(A.Request("r2"), A.Gpus(2), new Random(1));

        provider.Release(new RequestId("r1"), A.Gpus(3));
        Assert.Equal(3, provider.Free(A.Request()));

        provider.Release(new RequestId("r1"));
        Assert.Equal(8, provider.Free(A.Request()));
    }

    [Fact]
    public void Forget_KeepsTheCapacityTaken()
    {
        var provider = Simulated();
        provider.AnswerOffer(Offer(A.Request("r1")), A.Request("r1"));

        provider.Forget(new RequestId("r1"));
        provider.Release(new RequestId("r1"));

        Assert.Equal(2, provider.Free(A.Request()));
    }

    [Fact]
    public void FreeAt_RampedCapacity_GrowsLinearlyUntilTheRampEnds()
    {
        var ramp = A.Provider(A.Azure, capacity: 0) with { Capacity = [new CapacityChange("H100", "eastus", A.At(10), 100, RampUntil: A.At(20))] };
        var provider = Simulated(ramp);

        Assert.Equal(0, provider.FreeAt("H100", "eastus", A.At(9)));
        Assert.Equal(0, provider.FreeAt("H100", "eastus", A.At(10)));
        Assert.Equal(50, provider.FreeAt("H100", "eastus", A.At(15)));
        Assert.Equal(90, provider.FreeAt("H100", "eastus", A.At(19)));
        Assert.Equal(100, provider.FreeAt("H100", "eastus", A.At(20)));
        Assert.Equal(100, provider.FreeAt("H100", "eastus", A.At(200)));
    }

    [Fact]
    public void Free_RequestOverARamp_IsTheCapacityAtItsFirstHour()
    {
        var ramp = A.Provider(A.Azure, capacity: 0) with { Capacity = [new CapacityChange("H100", "eastus", A.At(0), 10), new CapacityChange("H100", "eastus", A.At(10), 20, RampUntil: A.At(30))] };
        var provider = Simulated(ramp);

        Assert.Equal(20, provider.Free(A.Request() with { EarliestStart = A.At(20), DurationHours = 20 }));
        Assert.Equal(10, provider.Free(A.Request() with { EarliestStart = A.At(0), DurationHours = 20 }));
    }

    [Fact]
    public void FreeAt_NegativeChange_RemovesCapacityFromItsInstant()
    {
        var shrinking = A.Provider(A.Azure, capacity: 0) with { Capacity = [new CapacityChange("H100", "eastus", A.At(0), 10), new CapacityChange("H100", "eastus", A.At(5), -4)] };
        var provider = Simulated(shrinking);

        Assert.Equal(10, provider.FreeAt("H100", "eastus", A.At(4)));
        Assert.Equal(6, provider.FreeAt("H100", "eastus", A.At(5)));
    }

    [Fact]
    public void Free_PicksTheRegionWithTheMostFreeAmongTheAllowed()
    {
        var twoRegions = A.Provider(A.Azure, capacity: 0) with
        {
            Regions = ["eastus", "westus"],
            Capacity = [new CapacityChange("H100", "eastus", A.T0, 4), new CapacityChange("H100", "westus", A.T0, 9)],
        };
        var provider = Simulated(twoRegions);

        Assert.Equal(9, provider.Free(A.Request()));
        Assert.Equal(4, provider.Free(A.Request() with { Regions = ["eastus"] }));
        Assert.Equal(0, provider.Free(A.Request() with { Accelerator = "H200" }));
    }

    [Fact]
    public void Answers_ReliabilityZero_NeverAnswers()
    {
        var provider = Simulated(A.Provider(A.Azure) with { Policy = AnswerPolicy.Prompt with { Reliability = 0.0 } });
        var random = new Random(42);

        Assert.All(Enumerable.Range(0, 1000), _ => Assert.False(provider.Answers(random)));
    }

    [Fact]
    public void Answers_ReliabilityOne_AlwaysAnswersWithoutDrawing()
    {
        var provider = Simulated();
        var random = new Random(42);
        var next = new Random(42).Next();

        Assert.True(provider.Answers(random));
        Assert.Equal(next, random.Next()); // no draw was consumed
    }

    [Fact]
    public void NextLatency_StaysWithinThePolicyBounds()
    {
        var provider = Simulated(A.Provider(A.Azure) with { Policy = AnswerPolicy.Prompt with { MinLatency = TimeSpan.FromMinutes(1), MaxLatency = TimeSpan.FromMinutes(3) } });
        var random = new Random(3);

        var latencies = Enumerable.Range(0, 500).Select(_ => provider.NextLatency(random)).ToArray();

        Assert.All(latencies, l => Assert.InRange(l, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3)));
        Assert.Contains(TimeSpan.FromMinutes(1), latencies);
        Assert.True(latencies.Distinct().Count() > 10);
    }
}
