using DiffPriv.Experiments.Training;

namespace DiffPriv.Experiments.Tuning;

/// <summary>
/// What a private hyperparameter search releases: the selected run and the guarantee of the whole search. The number of
/// runs and the other runs' results are deliberately absent (publishing them would void the guarantee).
/// </summary>
/// <param name="Selected">The selected run (its run folder is <c>selected/</c> under <see cref="RunDir"/>).</param>
/// <param name="Candidate">The selected run's hyperparameters.</param>
/// <param name="Candidates">The grid, fixed before the search.</param>
/// <param name="RunsMean">E[K], the mean number of runs.</param>
/// <param name="RunsShape">The shape η of K's distribution (+∞: Poisson).</param>
/// <param name="NoiseMultiplier">σ of every run, calibrated so that the whole search meets the target.</param>
/// <param name="Epsilon">ε of the whole search at <see cref="Delta"/> (RDP accountant, repeat-and-select).</param>
/// <param name="Delta">δ.</param>
/// <param name="RunEpsilon">ε of one run alone at <see cref="Delta"/> (PLD accountant), for comparison.</param>
/// <param name="RunDir">The search's folder (report.md, search.json, selected/).</param>
public sealed record SearchResult(
    TrainResult Selected,
    SearchCandidate Candidate,
    IReadOnlyList<SearchCandidate> Candidates,
    double RunsMean,
    double RunsShape,
    double NoiseMultiplier,
    double Epsilon,
    double Delta,
    double RunEpsilon,
    string RunDir);
