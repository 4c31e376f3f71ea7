using DiffPriv.Accounting.Pld;

namespace DiffPriv.Accounting.Tests.Pld;

/// <summary>The shared accountant contract, run against the PLD accountant.</summary>
public sealed class PldAccountantContractTests : PrivacyAccountantContractTests
{
    protected override PrivacyAccountant Create() => new PldAccountant();
}
