using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Accounting.Tests.Rdp;

/// <summary>The shared accountant contract, run against <see cref="RdpAccountant"/> with its default orders.</summary>
public sealed class RdpAccountantContractTests : PrivacyAccountantContractTests
{
    protected override PrivacyAccountant Create() => new RdpAccountant();

    protected override PrivacyAccountant? Create(NeighboringRelation relation) => new RdpAccountant(neighboringRelation: relation);
}
