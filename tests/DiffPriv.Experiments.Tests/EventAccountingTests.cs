using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;
using DiffPriv.Experiments.Reports;

namespace DiffPriv.Experiments.Tests;

public sealed class EventAccountingTests
{
    private static readonly DpEvent DpSgd = new SelfComposedDpEvent(new PoissonSampledDpEvent(0.01, new GaussianDpEvent(1.0)), 200);

    [Fact]
    public void EveryAccountantThatCanAnswersInTheOrderAsked()
    {
        var result = EventAccounting.Evaluate(DpSgd, NeighboringRelation.AddOrRemoveOne, EventAccounting.AllAccountants, 1e-5);
        Assert.Empty(result.Unsupported);
        Assert.Equal(["pld", "rdp"], result.Results.Select(r => r.Accountant));

        // The same numbers as the accountants give directly.
        var pld = new PldAccountant();
        pld.Compose(DpSgd);
        var interval = pld.GetEpsilonInterval(1e-5);
        Assert.Equal(interval.Upper, result.Results[0].Epsilon);
        Assert.Equal(interval.Lower, result.Results[0].EpsilonLower);
        Assert.Null(result.Results[0].OptimalOrder);
        var rdp = new RdpAccountant();
        rdp.Compose(DpSgd);
        var answer = rdp.GetEpsilonAndOrder(1e-5);
        Assert.Equal(answer.Epsilon, result.Results[1].Epsilon);
        Assert.Equal(answer.OptimalOrder, result.Results[1].OptimalOrder);
        Assert.Null(result.Results[1].EpsilonLower);

        var rdpFirst = EventAccounting.Evaluate(DpSgd, NeighboringRelation.AddOrRemoveOne, [AccountantKind.Rdp, AccountantKind.Pld], 1e-5);
        Assert.Equal(["rdp", "pld"], rdpFirst.Results.Select(r => r.Accountant));
    }

    [Fact]
    public void AccountantsThatCannotAreListedNotSkipped()
    {
        var zcdp = new ZcdpDpEvent(0.5);
        var rdpOnly = EventAccounting.Evaluate(zcdp, NeighboringRelation.AddOrRemoveOne, EventAccounting.AllAccountants, 1e-6);
        Assert.Equal([AccountantKind.Pld], rdpOnly.Unsupported);
        Assert.Equal("rdp", Assert.Single(rdpOnly.Results).Accountant);

        // DP-FTRL's tree: both accountants under replace-special (PLD exactly, RDP as an upper bound), neither under add-or-remove-one.
        var tree = new SingleEpochTreeAggregationDpEvent(1.13, [1600]);
        var special = EventAccounting.Evaluate(tree, NeighboringRelation.ReplaceSpecial, EventAccounting.AllAccountants, 1e-6);
        Assert.Empty(special.Unsupported);
        Assert.Equal(["pld", "rdp"], special.Results.Select(r => r.Accountant));
        Assert.True(special.Results[0].Epsilon < special.Results[1].Epsilon);

        var addRemove = EventAccounting.Evaluate(tree, NeighboringRelation.AddOrRemoveOne, EventAccounting.AllAccountants, 1e-6);
        Assert.Empty(addRemove.Results);
        Assert.Equal(EventAccounting.AllAccountants, addRemove.Unsupported);

        Assert.True(EventAccounting.CanAnalyse(AccountantKind.Rdp, NeighboringRelation.ReplaceSpecial, tree));
        Assert.False(EventAccounting.CanAnalyse(AccountantKind.Rdp, NeighboringRelation.ReplaceOne, tree));
        Assert.True(EventAccounting.CanAnalyse(AccountantKind.Pld, NeighboringRelation.ReplaceOne, DpSgd));
        Assert.False(EventAccounting.CanAnalyse(AccountantKind.Pld, NeighboringRelation.AddOrRemoveOne, new RandomizedResponseDpEvent(0.5, 2)));
        Assert.True(EventAccounting.CanAnalyse(AccountantKind.Pld, NeighboringRelation.AddOrRemoveOne, DpSgd));
    }

    [Fact]
    public void NoOrderIsReportedWhenNothingOrEverythingWasSpent()
    {
        var nothing = EventAccounting.Evaluate(new NoOpDpEvent(), NeighboringRelation.AddOrRemoveOne, [AccountantKind.Rdp], 1e-5);
        Assert.Equal(0.0, nothing.Results[0].Epsilon);
        Assert.Null(nothing.Results[0].OptimalOrder);
        var everything = EventAccounting.Evaluate(new NonPrivateDpEvent(), NeighboringRelation.AddOrRemoveOne, [AccountantKind.Rdp], 1e-5);
        Assert.Equal(double.PositiveInfinity, everything.Results[0].Epsilon);
        Assert.Null(everything.Results[0].OptimalOrder);
    }

    [Fact]
    public void StatementNamesTheRelationAndTheAccountantsThatCannot()
    {
        var result = EventAccounting.Evaluate(new SingleEpochTreeAggregationDpEvent(1.13, [1600]), NeighboringRelation.ReplaceSpecial, [AccountantKind.Rdp], 1e-6);
        result = new EventAccountingResult(result.Results, [AccountantKind.Pld]);
        using var w = new StringWriter();
        PrivacyStatement.WriteEvent(w, "ftrl.json", NeighboringRelation.ReplaceSpecial, 1e-6, result);
        var text = w.ToString();
        Assert.Contains("event in ftrl.json (replace-special adjacency)", text);
        Assert.Contains("ε = 18.710  δ = 1e-6   (RDP accountant, optimal order 2.7)", text);
        Assert.Contains("pld: cannot analyse this event under replace-special adjacency", text);
        Assert.Contains("(18.710, 1e-6)-differentially private", text);

        var none = new EventAccountingResult([], [AccountantKind.Pld, AccountantKind.Rdp]);
        Assert.Throws<ArgumentException>(() => PrivacyStatement.WriteEvent(TextWriter.Null, "x.json", NeighboringRelation.AddOrRemoveOne, 1e-6, none));
    }
}
