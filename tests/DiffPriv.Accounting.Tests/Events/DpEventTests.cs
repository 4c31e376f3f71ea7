using System.Text.Json;
using DiffPriv.Accounting.Events;

namespace DiffPriv.Accounting.Tests.Events;

public sealed class DpEventTests
{
    public static TheoryData<DpEvent> Events() => EventCatalogue.AllTheoryData();

    [Theory]
    [MemberData(nameof(Events))]
    public void JsonRoundTripPreservesTheEvent(DpEvent dpEvent)
    {
        var json = DpEventJson.Serialize(dpEvent);
        var back = DpEventJson.Deserialize(json);
        Assert.Equal(dpEvent, back);
        Assert.Equal(dpEvent.GetHashCode(), back.GetHashCode());
        Assert.Equal(json, DpEventJson.Serialize(back));
    }

    [Fact]
    public void JsonHasATypeDiscriminatorAndSnakeCaseNames()
    {
        var json = DpEventJson.Serialize(new PoissonSampledDpEvent(0.5, new GaussianDpEvent(2.0)));
        Assert.Equal("""{"type":"poisson_sampled","sampling_probability":0.5,"event":{"type":"gaussian","noise_multiplier":2}}""", json);
    }

    [Theory]
    [InlineData("""{"type":"gaussian","noise_multiplier":-1}""")]
    [InlineData("""{"type":"poisson_sampled","sampling_probability":1.5,"event":{"type":"no_op"}}""")]
    [InlineData("""{"type":"self_composed","event":{"type":"no_op"},"count":-2}""")]
    [InlineData("""{"type":"sampled_without_replacement","source_dataset_size":10,"sample_size":11,"event":{"type":"no_op"}}""")]
    public void JsonWithInvalidParametersIsRejected(string json)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DpEventJson.Deserialize(json));
    }

    [Theory]
    [InlineData("""{"type":"quantum","noise_multiplier":1}""")]
    [InlineData("null")]
    [InlineData("{")]
    public void MalformedJsonIsRejected(string json)
    {
        Assert.ThrowsAny<JsonException>(() => DpEventJson.Deserialize(json));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void NoiseMultiplierMustBeFiniteAndNonNegative(double sigma)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianDpEvent(sigma));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LaplaceDpEvent(sigma));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    public void SamplingProbabilityMustBeInUnitInterval(double q)
    {
        // dp_accounting rejects sampling rates -0.1 and 1.1 (google/differential-privacy @
        // b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant_test.py,
        // test_raises_on_invalid_sampling_rate).
        Assert.Throws<ArgumentOutOfRangeException>(() => new PoissonSampledDpEvent(q, new GaussianDpEvent(1.0)));
    }

    [Fact]
    public void SampledWithoutReplacementValidatesSizes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SampledWithoutReplacementDpEvent(-1, 0, new NoOpDpEvent()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SampledWithoutReplacementDpEvent(10, 11, new NoOpDpEvent()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SampledWithoutReplacementDpEvent(10, -1, new NoOpDpEvent()));
    }

    [Fact]
    public void NullChildrenAreRejected()
    {
        Assert.Throws<ArgumentNullException>(() => new PoissonSampledDpEvent(0.1, null!));
        Assert.Throws<ArgumentNullException>(() => new SelfComposedDpEvent(null!, 1));
        Assert.Throws<ArgumentNullException>(() => new ComposedDpEvent([new NoOpDpEvent(), null!]));
    }

    [Fact]
    public void EqualityIsStructural()
    {
        Assert.Equal(new ComposedDpEvent([new GaussianDpEvent(1.0)]), new ComposedDpEvent([new GaussianDpEvent(1.0)]));
        Assert.NotEqual(new ComposedDpEvent([new GaussianDpEvent(1.0)]), new ComposedDpEvent([new GaussianDpEvent(2.0)]));
        Assert.NotEqual<DpEvent>(new GaussianDpEvent(1.0), new LaplaceDpEvent(1.0));
    }
}
