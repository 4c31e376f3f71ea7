namespace DiffPriv.Validation;

/// <summary>One reason a model cannot be trained privately as it is.</summary>
/// <param name="ModulePath">The module's path in the model (empty for the root).</param>
/// <param name="ModuleType">Its type name.</param>
/// <param name="Problem">What is wrong.</param>
/// <param name="Fix">What to do about it.</param>
public sealed record ModuleProblem(string ModulePath, string ModuleType, string Problem, string Fix)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{(ModulePath.Length == 0 ? "(root)" : ModulePath)} [{ModuleType}]: {Problem} Fix: {Fix}";
}
