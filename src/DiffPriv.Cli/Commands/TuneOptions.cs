using System.CommandLine;
using System.Globalization;
using DiffPriv.Accounting.Tuning;
using DiffPriv.Cli.Rendering;
using DiffPriv.Experiments.Training;
using DiffPriv.Experiments.Tuning;

namespace DiffPriv.Cli.Commands;

/// <summary>The <c>--tune-…</c> options of <c>diffpriv train mnist|fashion-mnist</c>: a private hyperparameter search
/// (<see cref="HyperparameterSearch"/>) instead of one run.</summary>
internal sealed class TuneOptions
{
    private readonly Option<string?> _lrs = new("--tune-lr")
    {
        Description = "A private search: comma-separated learning rates to choose from (e.g. 0.25,0.5,1). Each run picks a learning rate and a C at random; " +
            "the best on the validation split is kept, and --target-epsilon is the whole search's ε (Papernot & Steinke's repeat-and-select).",
    };

    private readonly Option<string?> _clips = new("--tune-max-grad-norm") { Description = "A private search: comma-separated clipping norms to choose from (default: the default C)." };

    private readonly Option<double?> _mean = new("--tune-runs-mean") { Description = "A private search: the mean of the secret number of runs, ≥ 1 (default 3)." };

    private readonly Option<double?> _shape = new("--tune-runs-shape")
    {
        Description = "A private search: the shape of the number of runs' distribution: 1 geometric (default), 0 logarithmic, another number > 0 the truncated negative binomial, Infinity Poisson.",
    };

    private readonly Option<int?> _validation = new("--validation-examples")
    {
        Description = "A private search: how many of the first test examples score the runs (default 5000; half the test set with --smoke); the test accuracy is reported on the rest.",
    };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _lrs, _clips, _mean, _shape, _validation })
        {
            command.Options.Add(option);
        }
    }

    public bool Given(ParseResult result) =>
        result.GetValue(_lrs) is not null || result.GetValue(_clips) is not null || result.GetValue(_mean) is not null ||
        result.GetValue(_shape) is not null || result.GetValue(_validation) is not null;

    public int Run(ParseResult result, TrainSettings settings, TextWriter stdout, TextWriter log, TextWriter stderr, bool asJson)
    {
        var defaults = TrainDefaults.For(settings.Dataset);
        var lrs = Parse(result.GetValue(_lrs), "--tune-lr") ?? [settings.LearningRate];
        var clips = Parse(result.GetValue(_clips), "--tune-max-grad-norm") ?? [defaults.MaxGradNorm];
        var mean = result.GetValue(_mean) ?? 3.0;
        if (!(mean >= 1 && double.IsFinite(mean)))
        {
            throw new UsageException($"--tune-runs-mean must be a finite number ≥ 1 (got {AccountingOptions.Format(mean)})");
        }

        var shape = result.GetValue(_shape) ?? 1.0;
        if (!(shape >= 0))
        {
            throw new UsageException($"--tune-runs-shape must be ≥ 0 or Infinity (got {AccountingOptions.Format(shape)})");
        }

        var validation = result.GetValue(_validation) ?? (settings.Smoke ? defaults.SmokeTestExamples / 2 : 5000);
        var candidates = lrs.SelectMany(l => clips.Select(c => new SearchCandidate(l, c))).ToList();
        SearchResult found;
        try
        {
            found = ProgressRenderer.Run(!asJson && ProgressRenderer.IsInteractive(stdout), log, stderr, p => new HyperparameterSearch(
                settings with { ValidationExamples = validation }, candidates, new RunCountDistribution(mean, shape), p).Run());
        }
        catch (ArgumentException e)
        {
            throw UsageException.From(e);
        }
        catch (SearchSelectedNothingException e)
        {
            stderr.WriteLine($"diffpriv: {e.Message}");
            return CliApp.ExitFailure;
        }

        var inv = CultureInfo.InvariantCulture;
        log.WriteLine();
        log.WriteLine($"Selected: learning rate {AccountingOptions.Format(found.Candidate.LearningRate)}, C = {AccountingOptions.Format(found.Candidate.MaxGradNorm)}; " +
                      $"validation accuracy {(100 * found.Selected.ValidationAccuracy!.Value).ToString("F2", inv)}%, test accuracy {(100 * found.Selected.TestAccuracy).ToString("F2", inv)}% " +
                      $"({found.Selected.TestExamples} test examples not used to select)");
        log.WriteLine($"The whole search: ε = {found.Epsilon.ToString("F3", inv)} at δ = {AccountingOptions.Format(found.Delta)} (RDP, repeat-and-select; one run alone: ε = {found.RunEpsilon.ToString("F3", inv)}).");
        log.WriteLine($"Search folder: {found.RunDir} (report.md, search.json, selected/)");
        if (asJson)
        {
            stdout.WriteLine(HyperparameterSearch.SummaryJson(found).ToJsonString());
        }

        return CliApp.ExitOk;
    }

    private static List<double>? Parse(string? text, string name)
    {
        if (text is null)
        {
            return null;
        }

        var values = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !(v > 0 && double.IsFinite(v)))
            {
                throw new UsageException($"{name} must be comma-separated finite numbers > 0 (got '{part}' in '{text}')");
            }

            values.Add(v);
        }

        return values.Distinct().ToList();
    }
}
