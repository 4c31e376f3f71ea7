using BenchmarkDotNet.Attributes;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Calibration;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Benchmarks;

/// <summary>
/// The accounting workloads of issue 2, against dp_accounting (Python) measured on the same machine:
/// RDP ε for 100 000 steps 36 ms; PLD ε for the MNIST tutorial run 0.45 s; PLD σ calibration for ε = 3 9.8 s.
/// </summary>
[MemoryDiagnoser]
public class AccountingBenchmarks
{
    // TF Privacy's MNIST tutorial: N = 60000, batch 256, σ = 1.1, 60 epochs → 14063 steps, δ = 1e-5.
    private const double MnistQ = 256.0 / 60000;
    private const long MnistSteps = 14063;
    private const double Delta = 1e-5;

    [Benchmark(Description = "RDP ε, q=0.01, σ=1, 100000 steps")]
    public double RdpHundredThousandSteps() =>
        new RdpAccountant().Compose(new PoissonSampledDpEvent(0.01, new GaussianDpEvent(1.0)), 100_000).GetEpsilon(Delta);

    [Benchmark(Description = "PLD ε (upper), MNIST tutorial run")]
    public double PldMnist() =>
        new PldAccountant().Compose(new PoissonSampledDpEvent(MnistQ, new GaussianDpEvent(1.1)), MnistSteps).GetEpsilon(Delta);

    [Benchmark(Description = "PLD ε interval, MNIST tutorial run")]
    public double PldMnistInterval()
    {
        var accountant = new PldAccountant();
        accountant.Compose(new PoissonSampledDpEvent(MnistQ, new GaussianDpEvent(1.1)), MnistSteps);
        return accountant.GetEpsilonInterval(Delta).Lower;
    }

    [Benchmark(Description = "PLD σ calibration for ε=3, MNIST tutorial run")]
    public double PldCalibrationMnist()
        => DpSgdCalibration.NoiseMultiplier(MnistQ, MnistSteps, 3.0, Delta, AccountantKind.Pld).NoiseMultiplier;
}
