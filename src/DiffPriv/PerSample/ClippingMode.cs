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
}
