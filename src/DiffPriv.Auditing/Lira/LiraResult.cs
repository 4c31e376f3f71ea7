namespace DiffPriv.Auditing.Lira;

/// <summary>Every LiRA test of one set of models: online and offline, each with global and per-example variance.</summary>
public sealed class LiraResult
{
    internal LiraResult(int models, int examples, IReadOnlyList<LiraAttackResult> attacks)
    {
        Models = models;
        Examples = examples;
        Attacks = attacks;
    }

    /// <summary>K, the models; each in turn is the target and the others its shadow models.</summary>
    public int Models { get; }

    /// <summary>N, the examples of the pool; K·N (target, example) pairs are scored.</summary>
    public int Examples { get; }

    /// <summary>Online-global, offline-global, online-per-example, offline-per-example, in this order.</summary>
    public IReadOnlyList<LiraAttackResult> Attacks { get; }

    /// <summary>The headline test, fixed before any run: online with global variance (the paper's choice for few shadow models).</summary>
    public LiraAttackResult Online => Get(LiraMode.Online, LiraVariance.Global);

    /// <summary>Offline with global variance.</summary>
    public LiraAttackResult Offline => Get(LiraMode.Offline, LiraVariance.Global);

    /// <summary>The test with the given mode and variance.</summary>
    /// <param name="mode">Online or offline.</param>
    /// <param name="variance">Global or per-example.</param>
    /// <returns>Its result.</returns>
    public LiraAttackResult Get(LiraMode mode, LiraVariance variance) => Attacks.Single(a => a.Mode == mode && a.Variance == variance);
}
