using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>
/// The DP query of DP-FTRL (Kairouz, McMahan, Song, Thakkar, Thakurta and Xu, "Practical and Private (Deep) Learning
/// without Sampling or Shuffling", ICML 2021; TF Privacy's <c>TreeResidualSumQuery</c> inside a <c>RestartQuery</c>):
/// the records (per-example gradients clipped to C) of each step are summed, the noisy cumulative sum s̃_t of all steps
/// of the current pass is formed with tree-aggregation noise (<see cref="NoiseTree"/>, nodes N(0, (σ·C)²)), and the step
/// releases the residual s̃_t − s̃_{t−1}. An SGD inner optimizer at learning rate η, which subtracts η·residual/B, then
/// moves the parameters to θ_t = θ_0 − η·s̃_t/B: the FTRL form. With momentum γ it is DP-FTRLM.
/// </summary>
/// <remarks>
/// <para>Restarts: the tree restarts with every pass over the data (<see cref="DpStepInfo.Pass"/>, set by the
/// <see cref="Data.ShuffledDataLoader"/>), and the first residual of a tree holds no noise of the previous one, so the
/// parameters carry the last noisy sum of every finished tree (TF Privacy's <c>reset_state</c>). A query needs batches
/// from a pass-structured loader; Poisson-sampled batches are refused.</para>
/// <para>Accounting: every example is in at most one leaf of a tree, so a tree is one
/// <see cref="SingleEpochTreeAggregationDpEvent"/>(σ, [<see cref="StepsPerTree"/>]) under
/// <see cref="NeighboringRelation.ReplaceSpecial"/>. The event is returned with the first release of each tree and counts
/// the tree as complete, which is conservative for a tree that ends early (ε grows with the depth ⌈log2(steps + 1)⌉). A
/// tree that would get more leaves than <see cref="StepsPerTree"/> is refused. A run of E passes is E trees:
/// E × SingleEpochTreeAggregation, composed.</para>
/// <para>The global state owns the current tree's nodes (tensors); the private optimizer disposes a state once the next
/// one replaces it.</para>
/// </remarks>
public sealed class TreeResidualSumQuery : IDpQuery
{
    /// <summary>Creates the query.</summary>
    /// <param name="recordClipping">The clipping of each record; every threshold finite (flat, automatic or per layer; sensitivity C or √Σ C_l²).</param>
    /// <param name="noiseMultiplier">σ &gt; 0, finite: every tree node has noise standard deviation σ·C.</param>
    /// <param name="stepsPerTree">The most leaves (steps) a tree may take before the next pass restarts it, ≥ 1: ⌈N/B⌉ for one tree per pass.</param>
    /// <param name="efficient">True (the default): Honaker's efficient tree (smaller variance, same privacy); false: the plain tree.</param>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public TreeResidualSumQuery(ClippingOptions recordClipping, double noiseMultiplier, long stepsPerTree, bool efficient = true)
    {
        ArgumentNullException.ThrowIfNull(recordClipping);
        recordClipping.Validate();
        if (!(noiseMultiplier > 0 && double.IsFinite(noiseMultiplier)))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "The noise multiplier must be a finite number > 0.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerTree, 1);
        Sensitivity = recordClipping.Sensitivity;
        if (!(Sensitivity > 0 && double.IsFinite(Sensitivity)))
        {
            throw new ArgumentException($"The clipping bound must be finite and > 0 for a private sum (got sensitivity {Sensitivity}).", nameof(recordClipping));
        }

        RecordClipping = recordClipping;
        NoiseMultiplier = noiseMultiplier;
        StepsPerTree = stepsPerTree;
        Efficient = efficient;
    }

    /// <summary>The clipping of each record.</summary>
    public ClippingOptions RecordClipping { get; }

    /// <inheritdoc />
    /// <remarks>The noise of every tree node is σ·C.</remarks>
    public double NoiseMultiplier { get; }

    /// <summary>The L2 sensitivity of a step's sum: C (flat, automatic) or √Σ C_l² (per layer).</summary>
    public double Sensitivity { get; }

    /// <summary>The most leaves a tree may take (the steps of one pass).</summary>
    public long StepsPerTree { get; }

    /// <summary>Whether the tree is Honaker's efficient variant.</summary>
    public bool Efficient { get; }

    /// <summary>Tests only: draws a tree node instead of the gate (e.g. TF Privacy's constant nodes); null in use.</summary>
    internal Func<IReadOnlyList<(long[] Shape, ScalarType Type, Device? Device)>, IReadOnlyList<Tensor>>? NodeOverride { get; init; }

    /// <summary>The event of one tree: SingleEpochTreeAggregation(σ, [<see cref="StepsPerTree"/>]), under replace-special.</summary>
    public SingleEpochTreeAggregationDpEvent TreeEvent => new(NoiseMultiplier, [StepsPerTree]);

    /// <inheritdoc />
    public IDpQuery WithNoiseMultiplier(double noiseMultiplier) => new TreeResidualSumQuery(RecordClipping, noiseMultiplier, StepsPerTree, Efficient);

    /// <inheritdoc />
    /// <remarks>
    /// ⌈steps / <see cref="StepsPerTree"/>⌉ trees, each counted complete: SelfComposed(<see cref="TreeEvent"/>, trees). The
    /// sampling probability is not used (there is no sampling). Accounted under <see cref="NeighboringRelation.ReplaceSpecial"/>.
    /// </remarks>
    public DpEvent PlannedEvent(double samplingProbability, long steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return new SelfComposedDpEvent(TreeEvent, (steps + StepsPerTree - 1) / StepsPerTree);
    }

    /// <inheritdoc />
    /// <remarks>No tree yet: the first release starts one.</remarks>
    public object? InitialGlobalState() => new TreeState(-1, NoiseTree.Empty(Efficient));

    /// <inheritdoc />
    public DpSampleParameters DeriveSampleParameters(object? globalState, DpStepInfo stepInfo) => new(RecordClipping);

    /// <inheritdoc />
    public DpQueryState InitialSampleState(DpSampleParameters parameters) => new();

    /// <inheritdoc />
    public void Accumulate(DpQueryState state, DpSampleParameters parameters, ClippedSumResult clipped)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(clipped);
        state.Add(clipped.Gradients, clipped.BatchSize);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The release is Σ clipped + N_t − N_{t−1}, where N_t is the tree's cumulative noise after this step's leaf (N_0 = 0
    /// for a new tree); the next global state holds the tree with the new leaf; the event is <see cref="TreeEvent"/> when
    /// this step starts a tree (a new <see cref="DpStepInfo.Pass"/>), else null.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The step has no pass (Poisson batches), goes back to an earlier pass, or
    /// would give a tree more than <see cref="StepsPerTree"/> leaves.</exception>
    public DpQueryRelease GetNoisedResult(
        DpQueryState state,
        object? globalState,
        DpStepInfo stepInfo,
        NoiseGate gate,
        IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(stepInfo);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(shapes);
        var current = globalState as TreeState
            ?? throw new ArgumentException("The global state of the tree query is the one it returned (its tree).", nameof(globalState));
        var pass = stepInfo.Pass ?? throw new InvalidOperationException(
            "DP-FTRL's tree query needs fixed-size batches that come in passes over the data (PrivacyEngine.MakePrivateFtrl's loader): " +
            "a Poisson-sampled batch belongs to no pass, and the tree's accounting (each example at most once per tree) would not hold.");
        if (pass < current.Pass)
        {
            throw new InvalidOperationException($"A batch of pass {pass} came after pass {current.Pass}: a finished tree cannot take more leaves.");
        }

        var startsTree = pass > current.Pass;
        var previous = startsTree ? NoiseTree.Empty(Efficient) : current.Tree;
        if (previous.Leaves >= StepsPerTree)
        {
            throw new InvalidOperationException(
                $"Pass {pass} has more than the {StepsPerTree} steps its tree was accounted for; the tree restarts only with a new pass.");
        }

        var entries = shapes.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        var requests = entries.Select(e => (e.Value.Shape, e.Value.Type, (Device?)e.Value.Device)).ToList();
        var std = NoiseMultiplier * Sensitivity;
        var next = previous.Append(() => NodeOverride?.Invoke(requests) ?? gate.Gaussians(requests, std));
        try
        {
            var now = next.CumulativeNoise()!;
            var before = previous.CumulativeNoise();
            var released = new Dictionary<string, Tensor>(entries.Count);
            for (var i = 0; i < entries.Count; i++)
            {
                var name = entries[i].Key;
                var value = before is null ? now[i] : now[i].sub_(before[i]);
                released[name] = state.Sums.TryGetValue(name, out var sum) ? value.add_(sum) : value;
            }

            return new DpQueryRelease(released, new TreeState(pass, next), startsTree ? TreeEvent : null);
        }
        catch
        {
            next.Dispose();
            throw;
        }
        finally
        {
            if (startsTree)
            {
                previous.Dispose();
            }
        }
    }

    /// <summary>The query's global state: the pass of the current tree and its nodes.</summary>
    private sealed class TreeState(long pass, NoiseTree tree) : IDisposable
    {
        public long Pass { get; } = pass;

        public NoiseTree Tree { get; } = tree;

        public void Dispose() => Tree.Dispose();
    }
}
