using DiffPriv.Auditing.SecretSharer;

namespace DiffPriv.Auditing.Tests.SecretSharer;

public sealed class CanaryPlanTests
{
    private static readonly CanaryPlanOptions Pins = new()
    {
        Format = "my pin is {d}{d}{d}{d}{d}{d}",
        Repetitions = [1, 2, 4, 8, 16, 32],
        CanariesPerRepetition = 5,
        References = 4096,
    };

    [Fact]
    public void FormatParsesDigitAndLetterSlotsAndLiteralBraces()
    {
        var pin = new CanaryFormat("my pin is {d}{d}{d}{d}{d}{d}");
        Assert.Equal(6, pin.SlotCount);
        Assert.Equal(1e6, pin.SpaceSize);
        Assert.Equal(Math.Log2(1e6), pin.Log2SpaceSize, 1e-12);
        Assert.Equal(16, pin.SecretLength);
        Assert.Equal("my pin is 000042", pin.FromIndex(42));
        Assert.True(pin.Matches("my pin is 123456"));
        Assert.False(pin.Matches("my pin is 12345a"));
        Assert.False(pin.Matches("my pin is 1234567"));

        var mixed = new CanaryFormat("{{code}} {l}{d}-{l}");
        Assert.Equal(26 * 10 * 26, mixed.SpaceSize);
        Assert.Equal("{code} a0-b", mixed.FromIndex(1));
        Assert.Equal("{code} z9-z", mixed.FromIndex((26 * 10 * 26) - 1));
        Assert.True(mixed.Matches("{code} q7-x"));
        Assert.False(mixed.Matches("{code} 77-x"));

        Assert.Throws<ArgumentException>(() => new CanaryFormat("no slots"));
        Assert.Throws<ArgumentException>(() => new CanaryFormat("bad {x} slot"));
        Assert.Throws<ArgumentException>(() => new CanaryFormat("open {d"));
    }

    [Fact]
    public void SampleIsUniformOverEachSlot()
    {
        // 60 000 single-digit secrets: each digit 6 000 ± 4σ (σ = √(60000·0.1·0.9) ≈ 73).
        var format = new CanaryFormat("x{d}");
#pragma warning disable CA5394
        var random = new Random(1);
#pragma warning restore CA5394
        var counts = new int[10];
        for (var i = 0; i < 60_000; i++)
        {
            counts[format.Sample(random.Next)[1] - '0']++;
        }

        Assert.All(counts, c => Assert.InRange(c, 6000 - 294, 6000 + 294));
    }

    [Fact]
    public void PlanIsDeterministicForASeed()
    {
        var a = CanaryPlan.Create(Pins, seed: 42);
        var b = CanaryPlan.Create(Pins, seed: 42);
        var c = CanaryPlan.Create(Pins, seed: 43);
        Assert.Equal(a.Canaries, b.Canaries);
        Assert.Equal(a.References, b.References);
        Assert.NotEqual(a.Canaries.Select(x => x.Secret), c.Canaries.Select(x => x.Secret));
    }

    [Fact]
    public void CanariesAndReferencesAreDistinctDisjointAndOfTheFormat()
    {
        var plan = CanaryPlan.Create(Pins, seed: 7);
        Assert.Equal(30, plan.Canaries.Count);
        Assert.Equal(4096, plan.References.Count);
        Assert.Equal([1, 2, 4, 8, 16, 32], plan.Canaries.Select(c => c.Repetitions).Distinct());
        Assert.All(Pins.Repetitions, r => Assert.Equal(5, plan.Canaries.Count(c => c.Repetitions == r)));
        var all = plan.Canaries.Select(c => c.Secret).Concat(plan.References).ToList();
        Assert.Equal(all.Count, all.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(plan.Canaries.Select(c => c.Secret).Intersect(plan.References, StringComparer.Ordinal));
        Assert.All(all, s => Assert.True(plan.Format.Matches(s), s));
        Assert.Equal(5 * (1 + 2 + 4 + 8 + 16 + 32), plan.TotalInsertions);
    }

    [Fact]
    public void DensePlansDrawWithoutReplacementFromTheWholeSpace()
    {
        // 100 secrets, 96 requested: the dense branch (partial Fisher–Yates over the space).
        var options = new CanaryPlanOptions { Format = "{d}{d}", Repetitions = [1, 3], CanariesPerRepetition = 3, References = 90 };
        var plan = CanaryPlan.Create(options, seed: 5);
        var all = plan.Canaries.Select(c => c.Secret).Concat(plan.References).ToList();
        Assert.Equal(96, all.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(plan.References, CanaryPlan.Create(options, seed: 5).References);

        // More than the space holds: a clear error.
        Assert.Throws<ArgumentException>(() => CanaryPlan.Create(options with { References = 95 }, seed: 5));
    }

    [Fact]
    public void CanariesHaveDistinctLeadingDigitsAndNoReferenceStartsLikeACanary()
    {
        // 30 canaries: the first 2 digits (100 values ≥ 2 × 30) are kept apart; 1 digit (10) would not be enough.
        var plan = CanaryPlan.Create(Pins, seed: 11);
        Assert.Equal(2, Pins.PrefixSlots(plan.Format));
        var canaryPrefixes = plan.Canaries.Select(c => c.Secret[10..12]).ToList();
        Assert.Equal(30, canaryPrefixes.Distinct(StringComparer.Ordinal).Count());
        Assert.DoesNotContain(plan.References, r => canaryPrefixes.Contains(r[10..12]));
        Assert.All(
            Enumerable.Range(0, 20),
            seed => Assert.Equal(30, CanaryPlan.Create(Pins with { References = 16 }, seed).Canaries.Select(c => c.Secret[10..12]).Distinct(StringComparer.Ordinal).Count()));

        // The references spread evenly over the 70 allowed prefixes: 4096 / 70 ≈ 58.5 each (σ ≈ 7.6; ±4σ).
        var perPrefix = plan.References.GroupBy(r => r[10..12], StringComparer.Ordinal).ToList();
        Assert.Equal(70, perPrefix.Count);
        Assert.All(perPrefix, g => Assert.InRange(g.Count(), 28, 89));

        // Without the separation, prefixes are not constrained: 30 canaries share a 2-digit prefix with probability
        // ≈ 1 − e^(−30·29/200) ≈ 99%.
        var plain = Pins with { SeparatePrefixes = false };
        Assert.Equal(6, plain.PrefixSlots(plan.Format));
        Assert.Contains(
            Enumerable.Range(0, 5),
            seed => CanaryPlan.Create(plain with { References = 16 }, seed).Canaries.Select(c => c.Secret[10..12]).Distinct(StringComparer.Ordinal).Count() < 30);
    }

    [Fact]
    public void SeparatedPlansInASmallSpaceDrawTheAllowedReferencesWithoutReplacement()
    {
        // "{d}{d}{d}{d}" with 25 canaries: 2 leading digits kept apart (100 ≥ 2 × 25), leaving 10 000 − 25·100 = 7500
        // allowed references; 7000 requested takes the dense branch, 7501 is refused with the reason.
        var options = new CanaryPlanOptions { Format = "{d}{d}{d}{d}", Repetitions = [1, 2, 3, 4, 5], CanariesPerRepetition = 5, References = 7000 };
        var plan = CanaryPlan.Create(options, seed: 3);
        var canaryPrefixes = plan.Canaries.Select(c => c.Secret[..2]).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(25, canaryPrefixes.Count);
        Assert.Equal(7000, plan.References.Distinct(StringComparer.Ordinal).Count());
        Assert.DoesNotContain(plan.References, r => canaryPrefixes.Contains(r[..2]));
        Assert.Equal(7500, options.AvailableReferences(plan.Format));
        var error = Assert.Throws<ArgumentException>(() => CanaryPlan.Create(options with { References = 7501 }, seed: 3));
        Assert.Contains("start like no canary", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OptionsAreValidated()
    {
        Assert.Throws<ArgumentException>(() => (Pins with { Repetitions = [] }).Validate());
        Assert.Throws<ArgumentException>(() => (Pins with { Repetitions = [1, 1] }).Validate());
        Assert.Throws<ArgumentException>(() => (Pins with { Repetitions = [0, 2] }).Validate());
        Assert.Throws<ArgumentException>(() => (Pins with { CanariesPerRepetition = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (Pins with { References = 2 }).Validate());
        Assert.Throws<ArgumentException>(() => (Pins with { Format = "{q}" }).Validate());
        Assert.Throws<InvalidOperationException>(() => CanaryPlan.Create(Pins, _ => -1));
    }

    [Fact]
    public void InsertionAddsEachCanaryExactlyRTimesAndKeepsTheOriginalsInOrder()
    {
        var plan = CanaryPlan.Create(Pins with { References = 16 }, seed: 1);
        var training = Enumerable.Range(0, 5000).Select(i => $"sentence {i}").ToList();
        var result = plan.InsertInto(training, seed: 99);

        Assert.Same(plan, result.Plan);
        Assert.Equal(training.Count + plan.TotalInsertions, result.Sequences.Count);
        for (var i = 0; i < plan.Canaries.Count; i++)
        {
            var canary = plan.Canaries[i];
            Assert.Equal(canary.Repetitions, result.Sequences.Count(s => s == canary.Secret));
            Assert.Equal(canary.Repetitions, result.Positions[i].Count);
            Assert.All(result.Positions[i], p => Assert.Equal(canary.Secret, result.Sequences[p]));
            Assert.Equal(result.Positions[i].Order(), result.Positions[i]);
        }

        Assert.Equal(training, result.Sequences.Where(s => s.StartsWith("sentence ", StringComparison.Ordinal)));
        Assert.DoesNotContain(result.Sequences, s => plan.References.Contains(s));

        // Deterministic per seed, different across seeds.
        Assert.Equal(result.Sequences, plan.InsertInto(training, seed: 99).Sequences);
        Assert.NotEqual(result.Positions[^1], plan.InsertInto(training, seed: 100).Positions[^1]);
    }

    [Fact]
    public void InsertionPositionsAreSpreadOverTheWholeList()
    {
        // 315 copies among 315 + 20 000 positions: the mean position is near the middle (σ of the mean ≈ 5864/√315 ≈ 330).
        var plan = CanaryPlan.Create(Pins with { References = 16 }, seed: 2);
        var training = Enumerable.Range(0, 20_000).Select(i => i.ToString()).ToList();
        var result = plan.InsertInto(training, seed: 3);
        var positions = result.Positions.SelectMany(p => p).ToArray();
        Assert.Equal(315, positions.Distinct().Count());
        var middle = (result.Sequences.Count - 1) / 2.0;
        Assert.InRange(positions.Average(), middle - 1400, middle + 1400);
        // No copy in the first or last 1 000 positions would have probability (1 − 1000/20315)^315 ≈ 1e-7.
        Assert.True(positions.Min() < 1000 && positions.Max() > result.Sequences.Count - 1000);
    }

    [Fact]
    public void InsertionIntoAnEmptyListGivesOnlyCanaries()
    {
        var plan = CanaryPlan.Create(Pins with { Repetitions = [1, 2], CanariesPerRepetition = 1, References = 3 }, seed: 4);
        var result = plan.InsertInto([], seed: 0);
        Assert.Equal(3, result.Sequences.Count);
        Assert.Equal(2, result.Sequences.Count(s => s == plan.Canaries[1].Secret));
    }
}
