namespace DiffPriv.Cli.Tests;

/// <summary>
/// The promise of the drop-in API: an ordinary training loop becomes private by changing at most three lines. The two
/// loops are compiled files of examples/OwnDataset; docs/dp-sgd.md shows them verbatim.
/// </summary>
public sealed class PrivateLoopDocumentationTests
{
    private static readonly string Plain = LoopRegion("PlainLoop.cs");
    private static readonly string Private = LoopRegion("PrivateLoop.cs");

    [Fact]
    public void ThePrivateLoopDiffersFromThePlainOneInAtMostThreeLines()
    {
        var plain = Plain.Split('\n');
        var dp = Private.Split('\n');
        var common = LongestCommonSubsequence(plain, dp);
        var changed = Math.Max(plain.Length - common, dp.Length - common);
        Assert.InRange(changed, 1, 3);
        Assert.True(plain.Length > 10, "the loop region is a whole loop");

        // The three changes are the ones the documentation names.
        var added = dp.Except(plain).ToList();
        Assert.Contains(added, line => line.Contains("MakePrivateWithEpsilon", StringComparison.Ordinal));
        Assert.Contains(added, line => line.Contains("reduction: nn.Reduction.None", StringComparison.Ordinal));
        Assert.Contains(added, line => line.Contains("optimizer.Backward(loss)", StringComparison.Ordinal));
        Assert.Contains(plain, line => line.Trim() == "loss.backward();");
    }

    [Fact]
    public void TheGuideShowsBothLoopsVerbatim()
    {
        var blocks = CodeBlocks(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "dp-sgd.md")));
        Assert.Contains(Plain, blocks);
        Assert.Contains(Private, blocks);
    }

    private static string LoopRegion(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryRoot.Path, "examples", "OwnDataset", file)).ToList();
        var start = lines.FindIndex(l => l.Trim() == "// <loop>");
        var end = lines.FindIndex(l => l.Trim() == "// </loop>");
        Assert.True(start >= 0 && end > start, $"{file} marks its loop with // <loop> and // </loop>");
        var body = lines.GetRange(start + 1, end - start - 1);
        while (body.Count > 0 && body[^1].Trim().Length == 0)
        {
            body.RemoveAt(body.Count - 1);
        }

        var indent = body.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join('\n', body.Select(l => l.Trim().Length == 0 ? string.Empty : l[indent..]));
    }

    private static List<string> CodeBlocks(string markdown)
    {
        var blocks = new List<string>();
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("```csharp", StringComparison.Ordinal))
            {
                continue;
            }

            var end = Array.FindIndex(lines, i + 1, l => l.StartsWith("```", StringComparison.Ordinal));
            Assert.True(end > i, "every code block is closed");
            blocks.Add(string.Join('\n', lines[(i + 1)..end]));
            i = end;
        }

        return blocks;
    }

    private static int LongestCommonSubsequence(string[] a, string[] b)
    {
        var table = new int[a.Length + 1, b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                table[i, j] = a[i - 1] == b[j - 1] ? table[i - 1, j - 1] + 1 : Math.Max(table[i - 1, j], table[i, j - 1]);
            }
        }

        return table[a.Length, b.Length];
    }
}
