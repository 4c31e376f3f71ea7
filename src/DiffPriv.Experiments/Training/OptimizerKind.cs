namespace DiffPriv.Experiments.Training;

/// <summary>The inner optimizer of a training run.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with momentum.</summary>
    Sgd,

    /// <summary>Adam.</summary>
    Adam,
}
