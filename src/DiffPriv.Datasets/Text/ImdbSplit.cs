namespace DiffPriv.Datasets.Text;

/// <summary>The IMDB reviews split into train and test (<see cref="ImdbReviews.Split"/>).</summary>
/// <param name="Train">The training reviews, labels mixed in a seeded random order.</param>
/// <param name="Test">The test reviews, likewise.</param>
public sealed record ImdbSplit(IReadOnlyList<ImdbReview> Train, IReadOnlyList<ImdbReview> Test)
{
    /// <summary>
    /// Test reviews whose exact text is also a training review's (the IMDB data hold a few hundred repeated reviews):
    /// worth knowing before a membership-inference audit counts them as non-members.
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
