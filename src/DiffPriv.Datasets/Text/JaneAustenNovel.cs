namespace DiffPriv.Datasets.Text;

/// <summary>One of Jane Austen's novels as the R package <c>janeaustenr</c> holds it: one string per line of the Project Gutenberg text.</summary>
/// <param name="Title">The title as <c>janeaustenr::austen_books()</c> names it, e.g. "Pride &amp; Prejudice".</param>
/// <param name="ObjectName">The R object holding it, e.g. <c>prideprejudice</c>.</param>
/// <param name="Lines">The lines without line breaks, in order; blank lines are empty strings (they separate paragraphs).</param>
public sealed record JaneAustenNovel(string Title, string ObjectName, IReadOnlyList<string> Lines)
{
    /// <summary>The whole novel: <see cref="Lines"/> joined with <c>\n</c>.</summary>
    public string Text { get; } = string.Join('\n', Lines);
}
