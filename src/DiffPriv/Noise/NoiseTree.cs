using static TorchSharp.torch;

namespace DiffPriv.Noise;

/// <summary>
/// The noise of one binary tree of the tree-aggregation mechanism (Dwork, Naor, Pitassi and Rothblum 2010; Chan, Shi
/// and Song 2011; used by DP-FTRL, Kairouz et al. 2021): after t leaves, the noise of the cumulative sum of the first t
/// values is the sum of the O(log t) nodes of t's binary decomposition, one node per set bit of t. Each node is an
/// independent Gaussian draw, so a value that enters one leaf reaches at most ⌈log2(T + 1)⌉ nodes of a tree of T leaves.
/// </summary>
/// <remarks>
/// <para>A tree is immutable: <see cref="Append"/> returns a new tree that owns copies of the nodes it keeps, so the
/// previous tree stays valid until disposed (a step that is abandoned after drawing keeps the tree it started from).</para>
/// <para>The efficient variant (Honaker 2015, "Efficient Use of Differentially Private Binary Trees"; TF Privacy's
/// <c>EfficientTreeAggregator</c>) also draws the nodes that the plain tree never uses and keeps, for every kept node, a
/// recursive combination v = ½(left + right) + own draw of its subtree; the cumulative noise then weights a node of level
/// ℓ by 1/(2 − 2^−ℓ). It is a post-processing of the same noisy tree, so it has the same privacy and a smaller variance
/// (for 2^k leaves: 2^k/(2^(k+1) − 1) node variances instead of 1).</para>
/// </remarks>
internal sealed class NoiseTree : IDisposable
{
    private readonly List<(int Level, Tensor[] Values)> _nodes;
    private bool _disposed;

    private NoiseTree(bool efficient, long leaves, List<(int Level, Tensor[] Values)> nodes)
    {
        Efficient = efficient;
        Leaves = leaves;
        _nodes = nodes;
    }

    /// <summary>Whether this is the efficient (Honaker) variant.</summary>
    public bool Efficient { get; }

    /// <summary>t, the leaves appended so far.</summary>
    public long Leaves { get; }

    /// <summary>The levels of the kept nodes, lowest first: the set bits of <see cref="Leaves"/>.</summary>
    public IReadOnlyList<int> Levels => _nodes.Select(n => n.Level).ToList();

    /// <summary>A tree without leaves.</summary>
    /// <param name="efficient">The efficient (Honaker) variant.</param>
    /// <returns>The tree (it holds no tensors).</returns>
    public static NoiseTree Empty(bool efficient) => new(efficient, 0, []);

    /// <summary>
    /// The tree after one more leaf: the nodes of levels 0 … k − 1 (k = the trailing ones of t) are replaced by one node
    /// of level k. The plain tree draws that node once; the efficient tree draws the leaf, then one draw per merged level
    /// (in that order) and combines them as ½(left + right) + draw.
    /// </summary>
    /// <param name="drawNode">Draws one node: one tensor per released entry, always in the same order and shapes.</param>
    /// <returns>A new tree; this one is unchanged.</returns>
    public NoiseTree Append(Func<IReadOnlyList<Tensor>> drawNode)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(drawNode);
        var merged = 0;
        while (merged < _nodes.Count && _nodes[merged].Level == merged)
        {
            merged++;
        }

        var nodes = new List<(int Level, Tensor[] Values)>(_nodes.Count - merged + 1);
        using (var scope = NewDisposeScope())
        {
            var value = drawNode().ToArray();
            if (Efficient)
            {
                for (var level = 0; level < merged; level++)
                {
                    var own = drawNode();
                    var left = _nodes[level].Values;
                    value = [.. value.Select((right, i) => left[i].add(right).mul_(0.5).add_(own[i]))];
                }
            }

            nodes.Add((merged, [.. value.Select(v => v.detach().clone().DetachFromDisposeScope())]));
        }

        for (var i = merged; i < _nodes.Count; i++)
        {
            nodes.Add((_nodes[i].Level, [.. _nodes[i].Values.Select(v => v.clone().DetachFromDisposeScope())]));
        }

        return new NoiseTree(Efficient, Leaves + 1, nodes);
    }

    /// <summary>
    /// The noise of the cumulative sum of the <see cref="Leaves"/> values: the sum of the kept nodes (the efficient
    /// variant weights a node of level ℓ by 1/(2 − 2^−ℓ)). Null when the tree has no leaves (no noise).
    /// </summary>
    /// <returns>One new tensor per entry, in the current dispose scope, or null.</returns>
    public Tensor[]? CumulativeNoise()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_nodes.Count == 0)
        {
            return null;
        }

        var count = _nodes[0].Values.Length;
        var sums = new Tensor[count];
        for (var i = 0; i < count; i++)
        {
            Tensor? sum = null;
            foreach (var (level, values) in _nodes)
            {
                var term = Efficient ? values[i].mul(1.0 / (2.0 - Math.Pow(0.5, level))) : values[i];
                sum = sum is null ? term.clone() : sum.add_(term);
            }

            sums[i] = sum!;
        }

        return sums;
    }

    /// <summary>Frees the nodes.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        foreach (var (_, values) in _nodes)
        {
            foreach (var v in values)
            {
                v.Dispose();
            }
        }

        _nodes.Clear();
        _disposed = true;
    }
}
