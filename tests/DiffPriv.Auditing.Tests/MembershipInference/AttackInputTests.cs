using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Auditing.Tests.MembershipInference;

public sealed class AttackInputTests
{
    private static readonly double[][] TwoLogits = [[1, 0], [0, 1]];

    public static TheoryData<string, Func<AttackInput>> InvalidInputs => new()
    {
        { "MemberLosses is empty", () => new AttackInput { MemberLosses = [], NonMemberLosses = [1] } },
        { "NonMemberLosses is empty", () => new AttackInput { MemberLosses = [1], NonMemberLosses = [] } },
        { "MemberLosses[1] is NaN", () => new AttackInput { MemberLosses = [1, double.NaN], NonMemberLosses = [1] } },
        { "NonMemberLosses[0] is ∞", () => new AttackInput { MemberLosses = [1], NonMemberLosses = [double.PositiveInfinity] } },
        { "NonMemberLogits is given without MemberLogits", () => new AttackInput { MemberLosses = [1, 2], NonMemberLosses = [1, 2], NonMemberLogits = TwoLogits } },
        { "MemberLabels is given without NonMemberLabels", () => new AttackInput { MemberLosses = [1, 2], NonMemberLosses = [1, 2], MemberLabels = [0, 1] } },
        { "logits or probabilities, not both", () => new AttackInput { MemberLosses = [1, 2], NonMemberLosses = [1, 2], MemberLogits = TwoLogits, NonMemberLogits = TwoLogits, MemberProbabilities = TwoLogits, NonMemberProbabilities = TwoLogits } },
        { "MemberLogits has 2 rows but there are 3 losses", () => new AttackInput { MemberLosses = [1, 2, 3], NonMemberLosses = [1, 2], MemberLogits = TwoLogits, NonMemberLogits = TwoLogits } },
        { "NonMemberLogits[1] has 3 entries, expected 2", () => new AttackInput { MemberLosses = [1, 2], NonMemberLosses = [1, 2], MemberLogits = TwoLogits, NonMemberLogits = [[1, 0], [0, 1, 2]] } },
        { "at least 2 classes", () => new AttackInput { MemberLosses = [1], NonMemberLosses = [1], MemberLogits = [[1]], NonMemberLogits = [[1]] } },
        { "MemberLogits[0][1] is NaN", () => new AttackInput { MemberLosses = [1, 2], NonMemberLosses = [1, 2], MemberLogits = [[1, double.NaN], [0, 1]], NonMemberLogits = TwoLogits } },
        { "MemberProbabilities[0] sums to 1.5", () => new AttackInput { MemberLosses = [1], NonMemberLosses = [1], MemberProbabilities = [[0.5, 1]], NonMemberProbabilities = [[0.5, 0.5]] } },
        { "NonMemberProbabilities[0][0] = -0.5 is not a probability", () => new AttackInput { MemberLosses = [1], NonMemberLosses = [1], MemberProbabilities = [[0.5, 0.5]], NonMemberProbabilities = [[-0.5, 1.5]] } },
        { "NonMemberLabels has 1 entries but there are 2 losses", () => new AttackInput { MemberLosses = [1, 2], NonMemberLosses = [1, 2], MemberLabels = [0, 1], NonMemberLabels = [0] } },
        { "MemberLabels[1] = 2 is not a class index in [0, 1]", () => new AttackInput { MemberLosses = [1, 2], NonMemberLosses = [1, 2], MemberLogits = TwoLogits, NonMemberLogits = TwoLogits, MemberLabels = [0, 2], NonMemberLabels = [0, 1] } },
        { "MemberLabels[0] = -1 is not a class index ≥ 0", () => new AttackInput { MemberLosses = [1], NonMemberLosses = [1], MemberLabels = [-1], NonMemberLabels = [0] } },
    };

    [Theory]
    [MemberData(nameof(InvalidInputs))]
    public void InvalidInputIsRejectedWithAMessageNamingTheProblem(string expected, Func<AttackInput> create)
    {
        var input = create();
        var error = Assert.Throws<ArgumentException>(input.Validate);
        var message = error.Message.Replace("Infinity", "∞", StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        // The audit validates too, with the same message.
        Assert.Equal(error.Message, Assert.Throws<ArgumentException>(() => MembershipInferenceAudit.Run(input)).Message);
    }

    [Fact]
    public void ValidInputReportsItsShape()
    {
        var input = new AttackInput
        {
            MemberLosses = [0.1, 0.2],
            NonMemberLosses = [1.0],
            MemberProbabilities = [[0.9, 0.1], [0.8, 0.2]],
            NonMemberProbabilities = [[0.3, 0.7]],
            MemberLabels = [0, 0],
            NonMemberLabels = [0],
        };
        input.Validate();
        Assert.Equal((2, 1, 2, true, true), (input.MemberCount, input.NonMemberCount, input.ClassCount!.Value, input.HasPredictions, input.HasLabels));
    }
}
