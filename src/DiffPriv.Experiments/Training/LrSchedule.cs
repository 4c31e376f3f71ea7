namespace DiffPriv.Experiments.Training;

/// <summary>How the learning rate changes over a run.</summary>
public enum LrSchedule
{
    /// <summary>The same learning rate at every step.</summary>
    Constant,

    /// <summary>lr · ½(1 + cos(π·t/T)) at step t of T: large steps early, small ones at the end.</summary>
    Cosine,
}
