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
    public void PldIsOfferedUnderAddOrRemoveOneOnly()
    {
        Assert.True(PrivacyAccountants.TryCreate(AccountantKind.Pld, NeighboringRelation.AddOrRemoveOne, out var pld));
        Assert.IsType<PldAccountant>(pld);
        Assert.False(PrivacyAccountants.TryCreate(AccountantKind.Pld, NeighboringRelation.ReplaceOne, out var none));
        Assert.Null(none);
        Assert.False(PrivacyAccountants.TryCreate(AccountantKind.Pld, NeighboringRelation.ReplaceSpecial, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => PrivacyAccountants.TryCreate((AccountantKind)42, NeighboringRelation.AddOrRemoveOne, out _));
    }
}
