namespace DiffPriv.Data;

/// <summary>What the private optimizer checks about the loader whose batches it releases.</summary>
internal interface IPrivateLoader
{
    /// <summary>How many logical batches were drawn so far.</summary>
    long BatchesDrawn { get; }

    /// <summary>The 0-based pass over the data of the latest batch drawn (fixed-size batches), or null (Poisson sampling).</summary>
    long? LatestPass { get; }

    /// <summary>The privacy units sampled instead of examples, or null (example-level).</summary>
    PrivacyUnits? PrivacyUnits { get; }
}
