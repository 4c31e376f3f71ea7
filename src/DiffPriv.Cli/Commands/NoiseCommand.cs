using System.CommandLine;
using System.Globalization;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Calibration;
using DiffPriv.Experiments.Reports;

namespace DiffPriv.Cli.Commands;

/// <summary><c>diffpriv noise</c>: the smallest noise multiplier that meets a target ε.</summary>
internal static class NoiseCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var options = new AccountingOptions("pld", "Accountant used for calibration: pld (default) or rdp.");
        var target = new Option<double?>("--target-epsilon", "-e")
        {
            Description = "The privacy budget ε > 0 the run must meet.",
        };
        var command = new Command("noise", "Find the smallest noise multiplier σ whose ε is at most the target for the given sampling and steps.");
        command.Options.Add(target);
        options.AddTo(command);
        command.SetAction(result =>
        {
            var epsilon = result.GetValue(target) ?? throw new UsageException("--target-epsilon is required: a finite number > 0");
            if (!(epsilon > 0 && double.IsFinite(epsilon)))
            {
                throw new UsageException($"--target-epsilon must be a finite number > 0 (got {AccountingOptions.Format(epsilon)})");
            }

            var inputs = options.Read(result, stderr, allowAll: false);
            if (inputs.Steps == 0)
            {
                throw new UsageException("--steps must be ≥ 1 to calibrate noise (zero steps spend no privacy)");
            }

            var calibrated = Calibrate(inputs, epsilon);
            var name = inputs.Accountant == AccountantChoice.Rdp ? "rdp" : "pld";
            if (inputs.Json)
            {
                var json = EpsilonCommand.InputsJson(inputs);
                json["target_epsilon"] = epsilon;
                json["noise_multiplier"] = calibrated.NoiseMultiplier;
                json["epsilon"] = calibrated.Epsilon;
                json["accountant"] = name;
                stdout.WriteLine(json.ToJsonString());
            }
            else
            {
                var inv = CultureInfo.InvariantCulture;
                stdout.WriteLine($"Noise multiplier σ = {calibrated.NoiseMultiplier.ToString("F4", inv)} gives ε = {calibrated.Epsilon.ToString("F4", inv)} ≤ {epsilon.ToString("G6", inv)} at δ = {PrivacyStatement.Delta(inputs.Delta)}");
                stdout.WriteLine($"({name.ToUpperInvariant()} accountant; {inputs.Steps} steps of Poisson sampling with q = {inputs.SamplingProbability.ToString("G5", inv)}; add/remove-one, example-level).");
            }

            return CliApp.ExitOk;
        });
        return command;
    }

    internal static NoiseCalibrationResult Calibrate(AccountingInputs inputs, double targetEpsilon) =>
        DpSgdCalibration.NoiseMultiplier(
            inputs.SamplingProbability,
            inputs.Steps,
            targetEpsilon,
            inputs.Delta,
            inputs.Accountant == AccountantChoice.Rdp ? AccountantKind.Rdp : AccountantKind.Pld);
}
