namespace DiffPriv.Validation;

/// <summary>The model cannot be trained with DP-SGD as it is; <see cref="Problems"/> says why and how to fix it.</summary>
public sealed class InvalidModuleException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="problems">The problems found (at least one).</param>
    public InvalidModuleException(IReadOnlyList<ModuleProblem> problems)
        : base("The model cannot be trained privately:" + Environment.NewLine +
               string.Join(Environment.NewLine, (problems ?? []).Select(p => "  - " + p)))
    {
        Problems = problems ?? [];
    }

    /// <summary>Everything that must change.</summary>
    public IReadOnlyList<ModuleProblem> Problems { get; }
}
