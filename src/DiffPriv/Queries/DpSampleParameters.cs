using DiffPriv.PerSample;

namespace DiffPriv.Queries;

/// <summary>
/// A step's sample parameters (TF Privacy's sample_params): at least how records are clipped. Derive a record from it to
/// carry more.
/// </summary>
/// <param name="RecordClipping">The clipping the per-example gradient hooks apply to every record of the step.</param>
public record DpSampleParameters(ClippingOptions RecordClipping);
