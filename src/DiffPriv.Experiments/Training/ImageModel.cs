namespace DiffPriv.Experiments.Training;

/// <summary>The model <c>diffpriv train mnist|fashion-mnist</c> trains (<c>--model</c>).</summary>
public enum ImageModel
{
    /// <summary>The end-to-end CNN on pixels (TF Privacy's tutorial CNN, tanh): <c>cnn</c>.</summary>
    Cnn,

    /// <summary>
    /// ScatterNet features (the scattering transform with J = 2, L = 8, computed once per image) → GroupNorm → linear
    /// (Tramèr &amp; Boneh 2021): <c>scatternet-linear</c>.
    /// </summary>
    ScatterNetLinear,

    /// <summary>ScatterNet features → GroupNorm → the paper's small CNN: <c>scatternet-cnn</c>.</summary>
    ScatterNetCnn,
}
