using DiffPriv.Accounting.Events;

namespace DiffPriv.Accounting;

/// <summary>Thrown when an accountant is asked to compose an event it cannot analyse.</summary>
public sealed class UnsupportedDpEventException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="event">The event.</param>
    /// <param name="accountant">The accountant's name.</param>
    public UnsupportedDpEventException(DpEvent @event, string accountant)
        : base($"{accountant} cannot analyse {@event}.")
    {
        Event = @event;
    }

    /// <summary>Creates the exception.</summary>
    public UnsupportedDpEventException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public UnsupportedDpEventException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public UnsupportedDpEventException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The unsupported event, when known.</summary>
    public DpEvent? Event { get; }
}
