namespace DiffPriv.PerSample;

/// <summary>How a layer's per-example gradient norms are computed. Both methods are exact.</summary>
public enum GradSampleMethod
{
    /// <summary>
    /// Pick per layer: ghost norm when the layer sees one position per example (T = 1); otherwise materialise when
    /// B·p·(element size) fits the memory budget; otherwise ghost (Gram) when 2·T² &lt; p, else materialise
    /// (p = per-example parameter count of the weight). An embedding takes the ghost path whenever T is below its number
    /// of rows.
    /// </summary>
    Auto,

    /// <summary>
    /// Ghost norm: ‖a‖²‖g‖² without a sequence axis, ⟨A Aᵀ, G Gᵀ⟩ with one; the clipped sum is (G·c)ᵀA.
    /// Never forms per-example gradients (elementwise-affine norm layers always materialise: theirs are smaller than
    /// their input; an embedding forms only the rows each example touches, at most its T positions).
    /// </summary>
    Ghost,

    /// <summary>Materialise per-example gradients with bmm, take their norms and reuse them for the clipped sum as c·psg.</summary>
    Materialize,
}
