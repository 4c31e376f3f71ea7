namespace DiffPriv.Models;

/// <summary>The activation used between layers of the zoo models.</summary>
public enum Activation
{
    /// <summary>max(0, x), as in TF Privacy's tutorial.</summary>
    Relu,

    /// <summary>tanh: bounded activations keep gradients small, which suits clipping (Papernot et al. 2021).</summary>
    Tanh,
}
