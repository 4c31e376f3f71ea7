namespace DiffPriv.Datasets.Text;

/// <summary>One State of the Union address.</summary>
/// <param name="Year">The year it was given (1790–2021; 1953 and 1961 have two, from the outgoing and the incoming president).</param>
/// <param name="President">The president, e.g. "George Washington".</param>
/// <param name="Party">The president's party as the package names it, e.g. "Federalist", "Democratic", "none".</param>
/// <param name="Text">The speech as one paragraph (no line breaks), original case and punctuation.</param>
public sealed record StateOfTheUnionAddress(int Year, string President, string Party, string Text);
