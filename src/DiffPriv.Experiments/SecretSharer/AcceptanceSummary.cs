namespace DiffPriv.Experiments.SecretSharer;

/// <summary>Which training sentences each model accepts (log-perplexity at or below its test quantile).</summary>
public sealed record AcceptanceSummary(double Quantile, double NonPrivateThreshold, double PrivateThreshold, double Both, double OnlyNonPrivate, double OnlyPrivate, double Neither);
