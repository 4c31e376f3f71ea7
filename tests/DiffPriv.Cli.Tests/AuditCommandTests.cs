using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace DiffPriv.Cli.Tests;

public sealed class AuditCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-audit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Csv(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    // 40 members with confident correct logits (loss ≈ 0.0005) and 40 non-members with logits that favour another class
    // (loss ≈ 8): perfectly separated by every attack.
    private string SeparatedCsv()
    {
        var inv = CultureInfo.InvariantCulture;
        var b = new StringBuilder("split,loss,label,logit_0,logit_1,logit_2\n");
        for (var i = 0; i < 80; i++)
        {
            var member = i < 40;
            var label = i % 3;
            var logits = new double[3];
            logits[label] = member ? 8 + (0.01 * i) : 0;
            logits[(label + 1) % 3] = member ? 0 : 8 + (0.01 * i);
            var max = logits.Max();
            var loss = max + Math.Log(logits.Sum(z => Math.Exp(z - max))) - logits[label];
            b.Append(inv, $"{(member ? "train" : "test")},{loss:R},{label},{logits[0]:R},{logits[1]:R},{logits[2]:R}\n");
        }

        return Csv("separated.csv", b.ToString());
    }

    [Fact]
    public void PerfectlySeparatedCsvGivesAucOneJsonAndPlots()
    {
        var outDir = Path.Combine(_dir, "out");
        var (code, stdout, stderr) = CliRunner.Run("audit", "mia", "--input", SeparatedCsv(), "--json", "--out", outDir);
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout)!.AsObject();
        Assert.Equal(outDir, json["out_dir"]!.GetValue<string>());
        Assert.Equal((40, 40), (json["members"]!.GetValue<int>(), json["non_members"]!.GetValue<int>()));
        var results = json["results"]!.AsArray().Select(r => r!.AsObject()).ToList();
        foreach (var r in results)
        {
            foreach (var key in new[] { "attack", "slice", "auc", "advantage", "tpr_at_fpr_0.001", "tpr_at_fpr_0.01", "epsilon_lower_bound" })
            {
                Assert.True(r.ContainsKey(key), key);
            }
        }

        var all = results.Where(r => r["slice"]!.GetValue<string>() == "all").ToList();
        Assert.Equal(["loss-threshold", "confidence-threshold", "entropy-threshold", "logistic-regression", "mlp"], all.Select(r => r["attack"]!.GetValue<string>()));
        Assert.All(all, r =>
        {
            Assert.Equal(1.0, r["auc"]!.GetValue<double>());
            Assert.Equal(1.0, r["advantage"]!.GetValue<double>());
            Assert.True(r["epsilon_lower_bound"]!.GetValue<double>() > 0);
        });
        Assert.Contains(results, r => r["slice"]!.GetValue<string>() == "class=2");

        foreach (var file in new[] { "roc-all.png", "roc-all-log.png", "roc-class-0.png", "mia.json" })
        {
            Assert.True(File.Exists(Path.Combine(outDir, file)), file);
        }

        // The file also has each curve: starting at (0, 0) with a null (+∞) threshold and ending at (1, 1).
        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "mia.json")))!;
        var roc = saved["results"]![0]!["roc"]!;
        Assert.Equal(0.0, roc["fpr"]![0]!.GetValue<double>());
        Assert.Null(roc["thresholds"]![0]);
        Assert.Equal(1.0, roc["tpr"]!.AsArray()[^1]!.GetValue<double>());
    }

    [Fact]
    public void TextOutputHasATablePerSlice()
    {
        var (code, stdout, stderr) = CliRunner.Run("audit", "mia", "-i", SeparatedCsv(), "-o", Path.Combine(_dir, "text"), "--delta", "1e-6");
        Assert.True(code == 0, stderr);
        Assert.Contains("40 members (train), 40 non-members (test)", stdout, StringComparison.Ordinal);
        Assert.Contains("δ = 1e-6", stdout, StringComparison.Ordinal);
        Assert.Contains("slice all (40 train / 40 test)", stdout, StringComparison.Ordinal);
        Assert.Contains("slice class=1", stdout, StringComparison.Ordinal);
        Assert.Matches(@"loss-threshold\s+1\.000\s+1\.000", stdout);
    }

    [Theory]
    [InlineData("header.csv", "split,label\ntrain,1\ntest,0\n", "line 1: missing column 'loss'")]
    [InlineData("number.csv", "split,loss\ntrain,0.1\ntest,abc\n", "line 3, column 2 (loss): 'abc' is not a number")]
    [InlineData("nan.csv", "split,loss\ntrain,NaN\ntest,1\n", "line 2, column 2 (loss): 'NaN' is not a finite number")]
    [InlineData("onesplit.csv", "split,loss\ntrain,0.1\ntrain,0.2\n", "column 1 (split): every row is 'train'")]
    [InlineData("splitvalue.csv", "loss,split\n0.1,train\n0.2,validation\n", "line 3, column 2 (split): 'validation' is neither 'train' nor 'test'")]
    [InlineData("fields.csv", "split,loss,label\ntrain,0.1,0\ntest,0.2,1\ntest,0.3\n", "line 4: 2 fields, expected 3")]
    [InlineData("label.csv", "split,loss,label,logit_0,logit_1\ntrain,0.1,2,1,0\ntest,0.2,0,0,1\n", "line 2, column 3 (label): class 2 has no logit column")]
    [InlineData("unknown.csv", "split,loss,foo\ntrain,0.1,1\ntest,0.2,1\n", "line 1, column 3 (foo): unknown column")]
    [InlineData("logits.csv", "split,loss,logit_0,logit_2\ntrain,0.1,1,0\ntest,0.2,0,1\n", "line 1: missing column 'logit_1'")]
    [InlineData("logit.csv", "split,loss,logit_0,logit_1\ntrain,0.1,1,x\ntest,0.2,0,1\n", "line 2, column 4 (logit_1): 'x' is not a number")]
    [InlineData("empty.csv", "", "line 1: no header")]
    public void MalformedCsvExitsWithCode2AndOneLineNamingLineAndColumn(string name, string content, string expected)
    {
        var path = Csv(name, content);
        var (code, stdout, stderr) = CliRunner.Run("audit", "mia", "--input", path, "--out", Path.Combine(_dir, "never"));
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }

    [Theory]
    [InlineData("--input: file not found", "--input", "/nonexistent/scores.csv")]
    [InlineData("--input is required")]
    [InlineData("--delta must be in [0, 1)", "--input", "PLACEHOLDER", "--delta", "1")]
    public void BadArgumentsExitWithCode2(string expected, params string[] args)
    {
        var path = Csv("ok.csv", "split,loss\ntrain,0.1\ntest,0.2\n");
        var (code, stdout, stderr) = CliRunner.Run(["audit", "mia", .. args.Select(a => a == "PLACEHOLDER" ? path : a)]);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(expected, Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }
}
