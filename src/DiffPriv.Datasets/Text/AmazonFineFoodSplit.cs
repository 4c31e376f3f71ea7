namespace DiffPriv.Datasets.Text;

/// <summary>The Amazon fine-food reviews in the split the R package gives (<see cref="AmazonFineFoodReviews.Load"/>).</summary>
/// <param name="Train">The training reviews (R object <c>training_data</c>), in the package's order.</param>
/// <param name="Test">The test reviews (R object <c>testing_data</c>), in the package's order.</param>
public sealed record AmazonFineFoodSplit(IReadOnlyList<AmazonFineFoodReview> Train, IReadOnlyList<AmazonFineFoodReview> Test)
{
    /// <summary>
    /// Test reviews whose exact text is also a training review's (7 in the package's split): worth knowing before a
    /// membership-inference audit counts them as non-members.
    /// </summary>
    public int TestAlsoInTrain
    {
        get
        {
            var train = Train.Select(r => r.Text).ToHashSet(StringComparer.Ordinal);
            return Test.Count(r => train.Contains(r.Text));
        }
    }
}
