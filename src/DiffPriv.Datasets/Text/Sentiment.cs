namespace DiffPriv.Datasets.Text;

/// <summary>The label of a movie review; the values are those of the IMDB file (<c>"s": 0</c> or <c>1</c>).</summary>
public enum Sentiment
{
    /// <summary>A negative review (a rating of at most 4 out of 10 in Maas et al.'s data).</summary>
    Negative = 0,

    /// <summary>A positive review (a rating of at least 7 out of 10).</summary>
    Positive = 1,
}
