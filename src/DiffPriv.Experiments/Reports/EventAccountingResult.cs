using DiffPriv.Accounting;

namespace DiffPriv.Experiments.Reports;

/// <summary>What <see cref="EventAccounting.Evaluate"/> found for one event tree.</summary>
/// <param name="Results">ε from each requested accountant that can analyse the event, in the order requested.</param>
/// <param name="Unsupported">The requested accountants that cannot analyse it under the relation asked for.</param>
public sealed record EventAccountingResult(IReadOnlyList<AccountantEstimate> Results, IReadOnlyList<AccountantKind> Unsupported);
