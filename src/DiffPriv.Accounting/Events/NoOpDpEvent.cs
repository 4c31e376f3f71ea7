namespace DiffPriv.Accounting.Events;

/// <summary>A step that touches no private data: it costs no privacy.</summary>
public sealed record NoOpDpEvent : DpEvent;
