namespace DiffPriv.Experiments.SecretSharer;

/// <summary>What the private model's accounting says.</summary>
public sealed record PrivateRunAccounting(double NoiseMultiplier, double SamplingProbability, long Steps, double Epsilon, double EpsilonLower, double RdpEpsilon, string Statement);
