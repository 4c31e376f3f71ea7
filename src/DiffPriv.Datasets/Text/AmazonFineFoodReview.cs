namespace DiffPriv.Datasets.Text;

/// <summary>One labelled review of the Amazon fine-food reviews (<see cref="AmazonFineFoodReviews"/>).</summary>
/// <param name="Text">The review as the R data hold it (column <c>review</c>): original case and punctuation, HTML line
/// breaks (<c>&lt;br /&gt;</c>) and links included; never contains a line break.</param>
/// <param name="Label">The class as the data spell it (column <c>score</c>): <c>great</c> (a 5-star rating) or
/// <c>other</c> (1 to 4 stars); see <see cref="AmazonFineFoodReviews.Labels"/>.</param>
public sealed record AmazonFineFoodReview(string Text, string Label);
