using System.Text.Json;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Accounting.Tests;

public sealed class PrivacyLedgerTests
{
    private static readonly SingleEpochTreeAggregationDpEvent Tree = new(1.5, [40]);

    [Fact]
    public void AReplaceSpecialLedgerAccountsTreesWithEitherAccountant()
    {
        var ledger = new PrivacyLedger(AccountantKind.Rdp, NeighboringRelation.ReplaceSpecial);
        ledger.Record(Tree, 2);
        ledger.Record(Tree);
        Assert.Equal(NeighboringRelation.ReplaceSpecial, ledger.NeighboringRelation);
        Assert.Equal(3, ledger.TotalCount);

        var rdp = new RdpAccountant(neighboringRelation: NeighboringRelation.ReplaceSpecial).Compose(Tree, 3).GetEpsilon(1e-5);
        Assert.Equal(rdp, ledger.GetEpsilon(1e-5), 12);
        var pld = Assert.IsType<PldAccountant>(ledger.CreateAccountant(AccountantKind.Pld));
        Assert.Equal(NeighboringRelation.ReplaceSpecial, pld.NeighboringRelation);
        Assert.Equal(new PldAccountant(NeighboringRelation.ReplaceSpecial).Compose(Tree, 3).GetEpsilon(1e-5), pld.GetEpsilon(1e-5), 12);
        Assert.True(pld.GetEpsilon(1e-5) < rdp);
    }

    [Fact]
    public void AnAddOrRemoveLedgerRefusesTreesAndRecordsNothing()
    {
        var ledger = new PrivacyLedger(AccountantKind.Rdp);
        Assert.Equal(NeighboringRelation.AddOrRemoveOne, ledger.NeighboringRelation);
        Assert.Throws<UnsupportedDpEventException>(() => ledger.Record(Tree));
        Assert.Equal(0, ledger.TotalCount);
    }

    [Fact]
    public void JsonKeepsTheRelationAndOldLedgersAreAddOrRemove()
    {
        var ledger = new PrivacyLedger(AccountantKind.Pld, NeighboringRelation.ReplaceSpecial);
        ledger.Record(Tree, 4);
        var json = ledger.ToJson();
        Assert.Contains("\"relation\":\"replace-special\"", json, StringComparison.Ordinal);
        var back = PrivacyLedger.FromJson(json);
        Assert.Equal(NeighboringRelation.ReplaceSpecial, back.NeighboringRelation);
        Assert.Equal(AccountantKind.Pld, back.Accountant);
        Assert.Equal(ledger.Entries, back.Entries);
        Assert.Equal(ledger.GetEpsilon(1e-5), back.GetEpsilon(1e-5));

        // A ledger written before the relation was saved (checkpoint v2/v3) reads as add-or-remove-one.
        var gaussian = new PoissonSampledDpEvent(0.01, new GaussianDpEvent(1.0));
        var old = "{\"accountant\":\"rdp\",\"entries\":[{\"count\":5,\"event\":" + DpEventJson.Serialize(gaussian) + "}]}";
        var read = PrivacyLedger.FromJson(old);
        Assert.Equal(NeighboringRelation.AddOrRemoveOne, read.NeighboringRelation);
        Assert.Equal(5, read.TotalCount);
        Assert.Throws<JsonException>(() => PrivacyLedger.FromJson("{\"accountant\":\"rdp\",\"relation\":\"swap-two\",\"entries\":[]}"));
    }
}
