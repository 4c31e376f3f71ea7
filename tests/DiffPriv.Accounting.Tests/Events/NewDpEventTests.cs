using System.Text.Json;
using DiffPriv.Accounting.Events;

namespace DiffPriv.Accounting.Tests.Events;

/// <summary>
/// The events added for dp_accounting parity: their JSON names (dp_accounting's attribute names in snake case, under
/// the type strings of issue 18) and their validation. The ranges follow what dp_accounting's accountants accept
/// (google/differential-privacy @ b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting/dp_accounting/
/// dp_event.py, rdp/rdp_privacy_accountant.py, pld/pld_privacy_accountant.py, pld/privacy_loss_mechanism.py).
/// </summary>
public sealed class NewDpEventTests
{
    [Theory]
    [InlineData("""{"type":"single_epoch_tree_aggregation","noise_multiplier":1.5,"step_counts":[100,100,37]}""")]
    [InlineData("""{"type":"repeat_and_select","event":{"type":"gaussian","noise_multiplier":1},"mean":10,"shape":"Infinity"}""")]
    [InlineData("""{"type":"repeat_and_select","event":{"type":"no_op"},"mean":2.5,"shape":0.5}""")]
    [InlineData("""{"type":"truncated_subsampled_gaussian","dataset_size":60000,"sampling_probability":0.004,"truncated_batch_size":300,"noise_multiplier":1.1}""")]
    [InlineData("""{"type":"mixture_of_gaussians","standard_deviation":1,"sensitivities":[0,1,2],"sampling_probs":[0.5,0.25,0.25]}""")]
    [InlineData("""{"type":"zcdp","rho":0.5,"xi":0.25}""")]
    [InlineData("""{"type":"discrete_gaussian","sigma":3,"sensitivity":1,"dimension":null}""")]
    [InlineData("""{"type":"discrete_gaussian","sigma":3,"sensitivity":2,"dimension":5}""")]
    [InlineData("""{"type":"discrete_laplace","noise_parameter":0.5,"sensitivity":2}""")]
    [InlineData("""{"type":"randomized_response","noise_parameter":0.5,"num_buckets":10}""")]
    [InlineData("""{"type":"epsilon_delta","epsilon":1,"delta":0.001}""")]
    [InlineData("""{"type":"epsilon_delta","epsilon":"Infinity","delta":0}""")]
    [InlineData("""{"type":"exponential_mechanism","epsilon":0.7}""")]
    [InlineData("""{"type":"permute_and_flip","epsilon":0.7}""")]
    [InlineData("""{"type":"sampled_with_replacement","source_dataset_size":1000,"sample_size":10,"event":{"type":"gaussian","noise_multiplier":2}}""")]
    public void JsonUsesDpAccountingNames(string json)
    {
        var parsed = DpEventJson.Deserialize(json);
        Assert.Equal(json, DpEventJson.Serialize(parsed));
    }

    [Fact]
    public void JsonNamesMatchTheConstructedEvents()
    {
        Assert.Equal(
            new SingleEpochTreeAggregationDpEvent(1.5, [100, 100, 37]),
            DpEventJson.Deserialize("""{"type":"single_epoch_tree_aggregation","noise_multiplier":1.5,"step_counts":[100,100,37]}"""));
        Assert.Equal(
            new RepeatAndSelectDpEvent(new GaussianDpEvent(1), 10, double.PositiveInfinity),
            DpEventJson.Deserialize("""{"type":"repeat_and_select","event":{"type":"gaussian","noise_multiplier":1},"mean":10,"shape":"Infinity"}"""));
        Assert.Equal(
            new TruncatedSubsampledGaussianDpEvent(60000, 0.004, 300, 1.1),
            DpEventJson.Deserialize("""{"type":"truncated_subsampled_gaussian","dataset_size":60000,"sampling_probability":0.004,"truncated_batch_size":300,"noise_multiplier":1.1}"""));
        Assert.Equal(
            new MixtureOfGaussiansDpEvent(1, [0, 1, 2], [0.5, 0.25, 0.25]),
            DpEventJson.Deserialize("""{"type":"mixture_of_gaussians","standard_deviation":1,"sensitivities":[0,1,2],"sampling_probs":[0.5,0.25,0.25]}"""));
        Assert.Equal(new ZcdpDpEvent(0.5, 0.25), DpEventJson.Deserialize("""{"type":"zcdp","rho":0.5,"xi":0.25}"""));
        Assert.Equal(new DiscreteGaussianDpEvent(3, 2, 5), DpEventJson.Deserialize("""{"type":"discrete_gaussian","sigma":3,"sensitivity":2,"dimension":5}"""));
        Assert.Equal(new DiscreteLaplaceDpEvent(0.5, 2), DpEventJson.Deserialize("""{"type":"discrete_laplace","noise_parameter":0.5,"sensitivity":2}"""));
        Assert.Equal(new RandomizedResponseDpEvent(0.5, 10), DpEventJson.Deserialize("""{"type":"randomized_response","noise_parameter":0.5,"num_buckets":10}"""));
        Assert.Equal(new EpsilonDeltaDpEvent(1, 0.001), DpEventJson.Deserialize("""{"type":"epsilon_delta","epsilon":1,"delta":0.001}"""));
        Assert.Equal(new ExponentialMechanismDpEvent(0.7), DpEventJson.Deserialize("""{"type":"exponential_mechanism","epsilon":0.7}"""));
        Assert.Equal(new PermuteAndFlipDpEvent(0.7), DpEventJson.Deserialize("""{"type":"permute_and_flip","epsilon":0.7}"""));
        Assert.Equal(
            new SampledWithReplacementDpEvent(1000, 10, new GaussianDpEvent(2)),
            DpEventJson.Deserialize("""{"type":"sampled_with_replacement","source_dataset_size":1000,"sample_size":10,"event":{"type":"gaussian","noise_multiplier":2}}"""));
    }

    [Fact]
    public void OptionalPropertiesTakeDpAccountingDefaults()
    {
        // dp_event.py: ZCDpEvent.xi = 0.0; DiscreteGaussianDpEvent.sensitivity = 1.0, dimension = None.
        Assert.Equal(new ZcdpDpEvent(0.5, 0), DpEventJson.Deserialize("""{"type":"zcdp","rho":0.5}"""));
        Assert.Equal(new DiscreteGaussianDpEvent(3, 1, null), DpEventJson.Deserialize("""{"type":"discrete_gaussian","sigma":3}"""));
    }

    [Fact]
    public void ScalarStepCountsAreOneTree()
    {
        // dp_event.py: SingleEpochTreeAggregationDpEvent.step_counts "may be a scalar for a single tree".
        var parsed = DpEventJson.Deserialize("""{"type":"single_epoch_tree_aggregation","noise_multiplier":1,"step_counts":7}""");
        Assert.Equal(new SingleEpochTreeAggregationDpEvent(1, [7]), parsed);
        Assert.Equal("""{"type":"single_epoch_tree_aggregation","noise_multiplier":1,"step_counts":[7]}""", DpEventJson.Serialize(parsed));
    }

    [Fact]
    public void InfinityIsAcceptedWhereDpAccountingAllowsIt()
    {
        Assert.Equal(double.PositiveInfinity, ((RepeatAndSelectDpEvent)DpEventJson.Deserialize("""{"type":"repeat_and_select","event":{"type":"no_op"},"mean":3,"shape":"Infinity"}""")).Shape);
        Assert.Equal(double.PositiveInfinity, ((EpsilonDeltaDpEvent)DpEventJson.Deserialize("""{"type":"epsilon_delta","epsilon":"Infinity","delta":0.5}""")).Epsilon);
        Assert.Equal(double.PositiveInfinity, ((ExponentialMechanismDpEvent)DpEventJson.Deserialize("""{"type":"exponential_mechanism","epsilon":"Infinity"}""")).Epsilon);
        Assert.Equal(double.PositiveInfinity, ((PermuteAndFlipDpEvent)DpEventJson.Deserialize("""{"type":"permute_and_flip","epsilon":"Infinity"}""")).Epsilon);
        Assert.Equal(double.PositiveInfinity, ((ZcdpDpEvent)DpEventJson.Deserialize("""{"type":"zcdp","rho":"Infinity","xi":"Infinity"}""")).Rho);
    }

    [Theory]
    [InlineData("""{"type":"single_epoch_tree_aggregation","noise_multiplier":-1,"step_counts":[1]}""")]
    [InlineData("""{"type":"single_epoch_tree_aggregation","noise_multiplier":"Infinity","step_counts":[1]}""")]
    [InlineData("""{"type":"single_epoch_tree_aggregation","noise_multiplier":1,"step_counts":[3,-1]}""")]
    [InlineData("""{"type":"repeat_and_select","event":{"type":"no_op"},"mean":0.5,"shape":1}""")]
    [InlineData("""{"type":"repeat_and_select","event":{"type":"no_op"},"mean":"Infinity","shape":1}""")]
    [InlineData("""{"type":"repeat_and_select","event":{"type":"no_op"},"mean":2,"shape":-1}""")]
    [InlineData("""{"type":"repeat_and_select","event":{"type":"no_op"},"mean":2,"shape":"-Infinity"}""")]
    [InlineData("""{"type":"repeat_and_select","event":{"type":"no_op"},"mean":2,"shape":"NaN"}""")]
    [InlineData("""{"type":"truncated_subsampled_gaussian","dataset_size":-1,"sampling_probability":0.1,"truncated_batch_size":3,"noise_multiplier":1}""")]
    [InlineData("""{"type":"truncated_subsampled_gaussian","dataset_size":10,"sampling_probability":1.1,"truncated_batch_size":3,"noise_multiplier":1}""")]
    [InlineData("""{"type":"truncated_subsampled_gaussian","dataset_size":10,"sampling_probability":0.1,"truncated_batch_size":-3,"noise_multiplier":1}""")]
    [InlineData("""{"type":"truncated_subsampled_gaussian","dataset_size":10,"sampling_probability":0.1,"truncated_batch_size":3,"noise_multiplier":-1}""")]
    [InlineData("""{"type":"mixture_of_gaussians","standard_deviation":-1,"sensitivities":[1],"sampling_probs":[1]}""")]
    [InlineData("""{"type":"mixture_of_gaussians","standard_deviation":1,"sensitivities":[-1,1],"sampling_probs":[0.5,0.5]}""")]
    [InlineData("""{"type":"mixture_of_gaussians","standard_deviation":1,"sensitivities":[0,1],"sampling_probs":[0.5,0.6]}""")]
    [InlineData("""{"type":"mixture_of_gaussians","standard_deviation":1,"sensitivities":[0,1],"sampling_probs":[-0.5,1.5]}""")]
    [InlineData("""{"type":"zcdp","rho":-0.1}""")]
    [InlineData("""{"type":"zcdp","rho":0.1,"xi":-0.1}""")]
    [InlineData("""{"type":"zcdp","rho":"NaN"}""")]
    [InlineData("""{"type":"discrete_gaussian","sigma":-1}""")]
    [InlineData("""{"type":"discrete_gaussian","sigma":1,"sensitivity":0}""")]
    [InlineData("""{"type":"discrete_gaussian","sigma":1,"dimension":0}""")]
    [InlineData("""{"type":"discrete_laplace","noise_parameter":-0.5,"sensitivity":1}""")]
    [InlineData("""{"type":"discrete_laplace","noise_parameter":0.5,"sensitivity":0}""")]
    [InlineData("""{"type":"randomized_response","noise_parameter":1.5,"num_buckets":2}""")]
    [InlineData("""{"type":"randomized_response","noise_parameter":0.5,"num_buckets":0}""")]
    [InlineData("""{"type":"epsilon_delta","epsilon":-1,"delta":0}""")]
    [InlineData("""{"type":"epsilon_delta","epsilon":1,"delta":1.5}""")]
    [InlineData("""{"type":"exponential_mechanism","epsilon":-0.1}""")]
    [InlineData("""{"type":"exponential_mechanism","epsilon":"NaN"}""")]
    [InlineData("""{"type":"permute_and_flip","epsilon":-0.1}""")]
    [InlineData("""{"type":"sampled_with_replacement","source_dataset_size":-1,"sample_size":0,"event":{"type":"no_op"}}""")]
    [InlineData("""{"type":"sampled_with_replacement","source_dataset_size":10,"sample_size":-1,"event":{"type":"no_op"}}""")]
    [InlineData("""{"type":"sampled_with_replacement","source_dataset_size":0,"sample_size":1,"event":{"type":"no_op"}}""")]
    public void JsonWithOutOfRangeParametersIsRejected(string json)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DpEventJson.Deserialize(json));
    }

    [Theory]
    [InlineData("""{"type":"single_epoch_tree_aggregation","noise_multiplier":1,"step_counts":[]}""")]
    [InlineData("""{"type":"mixture_of_gaussians","standard_deviation":1,"sensitivities":[0,1],"sampling_probs":[1]}""")]
    [InlineData("""{"type":"mixture_of_gaussians","standard_deviation":1,"sensitivities":[],"sampling_probs":[]}""")]
    public void JsonWithMalformedListsIsRejected(string json)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => DpEventJson.Deserialize(json));
        Assert.IsNotType<ArgumentOutOfRangeException>(ex);
    }

    [Theory]
    [InlineData("""{"type":"single_epoch_tree_aggregation","noise_multiplier":1,"step_counts":[1.5]}""")]
    [InlineData("""{"type":"single_epoch_tree_aggregation","noise_multiplier":1,"step_counts":"many"}""")]
    [InlineData("""{"type":"randomized_response","noise_parameter":0.5,"num_buckets":2.5}""")]
    [InlineData("""{"type":"discrete_laplace","noise_parameter":0.5,"sensitivity":"Infinity"}""")]
    public void JsonWithWrongValueKindsIsRejected(string json)
    {
        Assert.ThrowsAny<JsonException>(() => DpEventJson.Deserialize(json));
    }

    [Fact]
    public void ListValuedEventsAreEqualByContent()
    {
        long[] steps = [5, 6];
        var tree = new SingleEpochTreeAggregationDpEvent(1.0, steps);
        steps[0] = 99; // the event copied the list
        Assert.Equal(new SingleEpochTreeAggregationDpEvent(1.0, [5, 6]), tree);
        Assert.Equal(new SingleEpochTreeAggregationDpEvent(1.0, [5, 6]).GetHashCode(), tree.GetHashCode());
        Assert.NotEqual(new SingleEpochTreeAggregationDpEvent(1.0, [5, 7]), tree);
        Assert.NotEqual(new SingleEpochTreeAggregationDpEvent(1.1, [5, 6]), tree);

        double[] probs = [0.5, 0.5];
        var mixture = new MixtureOfGaussiansDpEvent(2.0, [0.0, 1.0], probs);
        probs[0] = 0.0;
        Assert.Equal(new MixtureOfGaussiansDpEvent(2.0, [0.0, 1.0], [0.5, 0.5]), mixture);
        Assert.Equal(new MixtureOfGaussiansDpEvent(2.0, [0.0, 1.0], [0.5, 0.5]).GetHashCode(), mixture.GetHashCode());
        Assert.NotEqual(new MixtureOfGaussiansDpEvent(2.0, [0.0, 2.0], [0.5, 0.5]), mixture);
        Assert.NotEqual(new MixtureOfGaussiansDpEvent(2.0, [0.0, 1.0], [0.25, 0.75]), mixture);
        Assert.NotEqual(new MixtureOfGaussiansDpEvent(3.0, [0.0, 1.0], [0.5, 0.5]), mixture);
    }

    [Fact]
    public void ListValuedEventsPrintTheirContents()
    {
        Assert.Equal("SingleEpochTreeAggregationDpEvent { NoiseMultiplier = 1.5, StepCounts = [5, 6] }", new SingleEpochTreeAggregationDpEvent(1.5, [5, 6]).ToString());
        Assert.Equal(
            "MixtureOfGaussiansDpEvent { StandardDeviation = 2, Sensitivities = [0, 1], SamplingProbs = [0.25, 0.75] }",
            new MixtureOfGaussiansDpEvent(2, [0, 1], [0.25, 0.75]).ToString());
    }

    [Fact]
    public void NestedEventsMustNotBeNull()
    {
        Assert.Throws<ArgumentNullException>(() => new RepeatAndSelectDpEvent(null!, 2, 1));
        Assert.Throws<ArgumentNullException>(() => new SampledWithReplacementDpEvent(10, 1, null!));
        Assert.Throws<ArgumentNullException>(() => new SingleEpochTreeAggregationDpEvent(1, null!));
        Assert.Throws<ArgumentNullException>(() => new MixtureOfGaussiansDpEvent(1, null!, [1]));
        Assert.Throws<ArgumentNullException>(() => new MixtureOfGaussiansDpEvent(1, [1], null!));
    }

    [Fact]
    public void BoundaryValuesAreAccepted()
    {
        // Values at the edges of the valid ranges, which dp_accounting's accountants treat specially (no-ops or ∞).
        _ = new SingleEpochTreeAggregationDpEvent(0, [0]);
        _ = new RepeatAndSelectDpEvent(new NoOpDpEvent(), 1, 0);
        _ = new TruncatedSubsampledGaussianDpEvent(0, 0, 0, 0);
        _ = new TruncatedSubsampledGaussianDpEvent(10, 1, 20, 0.5);
        _ = new MixtureOfGaussiansDpEvent(0, [0], [1]);
        _ = new MixtureOfGaussiansDpEvent(1, [1, 2], [0, 1]);
        _ = new ZcdpDpEvent(0, 0);
        _ = new DiscreteGaussianDpEvent(0, 0.5, 1);
        _ = new DiscreteLaplaceDpEvent(0, 1);
        _ = new RandomizedResponseDpEvent(0, 1);
        _ = new RandomizedResponseDpEvent(1, 2);
        _ = new EpsilonDeltaDpEvent(0, 1);
        _ = new ExponentialMechanismDpEvent(0);
        _ = new PermuteAndFlipDpEvent(double.PositiveInfinity);
        _ = new SampledWithReplacementDpEvent(3, 10, new NoOpDpEvent());
        _ = new SampledWithReplacementDpEvent(0, 0, new NoOpDpEvent());
    }

    [Fact]
    public void NoiseParametersMustBeFinite()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SingleEpochTreeAggregationDpEvent(double.PositiveInfinity, [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TruncatedSubsampledGaussianDpEvent(10, 0.1, 3, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MixtureOfGaussiansDpEvent(double.PositiveInfinity, [1], [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MixtureOfGaussiansDpEvent(1, [double.PositiveInfinity], [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiscreteGaussianDpEvent(double.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiscreteGaussianDpEvent(1, double.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiscreteLaplaceDpEvent(double.PositiveInfinity, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomizedResponseDpEvent(double.NaN, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EpsilonDeltaDpEvent(double.NaN, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EpsilonDeltaDpEvent(1, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PermuteAndFlipDpEvent(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepeatAndSelectDpEvent(new NoOpDpEvent(), double.NaN, 1));
    }

    [Theory]
    [InlineData("""{"type":"gaussian"}""")]
    [InlineData("""{"type":"gaussian","noise_multipler":1.1}""")]
    [InlineData("""{"type":"sampled_without_replacement","source_dataset_size":60000,"event":{"type":"gaussian","noise_multiplier":1}}""")]
    [InlineData("""{"type":"poisson_sampled","sampling_probability":0.01}""")]
    [InlineData("""{"type":"single_epoch_tree_aggregation","noise_multiplier":1}""")]
    [InlineData("""{"type":"zcdp","rho":0.5,"xi":0,"extra":1}""")]
    [InlineData("""{"noise_multiplier":1}""")]
    public void MissingOrUnknownPropertiesAreErrorsNotDefaults(string json)
    {
        // A typo must not turn into a default: a missing sample_size would otherwise read as 0 and cost nothing.
        Assert.ThrowsAny<Exception>(() => DpEventJson.Deserialize(json));
        var ex = Record.Exception(() => DpEventJson.Deserialize(json));
        Assert.True(ex is JsonException or NotSupportedException, ex?.GetType().Name);
    }

    [Fact]
    public void TypeNeedNotComeFirst()
    {
        Assert.Equal(
            new SelfComposedDpEvent(new GaussianDpEvent(2), 3),
            DpEventJson.Deserialize("""{"count":3,"event":{"noise_multiplier":2,"type":"gaussian"},"type":"self_composed"}"""));
    }
}
