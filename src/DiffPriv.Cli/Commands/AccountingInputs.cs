using System.CommandLine;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Calibration;
using DiffPriv.Accounting.Events;
using DiffPriv.Experiments.Reports;

namespace DiffPriv.Cli.Commands;

/// <summary>Which accountant(s) a command uses.</summary>
internal enum AccountantChoice
{
    Rdp,
    Pld,
    All,
}

/// <summary>
/// The options shared by <c>epsilon</c> and <c>noise</c>: how examples are sampled, how many steps ran, δ and the accountant.
/// </summary>
internal sealed class AccountingOptions
{
    public Option<double?> SamplingProbability { get; } = new("--sampling-probability", "-q")
    {
        Description = "Poisson sampling probability q per step, in (0, 1]. Alternatively give --dataset-size and --batch-size (q = B/N).",
    };

    public Option<long?> DatasetSize { get; } = new("--dataset-size", "-n")
    {
        Description = "Number of training examples N (> 0).",
    };

    public Option<long?> BatchSize { get; } = new("--batch-size", "-b")
    {
        Description = "Expected batch size B, 1 ≤ B ≤ N; q = B/N.",
    };

    public Option<long?> Steps { get; } = new("--steps")
    {
        Description = "Number of training steps (≥ 0). Alternatively --epochs.",
    };

    public Option<double?> Epochs { get; } = new("--epochs")
    {
        Description = "Number of epochs (> 0); steps = ceil(epochs / q) = ceil(epochs·N/B).",
    };

    public Option<double> Delta { get; } = new("--delta")
    {
        Description = "δ in (0, 1); keep it well below 1/N.",
        DefaultValueFactory = _ => 1e-5,
    };

    public Option<string> Accountant { get; }

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print one JSON object instead of text.",
    };

    public AccountingOptions(string defaultAccountant, string accountantHelp)
    {
        Accountant = new Option<string>("--accountant")
        {
            Description = accountantHelp,
            DefaultValueFactory = _ => defaultAccountant,
        };
    }

    public void AddTo(Command command)
    {
        command.Options.Add(SamplingProbability);
        command.Options.Add(DatasetSize);
        command.Options.Add(BatchSize);
        command.Options.Add(Steps);
        command.Options.Add(Epochs);
        command.Options.Add(Delta);
        command.Options.Add(Accountant);
        command.Options.Add(Json);
    }

    /// <summary>Reads and validates the options; throws <see cref="UsageException"/> naming the option and its range.</summary>
    public AccountingInputs Read(ParseResult result, TextWriter stderr, bool allowAll)
    {
        var q = result.GetValue(SamplingProbability);
        var n = result.GetValue(DatasetSize);
        var b = result.GetValue(BatchSize);
        var steps = result.GetValue(Steps);
        var epochs = result.GetValue(Epochs);
        var delta = result.GetValue(Delta);
        var accountantText = result.GetValue(Accountant) ?? "";

        if (q is not null && (n is not null || b is not null))
        {
            throw new UsageException("give either --sampling-probability or --dataset-size with --batch-size, not both");
        }

        if (q is null)
        {
            if (n is null || b is null)
            {
                throw new UsageException("give --sampling-probability in (0, 1], or both --dataset-size and --batch-size");
            }

            if (n <= 0)
            {
                throw new UsageException($"--dataset-size must be > 0 (got {n})");
            }

            if (b < 1 || b > n)
            {
                throw new UsageException($"--batch-size must be in [1, --dataset-size = {n}] (got {b})");
            }

            q = (double)b.Value / n.Value;
        }
        else if (!(q > 0 && q <= 1))
        {
            throw new UsageException($"--sampling-probability must be in (0, 1] (got {Format(q.Value)})");
        }

        if (steps is not null && epochs is not null)
        {
            throw new UsageException("give either --steps or --epochs, not both");
        }

        if (steps is null && epochs is null)
        {
            throw new UsageException("give --steps (≥ 0) or --epochs (> 0)");
        }

        if (steps < 0)
        {
            throw new UsageException($"--steps must be ≥ 0 (got {steps})");
        }

        if (epochs is not null && !(epochs > 0 && double.IsFinite(epochs.Value)))
        {
            throw new UsageException($"--epochs must be a finite number > 0 (got {Format(epochs.Value)})");
        }

        // TF Privacy's convention, the one StepSchedule holds: steps = ceil(epochs·N/B); with q alone, ceil(epochs/q).
        var stepCount = steps ?? (n is not null && b is not null
            ? StepSchedule.FromEpochs(n.Value, b.Value, epochs!.Value).TotalSteps
            : (long)Math.Ceiling(epochs!.Value / q.Value));

        CheckDelta(delta);

        if (n is not null && delta >= 1.0 / n.Value)
        {
            stderr.WriteLine($"warning: δ = {Format(delta)} is not below 1/N = {Format(1.0 / n.Value)}: such a δ allows a mechanism that publishes a few examples outright. Use δ ≪ 1/N.");
        }

        var accountant = ParseAccountant(accountantText, allowAll);
        return new AccountingInputs(q.Value, n, b, epochs, stepCount, delta, accountant, result.GetValue(Json));
    }

    /// <summary>The options of a DP-SGD run (sampling and steps), which an event tree replaces.</summary>
    public IEnumerable<Option> RunOptions => [SamplingProbability, DatasetSize, BatchSize, Steps, Epochs];

    /// <summary>Whether the option was given on the command line (not just defaulted).</summary>
    public static bool Given(ParseResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary>Checks δ ∈ (0, 1).</summary>
    public static void CheckDelta(double delta)
    {
        if (!(delta > 0 && delta < 1))
        {
            throw new UsageException($"--delta must be in (0, 1) (got {Format(delta)})");
        }
    }

    /// <summary>Reads --accountant: rdp, pld, or (when allowed) all.</summary>
    public static AccountantChoice ParseAccountant(string text, bool allowAll) => text.ToLowerInvariant() switch
    {
        "rdp" => AccountantChoice.Rdp,
        "pld" => AccountantChoice.Pld,
        "all" when allowAll => AccountantChoice.All,
        _ => throw new UsageException($"--accountant must be one of {(allowAll ? "rdp, pld, all" : "rdp, pld")} (got '{text}')"),
    };

    public static string Format(double value) => PrivacyStatement.Format(value);
}

/// <summary>Validated accounting inputs.</summary>
internal sealed record AccountingInputs(
    double SamplingProbability,
    long? DatasetSize,
    long? BatchSize,
    double? Epochs,
    long Steps,
    double Delta,
    AccountantChoice Accountant,
    bool Json)
{
    /// <summary>What the privacy statement needs.</summary>
    public DpSgdRunShape Shape => new(SamplingProbability, DatasetSize, BatchSize, Steps, Delta);

    /// <summary>The whole run: Steps × PoissonSampled(q, Gaussian(σ)).</summary>
    public DpEvent RunEvent(double noiseMultiplier) =>
        DpSgdCalibration.RunEvent(SamplingProbability, noiseMultiplier, Steps);
}
