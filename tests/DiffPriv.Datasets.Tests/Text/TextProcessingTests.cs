using DiffPriv.Datasets.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DiffPriv.Datasets.Tests.Text;

public sealed class TextProcessingTests
{
    [Fact]
    public void NormalizeLowerCasesAndCollapsesWhitespace()
    {
        Assert.Equal("u.s. wheat exports rose 5.6 pct", TextProcessing.Normalize("  U.S. WHEAT\n exports\t\trose  5.6 PCT \n"));
        Assert.Equal(string.Empty, TextProcessing.Normalize(" \n\t "));
    }

    [Fact]
    public void BlocksBreakAtIndentedOrBlankLinesButNotAtWrappedLines()
    {
        var blocks = TextProcessing.SplitBlocks(
            "The dry period means the crop\nwill be late.\n    Arrivals rose.\n Net 5.6 mln vs 4.1 mln\n\nYear\n    Shr 1.19 dlrs\n");
        Assert.Equal(
            ["The dry period means the crop will be late.", "Arrivals rose.", "Net 5.6 mln vs 4.1 mln", "Year", "Shr 1.19 dlrs"],
            blocks.Select(TextProcessing.CollapseWhitespace));
        Assert.Equal("The dry period means the crop\nwill be late.", blocks[0]);
    }

    [Theory]
    [InlineData("It rose 5.93 mln bags. Arrivals fell.", "It rose 5.93 mln bags.|Arrivals fell.")]
    [InlineData("Did it rise? Yes! It did.", "Did it rise?|Yes!|It did.")]
    [InlineData("\"It is late.\" The crop fell.", "\"It is late.\"|The crop fell.")]
    [InlineData("He said (it fell.) Then it rose.", "He said (it fell.)|Then it rose.")]
    [InlineData("Revs fell 1.5 mln. 1986 net rose.", "Revs fell 1.5 mln.|1986 net rose.")]
    [InlineData("Shares of Acme Inc. It makes sense.", "Shares of Acme Inc.|It makes sense.")]
    [InlineData("The U.S. Agriculture Department said so.", "The U.S. Agriculture Department said so.")]
    [InlineData("E.F. Hutton and Mr. Smith met Sen. Dole in Calif. Today.", "E.F. Hutton and Mr. Smith met Sen. Dole in Calif. Today.")]
    [InlineData("Effective Jan. 5 and No. 2 in the list.", "Effective Jan. 5 and No. 2 in the list.")]
    [InlineData("Class A. Shares rose.", "Class A. Shares rose.")]
    [InlineData("M-1....... 736.7 up....... 2.1", "M-1....... 736.7 up....... 2.1")]
    [InlineData("Wait... Then go.", "Wait... Then go.")]
    [InlineData("Prices were 5.6 pct. lower than expected.", "Prices were 5.6 pct. lower than expected.")]
    [InlineData("Shr 34 cts vs 1.19 dlrs.", "Shr 34 cts vs 1.19 dlrs.")]
    [InlineData("It said.\n   <Acme Corp> said it.", "It said.|<Acme Corp> said it.")]
    public void SentencesEndAtTerminalPunctuationBeforeACapitalOrDigitButNotAfterAbbreviations(string block, string expected)
    {
        var sentences = TextProcessing.SplitSentences(block);
        Assert.Equal(expected.Split('|'), sentences);
        Assert.Equal(TextProcessing.CollapseWhitespace(block), string.Join(' ', sentences));
    }

    [Fact]
    public void ShortSentencesAreOneSequenceAndEmptyOnesNone()
    {
        Assert.Equal(["shr 34 cts"], TextProcessing.CutIntoSequences("shr 34 cts"));
        var exactly80 = new string('a', 39) + " " + new string('b', 40);
        Assert.Equal([exactly80], TextProcessing.CutIntoSequences(exactly80));
        Assert.Empty(TextProcessing.CutIntoSequences(string.Empty));
    }

    [Fact]
    public void LongSentencesAreCutAtSpacesIntoEvenPieces()
    {
        // 19 words of 4 letters: 94 characters, so two pieces; even cutting gives 10 + 9 words, not 16 + 3.
        var sentence = string.Join(' ', Enumerable.Range(0, 19).Select(i => $"w{i:00}x"));
        var pieces = TextProcessing.CutIntoSequences(sentence);
        Assert.Equal(2, pieces.Count);
        Assert.Equal(sentence, string.Join(' ', pieces));
        Assert.All(pieces, p => Assert.InRange(p.Length, 40, 54));
    }

    [Fact]
    public void AWordLongerThanTheLimitIsCutInsideTheWord()
    {
        var leader = "m-1" + new string('.', 100) + "736.7";
        var pieces = TextProcessing.CutIntoSequences("up " + leader + " down", 80);
        Assert.All(pieces, p => Assert.InRange(p.Length, 1, 80));
        Assert.Equal(("up " + leader + " down").Replace(" ", string.Empty, StringComparison.Ordinal), string.Concat(pieces).Replace(" ", string.Empty, StringComparison.Ordinal));
        Assert.Equal(new string('x', 7), string.Concat(TextProcessing.CutIntoSequences(new string('x', 7), 3)));
        Assert.Equal(["xxx", "xxx", "x"], TextProcessing.CutIntoSequences(new string('x', 7), 3));
    }

    // Random sentences of random words (some longer than the limit): no piece is empty or too long, no piece starts or
    // ends with a space, the count is the fewest possible, and removing the spaces from pieces and sentence gives the same text.
    [Property(MaxTest = 300)]
    public Property CuttingKeepsEveryCharacterAndNoPieceExceedsTheLimit()
    {
        var word = Gen.Choose(1, 30).SelectMany(n => Gen.Elements('a', 'b', '.', '-', '1').ArrayOf(n)).Select(c => new string(c));
        var sentence = Gen.Choose(1, 40).SelectMany(n => word.ArrayOf(n)).Select(w => string.Join(' ', w));
        var limit = Gen.Choose(5, 80);
        return Prop.ForAll(sentence.ToArbitrary(), limit.ToArbitrary(), (s, max) =>
        {
            var pieces = TextProcessing.CutIntoSequences(s, max);
            var intact = pieces.All(p => p.Length is > 0 && p.Length <= max && p[0] != ' ' && p[^1] != ' ');
            var same = string.Concat(pieces).Replace(" ", string.Empty, StringComparison.Ordinal) == s.Replace(" ", string.Empty, StringComparison.Ordinal);
            return intact && same && pieces.Count == GreedyCount(s, max);
        });
    }

    // Reference: the fewest pieces, by plain greedy packing of words (over-long words first cut into chunks of max).
    private static int GreedyCount(string sentence, int max)
    {
        var count = 0;
        var length = -1;
        foreach (var word in sentence.Split(' '))
        {
            for (var at = 0; at < word.Length; at += max)
            {
                var chunk = Math.Min(max, word.Length - at);
                var glue = at == 0 ? 1 : 0;
                if (length < 0 || length + glue + chunk > max)
                {
                    count++;
                    length = chunk;
                }
                else
                {
                    length += glue + chunk;
                }
            }
        }

        return count;
    }

    [Fact]
    public void ToSequencesNormalizesThenCuts()
    {
        var sequences = TextProcessing.ToSequences(["The U.S.  Agriculture\nDepartment said.", new string('A', 85)]);
        Assert.Equal(["the u.s. agriculture department said.", new string('a', 80), new string('a', 5)], sequences);
    }
}
