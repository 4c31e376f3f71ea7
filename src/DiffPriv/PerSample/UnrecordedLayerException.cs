namespace DiffPriv.PerSample;

/// <summary>
/// A hooked layer whose parameters the loss depends on recorded nothing in the step: its forward ran without hooks
/// (a parent called <c>child.forward(x)</c> instead of <c>child.call(x)</c>), so its gradient would be silently missing.
/// </summary>
public sealed class UnrecordedLayerException : InvalidOperationException
{
    /// <summary>Creates the exception naming the layers.</summary>
    /// <param name="modulePaths">Paths of the layers that the loss depends on but that recorded nothing.</param>
    public UnrecordedLayerException(IReadOnlyList<string> modulePaths)
        : base(
            $"The loss depends on the parameters of layer(s) {string.Join(", ", (modulePaths ?? []).Select(p => $"'{p}'"))}, " +
            "but their forward hooks recorded nothing in this step. TorchSharp runs hooks only through module.call(x): " +
            "make the parent call child.call(x) instead of child.forward(x), and run the forward between BeginStep() and ClipAndSum().")
    {
        ModulePaths = modulePaths ?? [];
    }

    /// <summary>Paths of the layers that recorded nothing although the loss depends on them.</summary>
    public IReadOnlyList<string> ModulePaths { get; }
}
