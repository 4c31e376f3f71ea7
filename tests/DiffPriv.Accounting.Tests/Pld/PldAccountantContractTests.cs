using DiffPriv.Accounting.Pld;

namespace DiffPriv.Accounting.Tests.Pld;

/// <summary>The shared accountant contract, run against the PLD accountant under every relation.</summary>
public sealed class PldAccountantContractTests : PrivacyAccountantContractTests
{
    protected override PrivacyAccountant Create() => new PldAccountant();

    protected override PrivacyAccountant? Create(NeighboringRelation relation) => new PldAccountant(relation);
}
