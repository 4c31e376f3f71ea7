using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Accounting.Tests;

public sealed class PrivacyAccountantsTests
{
    [Theory]
    [InlineData(NeighboringRelation.AddOrRemoveOne)]
    [InlineData(NeighboringRelation.ReplaceOne)]
    [InlineData(NeighboringRelation.ReplaceSpecial)]
    public void RdpIsOfferedUnderEveryRelation(NeighboringRelation relation)
    {
        Assert.True(PrivacyAccountants.TryCreate(AccountantKind.Rdp, relation, out var accountant));
        Assert.IsType<RdpAccountant>(accountant);
        Assert.Equal(relation, accountant.NeighboringRelation);
    }

    [Fact]
    public void PldIsOfferedUnderEveryRelation()
    {
        foreach (var relation in Enum.GetValues<NeighboringRelation>())
        {
            Assert.True(PrivacyAccountants.TryCreate(AccountantKind.Pld, relation, out var pld));
            Assert.Equal(relation, Assert.IsType<PldAccountant>(pld).NeighboringRelation);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => PrivacyAccountants.TryCreate((AccountantKind)42, NeighboringRelation.AddOrRemoveOne, out _));
    }
}
