using System.Text;
using DiffPriv.Models;

namespace DiffPriv.Tests.Models;

public sealed class WordVocabularyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-vocabulary-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TokensAreLowerCasedWordsNumbersAndSinglePunctuation()
    {
        Assert.Equal(
            ["don't", "miss", "it", ":", "10", "/", "10", ",", "really", "!", "café", "ok"],
            WordVocabulary.Tokenize("Don't MISS it: 10/10, really!<br /><br/>Café ok"));
        Assert.Empty(WordVocabulary.Tokenize("  \n\t "));
    }

    [Fact]
    public void BuildKeepsTheMostFrequentTokensAfterTheTwoReservedIds()
    {
        var vocabulary = WordVocabulary.Build(["b a b c", "a b . d"], size: 5);
        // b ×3, a ×2, then c, d and . once each: ties in ordinal order ('.' < 'c' < 'd'), cut at 5 ids.
        Assert.Equal([WordVocabulary.PadToken, WordVocabulary.UnknownToken, "b", "a", "."], vocabulary.Tokens);
        Assert.Equal(5, vocabulary.Size);
        Assert.Equal([2L, 3L, 1L, 1L], vocabulary.Encode("B a c zebra"));
        Assert.Equal(WordVocabulary.UnknownId, vocabulary.Id("<pad>")); // the reserved entries are never a text's token
        Assert.Throws<ArgumentOutOfRangeException>(() => WordVocabulary.Build(["a"], 2));
    }

    [Fact]
    public void ALongTextKeepsItsFirstAndLastTokens()
    {
        var vocabulary = WordVocabulary.Build(["one two three four five six seven"], 9);
        var all = vocabulary.Encode("one two three four five six seven");
        Assert.Equal(7, all.Length);
        Assert.Equal(all, vocabulary.Encode("one two three four five six seven", 7));
        Assert.Equal([all[0], all[1], all[2], all[5], all[6]], vocabulary.Encode("one two three four five six seven", 5));
        Assert.Equal([all[0], all[1], all[5], all[6]], vocabulary.Encode("one two three four five six seven", 4));
        Assert.Equal([all[0]], vocabulary.Encode("one two three four five six seven", 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Encode("one", 0));
        Assert.Equal(0.5, vocabulary.UnknownRate("one zebra"));
    }

    [Fact]
    public void SaveAndLoadGiveTheSameVocabularyAndHash()
    {
        var vocabulary = WordVocabulary.Build(["the cat sat on the mat", "élan vital"], 100);
        var path = Path.Combine(_dir, "v.txt");
        vocabulary.Save(path);
        var loaded = WordVocabulary.Load(path);
        Assert.Equal(vocabulary.Tokens, loaded.Tokens);
        Assert.Equal(vocabulary.Sha256, loaded.Sha256);
        Assert.NotEqual(vocabulary.Sha256, WordVocabulary.Build(["the cat sat on the hat"], 100).Sha256);
        Assert.False(File.ReadAllBytes(path).AsSpan().StartsWith(Encoding.UTF8.Preamble));
    }

    [Theory]
    [InlineData("a\nb\n", "not a word vocabulary")]
    [InlineData("<pad>\n<unk>\nx\n\ny\n", "v.txt:4: a token must be non-empty")]
    [InlineData("<pad>\n<unk>\nx\nx\n", "appears twice")]
    public void AMalformedFileIsRefusedWithItsNameAndLine(string text, string expected)
    {
        var path = Path.Combine(_dir, "v.txt");
        File.WriteAllText(path, text);
        var error = Assert.Throws<FormatException>(() => WordVocabulary.Load(path));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("v.txt", error.Message, StringComparison.Ordinal);
    }
}
