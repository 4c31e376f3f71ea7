namespace DiffPriv.Accounting.Events;

/// <summary>A step that releases private data without protection: any accountant that sees it reports ε = ∞.</summary>
public sealed record NonPrivateDpEvent : DpEvent;
