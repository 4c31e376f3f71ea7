using DiffPriv.Datasets.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DiffPriv.Datasets.Tests.Text;

public sealed class CharVocabularyTests
{
    private static readonly CharVocabulary Vocabulary = CharVocabulary.Default;

    [Fact]
    public void DefaultSetIsPrintableAsciiWithoutCapitalsAndFollowsTheSpecialIds()
    {
        var printable = Enumerable.Range(32, 95).Select(i => (char)i).Where(c => !char.IsAsciiLetterUpper(c));
        Assert.Equal(printable.Order(), CharVocabulary.DefaultCharacters.Order());
        Assert.Equal(69, CharVocabulary.DefaultCharacters.Length);
        Assert.Equal(73, Vocabulary.Size);
        Assert.Equal(new long[] { 0, 1, 2, 3 }, new[] { CharVocabulary.PadId, CharVocabulary.StartId, CharVocabulary.EndId, CharVocabulary.UnknownId });
        Assert.Equal(CharVocabulary.SpecialCount, Vocabulary.IdOf(CharVocabulary.DefaultCharacters[0]));
        Assert.Equal(Vocabulary.Size - 1, Vocabulary.IdOf(CharVocabulary.DefaultCharacters[^1]));
    }

    [Fact]
    public void EncodePutsTheStartTokenFirstAndMapsUnknownCharacters()
    {
        Assert.Equal(
            new[] { CharVocabulary.StartId, Vocabulary.IdOf('a'), Vocabulary.IdOf(' '), CharVocabulary.UnknownId, CharVocabulary.UnknownId },
            Vocabulary.Encode("a Aé"));
        Assert.Equal(new[] { CharVocabulary.StartId, CharVocabulary.EndId }, Vocabulary.Encode(string.Empty, appendEnd: true));
        Assert.Equal("a \uFFFD\uFFFD", Vocabulary.Decode(Vocabulary.Encode("a Aé")));
    }

    [Property(MaxTest = 200)]
    public Property InVocabularyTextRoundTrips()
    {
        var text = Gen.Elements(CharVocabulary.DefaultCharacters.ToCharArray()).ArrayOf().Select(c => new string(c));
        return Prop.ForAll(text.ToArbitrary(), s =>
            Vocabulary.Decode(Vocabulary.Encode(s)) == s
            && Vocabulary.Decode(Vocabulary.Encode(s, appendEnd: true)) == s
            && Vocabulary.Encode(s).Skip(1).All(id => id >= CharVocabulary.SpecialCount && id < Vocabulary.Size));
    }

    [Fact]
    public void DecodeSkipsPaddingStopsAtTheEndAndRejectsForeignIds()
    {
        long[] ids = [CharVocabulary.StartId, Vocabulary.IdOf('o'), Vocabulary.IdOf('k'), CharVocabulary.EndId, Vocabulary.IdOf('x'), CharVocabulary.PadId];
        Assert.Equal("ok", Vocabulary.Decode(ids));
        Assert.Throws<ArgumentOutOfRangeException>(() => Vocabulary.Decode([Vocabulary.Size]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Vocabulary.Decode([-1]));
    }

    [Fact]
    public void BatchesArePaddedInt64Matrices()
    {
        using var batch = Vocabulary.EncodeBatch(["ab", "abcd", string.Empty]);
        Assert.Equal(new long[] { 3, 5 }, batch.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, batch.dtype);
        var values = batch.data<long>().ToArray();
        Assert.Equal([.. Vocabulary.Encode("ab"), 0, 0], values[..5]);
        Assert.Equal(Vocabulary.Encode("abcd"), values[5..10]);
        Assert.Equal(new long[] { CharVocabulary.StartId, 0, 0, 0, 0 }, values[10..]);

        using var fixedWidth = Vocabulary.EncodeBatch(["ab"], length: 81, appendEnd: true);
        Assert.Equal(new long[] { 1, 81 }, fixedWidth.shape);
        Assert.Equal(CharVocabulary.EndId, fixedWidth[0, 3].item<long>());
        Assert.Throws<ArgumentException>(() => Vocabulary.EncodeBatch(["abcd"], length: 4));
        Assert.Throws<ArgumentException>(() => Vocabulary.EncodeBatch([]));
    }

    [Fact]
    public void CustomSetsRejectRepeatsAndControlCharacters()
    {
        Assert.Equal(CharVocabulary.SpecialCount + 3, new CharVocabulary("abc").Size);
        Assert.Throws<ArgumentException>(() => new CharVocabulary("aba"));
        Assert.Throws<ArgumentException>(() => new CharVocabulary("a\nb"));
        Assert.Throws<ArgumentException>(() => new CharVocabulary(string.Empty));
    }
}
