using System.CommandLine;
using System.Text.Json.Nodes;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;
using DiffPriv.Experiments.Reports;

namespace DiffPriv.Cli.Commands;

/// <summary><c>diffpriv epsilon</c>: the (ε, δ) guarantee of a DP-SGD run.</summary>
internal static class EpsilonCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var options = new AccountingOptions("pld", "Accountant: pld (privacy-loss distributions, an interval that brackets the true ε; default), rdp (Rényi DP), or all (the default with --event: every accountant that can analyse the event).");
        var noise = new Option<double?>("--noise-multiplier", "-s")
        {
            Description = "Noise multiplier σ > 0: the noise standard deviation divided by the clipping norm.",
        };
        var eventFile = new Option<string?>("--event")
        {
            Description = "A JSON file with one event tree (dp_accounting's events; see docs/accounting.md): the guarantee of that mechanism instead of a DP-SGD run. Not with --noise-multiplier, --steps, --epochs or the sampling options.",
        };
        var relation = new Option<string?>("--neighboring-relation")
        {
            Description = "With --event: add-or-remove-one (default), replace-one or replace-special.",
        };
        var command = new Command("epsilon", "Compute the (ε, δ) privacy guarantee of DP-SGD from its sampling rate, noise multiplier and number of steps, or of any mechanism described by an event file.");
        command.Options.Add(noise);
        options.AddTo(command);
        command.Options.Add(eventFile);
        command.Options.Add(relation);
        command.SetAction(result =>
        {
            if (result.GetValue(eventFile) is { } path)
            {
                return EventEpsilon.Run(result, path, relation, options, [noise, .. options.RunOptions], stdout);
            }

            if (AccountingOptions.Given(result, relation))
            {
                throw new UsageException("--neighboring-relation applies to --event only; a DP-SGD run with Poisson sampling is analysed under add-or-remove-one");
            }

            var sigma = result.GetValue(noise) ?? throw new UsageException("--noise-multiplier is required: a finite number > 0");
            if (!(sigma > 0 && double.IsFinite(sigma)))
            {
                throw new UsageException($"--noise-multiplier must be a finite number > 0 (got {AccountingOptions.Format(sigma)})");
            }

            var inputs = options.Read(result, stderr, allowAll: true);
            var results = Compute(inputs, sigma);
            if (inputs.Json)
            {
                stdout.WriteLine(ToJson(inputs, sigma, results).ToJsonString());
            }
            else
            {
                PrivacyStatement.Write(stdout, inputs.Shape, sigma, results);
            }

            return CliApp.ExitOk;
        });
        return command;
    }

    internal static IReadOnlyList<AccountantEstimate> Compute(AccountingInputs inputs, double sigma)
    {
        var results = new List<AccountantEstimate>();
        var run = inputs.RunEvent(sigma);
        if (inputs.Accountant is AccountantChoice.Pld or AccountantChoice.All)
        {
            var pld = new PldAccountant();
            pld.Compose(run);
            var interval = pld.GetEpsilonInterval(inputs.Delta);
            results.Add(new AccountantEstimate("pld", interval.Upper, interval.Lower, null));
        }

        if (inputs.Accountant is AccountantChoice.Rdp or AccountantChoice.All)
        {
            var rdp = new RdpAccountant();
            rdp.Compose(run);
            var r = rdp.GetEpsilonAndOrder(inputs.Delta);
            results.Add(new AccountantEstimate("rdp", r.Epsilon, null, double.IsFinite(r.Epsilon) && inputs.Steps > 0 ? r.OptimalOrder : null));
        }

        return results;
    }

    internal static JsonObject ToJson(AccountingInputs inputs, double sigma, IReadOnlyList<AccountantEstimate> results)
    {
        var json = InputsJson(inputs);
        json["noise_multiplier"] = sigma;
        json["results"] = ResultsJson(results);
        return json;
    }

    /// <summary>The <c>results</c> array: accountant, epsilon, epsilon_lower (PLD), optimal_order (RDP).</summary>
    internal static JsonArray ResultsJson(IReadOnlyList<AccountantEstimate> results)
    {
        var list = new JsonArray();
        foreach (var r in results)
        {
            list.Add(new JsonObject
            {
                ["accountant"] = r.Accountant,
                ["epsilon"] = JsonNumber(r.Epsilon),
                ["epsilon_lower"] = r.EpsilonLower is { } lower ? JsonNumber(lower) : null,
                ["optimal_order"] = r.OptimalOrder is { } order ? JsonValue.Create(order) : null,
            });
        }

        return list;
    }

    internal static JsonObject InputsJson(AccountingInputs inputs) => new()
    {
        ["sampling_probability"] = inputs.SamplingProbability,
        ["dataset_size"] = inputs.DatasetSize,
        ["batch_size"] = inputs.BatchSize,
        ["epochs"] = inputs.Epochs,
        ["steps"] = inputs.Steps,
        ["delta"] = inputs.Delta,
    };

    /// <summary>JSON has no infinity: an unbounded ε is written as the string "inf".</summary>
    internal static JsonNode JsonNumber(double value) => PrivacyStatement.JsonNumber(value);
}
