namespace DiffPriv.PerSample;

/// <summary>How per-example gradients are clipped.</summary>
public enum ClippingMode
{
    /// <summary>One threshold C on the norm of the whole per-example gradient (all layers together).</summary>
    Flat,

    /// <summary>
    /// One threshold C_l per layer, each applied to the norm of that layer's part of the per-example gradient. The whole
    /// clipped per-example gradient then has norm at most sqrt(Σ_l C_l²), the sensitivity to use for the noise.
    /// </summary>
    PerLayer,

    /// <summary>
    /// Automatic clipping (Bu et al., "Automatic Clipping: Differentially Private Deep Learning Made Easier and Stronger",
    /// NeurIPS 2023, AUTO-S): every per-example gradient is normalised, g·C/(‖g‖ + γ), so no threshold has to be tuned
    /// against the gradients' sizes. Each normalised gradient has norm below C, the sensitivity, as with flat clipping at
    /// C; C only scales the update (a learning-rate factor) and γ &gt; 0 keeps small gradients from being blown up.
    /// </summary>
    Automatic,
}
