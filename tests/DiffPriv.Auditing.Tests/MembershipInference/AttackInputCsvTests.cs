using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Auditing.Tests.MembershipInference;

public sealed class AttackInputCsvTests
{
    [Fact]
    public void ReadsColumnsInAnyOrderWithQuotesBlankLinesAndExponents()
    {
        var csv = "logit_1, \"label\" ,loss,split,logit_0\n"
            + "2.5,1,0.1,train,-1\n"
            + "\n"
            + "0,0,1.5e-1,test,3\n"
            + "-2,0, 7 ,\"train\",1E+1\n";
        var input = AttackInputCsv.Read(new StringReader(csv));
        Assert.Equal([0.1, 7], input.MemberLosses);
        Assert.Equal([0.15], input.NonMemberLosses);
        Assert.Equal([1, 0], input.MemberLabels!);
        Assert.Equal([0], input.NonMemberLabels!);
        Assert.Equal([-1.0, 2.5], input.MemberLogits![0]);
        Assert.Equal([10.0, -2], input.MemberLogits![1]);
        Assert.Equal([3.0, 0], input.NonMemberLogits![0]);
        Assert.Null(input.MemberProbabilities);
    }

    [Fact]
    public void LossesAloneOrWithLabelsOnly()
    {
        var input = AttackInputCsv.Read(new StringReader("split,loss\ntrain,1\ntest,2\n"));
        Assert.False(input.HasPredictions || input.HasLabels);
        input = AttackInputCsv.Read(new StringReader("split,loss,label\ntrain,1,7\ntest,2,3\n"));
        Assert.Equal([7], input.MemberLabels!);
        Assert.False(input.HasPredictions);
    }

    [Theory]
    [InlineData("split,loss,loss\ntrain,1,1\ntest,1,1\n", "line 1, column 3 (loss): duplicate column")]
    [InlineData("loss\n1\n", "line 1: missing column 'split'")]
    [InlineData("split,loss,logit_0\ntrain,1,1\ntest,1,1\n", "line 1: only one logit column")]
    [InlineData("split,loss,label\ntrain,1,1.5\ntest,1,1\n", "line 2, column 3 (label): '1.5' is not a class index")]
    [InlineData("split,loss,label\ntrain,1,-1\ntest,1,1\n", "line 2, column 3 (label): '-1' is not a class index")]
    [InlineData("split,loss\ntest,1\n\ntest,2\n", "column 1 (split): every row is 'test'")]
    [InlineData("split,loss\n", "line 1: no data rows after the header")]
    [InlineData("split,loss\ntrain,Infinity\ntest,1\n", "line 2, column 2 (loss): 'Infinity' is not a finite number")]
    public void MalformedTextNamesLineAndColumn(string csv, string expected)
    {
        var error = Assert.Throws<FormatException>(() => AttackInputCsv.Read(new StringReader(csv)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFileIsFileNotFound() =>
        Assert.Throws<FileNotFoundException>(() => AttackInputCsv.ReadFile("/nonexistent/scores.csv"));
}
