using System.Globalization;
using System.Text.Json.Nodes;
using DiffPriv.Accounting;

namespace DiffPriv.Experiments.Reports;

/// <summary>
/// The plain-language privacy statement of a DP-SGD run (printed by <c>diffpriv epsilon</c>, written into training
/// reports): ε at δ from each accountant, what it means, and the assumptions it rests on.
/// </summary>
public static class PrivacyStatement
{
    /// <summary>Writes the statement.</summary>
    /// <param name="w">Where to write.</param>
    /// <param name="run">What ran: sampling, steps and δ.</param>
    /// <param name="sigma">The noise multiplier σ.</param>
    /// <param name="results">ε from one or more accountants; the first is the one reported.</param>
    public static void Write(TextWriter w, DpSgdRunShape run, double sigma, IReadOnlyList<AccountantEstimate> results)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(results);
        var inputs = run;
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine("Privacy guarantee (example-level, add/remove-one adjacency)");
        w.WriteLine();
        WriteEstimates(w, results, inputs.Delta);

        var reported = results[0].Epsilon;
        var dataset = inputs.DatasetSize is { } n && inputs.BatchSize is { } b
            ? $" (expected batch {b} of {n} examples)"
            : "";
        w.WriteLine();
        w.WriteLine($"What it means: DP-SGD with noise multiplier {sigma.ToString("G6", inv)} for {inputs.Steps} steps, each step");
        w.WriteLine($"using every example independently with probability q = {inputs.SamplingProbability.ToString("G5", inv)}{dataset},");
        w.WriteLine($"is ({Number(reported, "F3")}, {Delta(inputs.Delta)})-differentially private. Adding or removing any one");
        w.WriteLine("example changes the probability of any outcome of training (every intermediate model included)");
        w.WriteLine($"by at most a factor e^ε = {Number(Math.Exp(reported), "G4")}, except with probability at most δ.");
        w.WriteLine();
        w.WriteLine("Assumptions:");
        w.WriteLine("  - Poisson sampling: at every step each example joins the batch independently with probability q.");
        w.WriteLine("    Shuffling into fixed-size batches is a different mechanism, and this ε does not cover it.");
        w.WriteLine("  - Add/remove-one adjacency: the neighbouring dataset has one example more or fewer.");
        w.WriteLine("  - Example-level privacy: the unit protected is one example. A person contributing k examples");
        w.WriteLine("    is protected at a weaker level (group privacy).");
        w.WriteLine("  - Each step clips every per-example gradient to norm C and adds Gaussian noise of std σ·C to their sum.");
    }

    /// <summary>Writes the statement of a DP-FTRL run (Kairouz et al. 2021): ε by RDP under replace-special, what it means and its assumptions.</summary>
    /// <param name="w">Where to write.</param>
    /// <param name="run">What ran: N, B, steps, trees and δ.</param>
    /// <param name="sigma">The noise multiplier σ of every tree node.</param>
    /// <param name="rdp">ε from the RDP accountant under replace-special.</param>
    public static void WriteFtrl(TextWriter w, DpFtrlRunShape run, double sigma, Accounting.Rdp.RdpEpsilonResult rdp)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(rdp);
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine("Privacy guarantee (example-level, replace-special adjacency)");
        w.WriteLine();
        w.WriteLine($"  ε = {Number(rdp.Epsilon, "F3")}  δ = {Delta(run.Delta)}   (RDP accountant{(double.IsFinite(rdp.Epsilon) ? $", optimal order {rdp.OptimalOrder.ToString("0.0##", inv)}" : "")}; replace-special)");
        w.WriteLine();
        w.WriteLine($"What it means: DP-FTRL with noise multiplier {sigma.ToString("G6", inv)} for {run.Steps} steps in {run.Trees} {(run.Trees == 1 ? "tree" : "trees")} of");
        w.WriteLine($"tree-aggregated noise (a tree per pass over the data, each accounted for {run.StepsPerTree} steps), fixed batches of");
        w.WriteLine($"{run.BatchSize} of {run.DatasetSize} examples, is ({Number(rdp.Epsilon, "F3")}, {Delta(run.Delta)})-differentially private. Replacing any one");
        w.WriteLine("example by a special example that contributes nothing changes the probability of any outcome of training");
        w.WriteLine($"(every intermediate model included) by at most a factor e^ε = {Number(Math.Exp(rdp.Epsilon), "G4")}, except with probability at most δ.");
        w.WriteLine();
        w.WriteLine("Assumptions:");
        w.WriteLine("  - Replace-special adjacency (Kairouz et al. 2021, Definition 1.1): the neighbouring dataset has the same size");
        w.WriteLine("    and order, with one example replaced by a zero example. This ε is not in the same unit as DP-SGD's");
        w.WriteLine("    add/remove-one ε; compare the two only with that in mind.");
        w.WriteLine("  - No sampling assumption: batches are fixed-size slices of one shuffled order per pass, and the guarantee");
        w.WriteLine("    holds for any order. Every example is in at most one batch of each pass, so in at most one leaf per tree.");
        w.WriteLine("  - Each tree is accounted as complete from its first step (conservative for a pass cut short).");
        w.WriteLine("  - Example-level privacy: the unit protected is one example. A person contributing k examples");
        w.WriteLine("    is protected at a weaker level (group privacy).");
        w.WriteLine("  - Each step clips every per-example gradient to norm C; every tree node adds Gaussian noise of std σ·C.");
    }

    /// <summary>
    /// Writes the statement for an arbitrary event tree (<c>diffpriv epsilon --event</c>): ε at δ from each accountant
    /// that analysed it, the ones that could not, and what the guarantee means under the relation.
    /// </summary>
    /// <param name="w">Where to write.</param>
    /// <param name="source">Where the event came from, e.g. its file name.</param>
    /// <param name="relation">The neighbouring relation of the guarantee.</param>
    /// <param name="delta">δ of the statement.</param>
    /// <param name="result">The accountants' answers; at least one result.</param>
    /// <exception cref="ArgumentException"><paramref name="result"/> has no result.</exception>
    public static void WriteEvent(TextWriter w, string source, NeighboringRelation relation, double delta, EventAccountingResult result)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(result);
        if (result.Results.Count == 0)
        {
            throw new ArgumentException("No accountant analysed the event.", nameof(result));
        }

        var (adjacency, change) = relation switch
        {
            NeighboringRelation.AddOrRemoveOne => ("add/remove-one", "Adding or removing any one record"),
            NeighboringRelation.ReplaceOne => ("replace-one", "Replacing any one record by another"),
            NeighboringRelation.ReplaceSpecial => ("replace-special", "Replacing any one record by the special record (e.g. a zero contribution)"),
            _ => throw new ArgumentOutOfRangeException(nameof(relation), relation, "Unknown neighbouring relation."),
        };
        w.WriteLine($"Privacy guarantee of the event in {source} ({adjacency} adjacency)");
        w.WriteLine();
        WriteEstimates(w, result.Results, delta);
        foreach (var kind in result.Unsupported)
        {
            w.WriteLine($"  {EventAccounting.Name(kind)}: cannot analyse this event under {adjacency} adjacency");
        }

        var reported = result.Results[0].Epsilon;
        w.WriteLine();
        w.WriteLine($"What it means: the mechanism the event describes is ({Number(reported, "F3")}, {Delta(delta)})-differentially private.");
        w.WriteLine($"{change} changes the probability of any outcome");
        w.WriteLine($"by at most a factor e^ε = {Number(Math.Exp(reported), "G4")}, except with probability at most δ.");
        w.WriteLine("The unit protected is one record of the dataset the event's mechanisms ran on.");
    }

    /// <summary>A number in six significant digits, invariant culture: the form options and reports use.</summary>
    /// <param name="value">The number.</param>
    /// <returns>Its text.</returns>
    public static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>A number for JSON output: the value when finite, otherwise the string <c>"inf"</c>.</summary>
    /// <param name="value">The number.</param>
    /// <returns>A JSON node.</returns>
    public static JsonNode JsonNumber(double value) =>
        double.IsFinite(value) ? JsonValue.Create(value) : JsonValue.Create("inf");

    /// <summary>δ in the form people write it: 1e-05 → "1e-5".</summary>
    /// <param name="delta">δ.</param>
    /// <returns>Its text.</returns>
    public static string Delta(double delta)
    {
        var text = delta.ToString("G3", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            return text;
        }

        var exponent = int.Parse(text[(e + 1)..], CultureInfo.InvariantCulture);
        return $"{text[..e]}e{exponent}";
    }

    private static void WriteEstimates(TextWriter w, IReadOnlyList<AccountantEstimate> results, double delta)
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var r in results)
        {
            var eps = Number(r.Epsilon, "F3");
            var line = r.Accountant switch
            {
                "pld" => $"  ε = {eps}  δ = {Delta(delta)}   (PLD accountant; the exact ε lies in [{Number(r.EpsilonLower ?? double.NaN, "F4")}, {Number(r.Epsilon, "F4")}])",
                _ => $"  ε = {eps}  δ = {Delta(delta)}   (RDP accountant{(r.OptimalOrder is { } o ? $", optimal order {o.ToString("0.0##", inv)}" : "")})",
            };
            w.WriteLine(line);
        }
    }

    private static string Number(double value, string format) =>
        double.IsPositiveInfinity(value) ? "∞" : value.ToString(format, CultureInfo.InvariantCulture);
}
