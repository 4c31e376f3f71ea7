namespace DiffPriv.Datasets.Text;

/// <summary>One labelled movie review of the IMDB data set.</summary>
/// <param name="Text">The review as in the file: original case and punctuation, HTML line breaks (<c>&lt;br /&gt;</c>) included.</param>
/// <param name="Label">Its sentiment.</param>
public sealed record ImdbReview(string Text, Sentiment Label);
